/** Rate limits per API key, through the real server process. */
import assert from "node:assert/strict";
import { digestOf } from "../lib/digest.ts";
import { startPpserver } from "./_servers/ppserver.ts";

async function status(url: string, key: string): Promise<Response> {
  const response = await fetch(`${url}/api_keys`, { headers: { "x-api-key": key } });
  await response.body?.cancel();
  return response;
}

Deno.test("over its requests a second a key gets 429 with Retry-After; another key is not affected", async () => {
  await using server = await startPpserver({ env: { PUTPLACE_RATE_LIMIT_REQUESTS: "5" } });
  const created = await fetch(`${server.url}/api_keys`, {
    method: "POST",
    headers: { "x-api-key": server.adminKey, "content-type": "application/json" },
    body: JSON.stringify({ name: "other", scope: "admin" }),
  });
  const other = (await created.json()).api_key;
  const answers = await Promise.all(
    Array.from(
      { length: 30 },
      () => fetch(`${server.url}/health`, { headers: { "x-api-key": server.adminKey } }),
    ),
  );
  const limited = answers.filter((r) => r.status === 429);
  assert.ok(limited.length >= 15, `a burst of 30 is cut to about 10: ${limited.length} refused`);
  assert.ok(answers.filter((r) => r.status === 200).length >= 5);
  const first = limited[0];
  assert.match(first.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
  assert.equal(first.headers.get("content-type"), "application/problem+json");
  const problem = await first.json();
  assert.equal(problem.status, 429);
  assert.match(problem.detail, /over its limit of 5 requests a second/);
  for (const r of answers) await r.body?.cancel().catch(() => {});
  assert.equal((await status(server.url, other)).status, 200, "another key has its own bucket");
  await new Promise((resolve) =>
    setTimeout(resolve, 1000 * Number(first.headers.get("retry-after")))
  );
  assert.equal(
    (await status(server.url, server.adminKey)).status,
    200,
    "after Retry-After it works",
  );
});

Deno.test("an upload over its bytes a second is paced, not refused, and stored whole", async () => {
  await using server = await startPpserver({ env: { PUTPLACE_RATE_LIMIT_BYTES: "200000" } });
  const bytes = new Uint8Array(600_000).map((_, i) => i % 251);
  const digest = digestOf(bytes);
  const started = performance.now();
  const put = await fetch(`${server.url}/v1/blobs/${digest}`, {
    method: "PUT",
    headers: { "x-api-key": server.adminKey, "content-type": "application/octet-stream" },
    body: bytes,
  });
  const seconds = (performance.now() - started) / 1000;
  assert.ok(put.ok, `stored: ${put.status}`);
  await put.body?.cancel();
  // 600 kB at 200 kB/s with one second's burst: at least 2 s.
  assert.ok(seconds >= 1.8, `paced: took ${seconds.toFixed(2)} s`);
  const got = await fetch(`${server.url}/v1/blobs/${digest}`, {
    headers: { "x-api-key": server.adminKey },
  });
  assert.deepEqual(new Uint8Array(await got.arrayBuffer()), bytes);
});
