/**
 * What an operator sees of the real server process: the access log (parsed line by line)
 * and Prometheus metrics (scraped and parsed).
 */
import assert from "node:assert/strict";
import { digestOf } from "../lib/digest.ts";
import { BLOB_BATCH_CONTENT_TYPE, encodeFrames } from "../lib/wire/blob_batch.ts";
import { type RunningPpserver, startPpserver } from "./_servers/ppserver.ts";
import { fileAt } from "./file_fixture.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (comments skipped). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/);
    assert.ok(match, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = value;
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

function sum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

/** The JSON log lines the server wrote so far. */
function jsonLines(server: RunningPpserver): Record<string, unknown>[] {
  return server.output().split("\n").filter((line) => line.startsWith("{")).map((line) =>
    JSON.parse(line)
  );
}

async function waitFor<T>(find: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

async function send(url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return response;
}

Deno.test("the access log has one JSON line per request: route, status, bytes, duration, key id, never the key", async () => {
  await using server = await startPpserver({ env: { PUTPLACE_LOG_FORMAT: "json" } });
  const key = server.adminKey;
  const keys = await fetch(`${server.url}/api_keys`, { headers: { "x-api-key": key } });
  const [admin] = await keys.json();
  const content = "logged bytes\n".repeat(100);
  const digest = digestOf(content);
  await send(`${server.url}/health`);
  const put = await send(`${server.url}/v1/blobs/${digest}`, {
    method: "PUT",
    headers: { "x-api-key": key, "content-type": "application/octet-stream" },
    body: content,
  });
  assert.ok(put.ok);
  const get = await send(`${server.url}/v1/blobs/${digest}`, { headers: { "x-api-key": key } });
  assert.equal(get.status, 200);
  await send(`${server.url}/no/such/route?secret=1`);

  const requests = await waitFor(() => {
    const lines = jsonLines(server).filter((line) => line.msg === "request");
    return lines.length >= 5 ? lines : undefined;
  }, "five access log lines");
  for (const line of requests) {
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(line.level, "info");
    assert.equal(typeof line.duration_ms, "number");
    assert.equal(typeof line.bytes_in, "number");
    assert.equal(typeof line.bytes_out, "number");
  }
  const upload = requests.find((line) => line.method === "PUT");
  assert.equal(upload?.route, "/v1/blobs/:digest");
  assert.equal(upload?.path, `/v1/blobs/${digest}`);
  assert.equal(upload?.bytes_in, content.length);
  assert.equal(upload?.key_id, admin._id);
  assert.ok(upload && [200, 201].includes(Number(upload.status)));
  const download = requests.find((line) => line.method === "GET" && line.path === upload?.path);
  assert.equal(download?.status, 200);
  assert.equal(download?.bytes_out, content.length);
  const health = requests.find((line) => line.path === "/health");
  assert.equal(health?.route, "/health");
  assert.equal(health?.key_id, null);
  const unmatched = requests.find((line) => line.path === "/no/such/route");
  assert.equal(unmatched?.status, 404);
  assert.equal(unmatched?.route, null);
  const logged = server.output().split("\n").filter((line) => line.startsWith("{")).join("\n");
  assert.ok(!logged.includes(key), "the key never appears in a log line");
  assert.ok(!logged.includes("secret=1"), "query strings are not logged");
});

Deno.test("--log-format text prints one readable line per request; --log-level warn leaves them out", async () => {
  {
    await using server = await startPpserver({ args: ["--log-format", "text"] });
    await send(`${server.url}/health`);
    const line = await waitFor(
      () => server.output().split("\n").find((l) => l.includes(" GET /health 200")),
      "a text access line",
    );
    assert.match(line, /^\d{4}-\d\d-\d\dT\S+Z INFO {2}GET \/health 200 route=\/health bytes_in=0 /);
    assert.match(line, / duration_ms=\d/);
  }
  {
    await using server = await startPpserver({
      args: ["--log-format", "json", "--log-level", "warn"],
    });
    await send(`${server.url}/health`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(jsonLines(server).filter((line) => line.msg === "request").length, 0);
  }
});

Deno.test("/metrics needs an admin key and counts requests, latency, bytes, blobs stored and deduplicated, group commits", async () => {
  await using server = await startPpserver();
  const key = server.adminKey;
  assert.equal((await send(`${server.url}/metrics`)).status, 401);
  const created = await fetch(`${server.url}/api_keys`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: JSON.stringify({ name: "reader", scope: "read" }),
  });
  const reader = (await created.json()).api_key;
  assert.equal(
    (await send(`${server.url}/metrics`, { headers: { "x-api-key": reader } })).status,
    403,
  );

  const content = "metered bytes\n".repeat(50);
  const digest = digestOf(content);
  const put = (body: string) =>
    send(`${server.url}/v1/blobs/${digestOf(body)}`, {
      method: "PUT",
      headers: { "x-api-key": key, "content-type": "application/octet-stream" },
      body,
    });
  await put(content);
  await put(content);
  const small = Array.from({ length: 5 }, (_, i) => {
    const bytes = new TextEncoder().encode(`small ${i}`);
    return { digest: digestOf(bytes), bytes };
  });
  const batch = await send(`${server.url}/v1/blobs/batch`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": BLOB_BATCH_CONTENT_TYPE },
    body: encodeFrames(small),
  });
  assert.equal(batch.status, 200);
  await send(`${server.url}/v1/blobs/${digest}`, { headers: { "x-api-key": key } });
  const registered = await send(`${server.url}/put_file`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: JSON.stringify(fileAt("host-m", "/srv/m.txt", content)),
  });
  assert.equal(registered.status, 201);

  const scrape = await fetch(`${server.url}/metrics`, { headers: { "x-api-key": key } });
  assert.equal(scrape.status, 200);
  assert.match(scrape.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const samples = parseMetrics(await scrape.text());
  const putLabels = { method: "PUT", route: "/v1/blobs/:digest" };
  assert.equal(sum(samples, "putplace_http_requests_total", putLabels), 2);
  assert.equal(sum(samples, "putplace_http_request_duration_seconds_count", putLabels), 2);
  assert.ok(sum(samples, "putplace_http_request_duration_seconds_sum", putLabels) > 0);
  assert.equal(
    sum(samples, "putplace_http_requests_total", { route: "/metrics", status: "401" }),
    1,
  );
  assert.equal(
    sum(samples, "putplace_http_request_bytes_total", { route: "/v1/blobs/:digest" }),
    2 * content.length,
  );
  assert.equal(
    sum(samples, "putplace_http_response_bytes_total", { route: "/v1/blobs/:digest" }) >=
      content.length,
    true,
  );
  assert.equal(sum(samples, "putplace_blobs_total", { outcome: "stored" }), 6);
  assert.equal(sum(samples, "putplace_blobs_total", { outcome: "deduplicated" }), 1);
  assert.equal(
    sum(samples, "putplace_blob_bytes_total", { outcome: "deduplicated" }),
    content.length,
  );
  assert.ok(sum(samples, "putplace_group_commit_batch_size_count", { store: "packs" }) >= 1);
  assert.ok(sum(samples, "putplace_group_commit_batch_size_count", { store: "sqlite" }) >= 1);
  assert.equal(sum(samples, "putplace_store_errors_total"), 0);
  assert.equal(sum(samples, "putplace_uploads_in_flight"), 0);
  assert.equal(sum(samples, "putplace_http_requests_in_flight"), 1, "the scrape itself");
});

Deno.test("PUTPLACE_METRICS_LISTEN serves /metrics without a key on its own address", async () => {
  await using server = await startPpserver({ env: { PUTPLACE_METRICS_LISTEN: "127.0.0.1:0" } });
  const metricsUrl = server.output().match(/metrics on (http:\/\/\S+\/metrics)/)?.[1];
  assert.ok(metricsUrl, server.output());
  await send(`${server.url}/health`);
  const scrape = await fetch(metricsUrl);
  assert.equal(scrape.status, 200);
  const samples = parseMetrics(await scrape.text());
  assert.equal(sum(samples, "putplace_http_requests_total", { route: "/health" }), 1);
  const other = await fetch(metricsUrl.replace(/\/metrics$/, "/health"));
  await other.body?.cancel();
  assert.equal(other.status, 404, "nothing else is served there");
  assert.equal(
    (await send(`${server.url}/metrics`)).status,
    401,
    "the main port still wants a key",
  );
});
