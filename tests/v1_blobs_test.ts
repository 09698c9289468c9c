/**
 * /v1 blob routes on the real app: the missing-blob query, raw PUT, and downloads with
 * Range, ETag / If-None-Match and HEAD (in-process and over a real socket).
 */
import assert from "node:assert/strict";
import { appFixture, bytesOf, json, problem } from "./app_fixture.ts";
import { digestOf, EMPTY_DIGEST } from "../lib/digest.ts";

const CONTENT = "0123456789abcdefghij"; // 20 bytes
const DIGEST = digestOf(CONTENT);

async function withBlob() {
  const f = await appFixture();
  const put = await f.request(`/v1/blobs/${DIGEST}`, { method: "PUT", body: CONTENT });
  assert.equal(put.status, 201);
  await put.body?.cancel();
  return f;
}

function read(f: { keys: { read: string } }, headers: Record<string, string> = {}): RequestInit {
  return { headers: { "x-api-key": f.keys.read, ...headers } };
}

// ---- missing-blob query ----

Deno.test("POST /v1/blobs/missing answers the digests not stored, each once, in order", async () => {
  await using f = await withBlob();
  const a = digestOf("a");
  const b = digestOf("b");
  const response = await f.request(
    "/v1/blobs/missing",
    json({
      blobs: [
        { digest: b, size: 1 },
        { digest: DIGEST, size: 20 },
        { digest: a, size: 1 },
        { digest: b, size: 1 },
        { digest: EMPTY_DIGEST, size: 0 },
      ],
    }, { headers: { "x-api-key": f.keys.read } }),
  );
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { missing: [b, a] });
});

Deno.test("POST /v1/blobs/missing takes 10,000 digests and refuses 10,001 with 413", async () => {
  await using f = await appFixture();
  const blobs = Array.from({ length: 10_001 }, (_, i) => ({ digest: digestOf(`${i}`), size: 1 }));
  const ok = await f.request("/v1/blobs/missing", json({ blobs: blobs.slice(0, 10_000) }));
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).missing.length, 10_000);
  await problem(await f.request("/v1/blobs/missing", json({ blobs })), 413);
});

Deno.test("POST /v1/blobs/missing refuses malformed digests, sizes and envelopes with 422", async () => {
  await using f = await appFixture();
  for (
    const body of [
      { blobs: [{ digest: "abc", size: 1 }] },
      { blobs: [{ digest: DIGEST.toUpperCase(), size: 1 }] },
      { blobs: [{ digest: DIGEST, size: -1 }] },
      { blobs: [{ digest: DIGEST }] },
      { digests: [DIGEST] },
    ]
  ) {
    await problem(await f.request("/v1/blobs/missing", json(body)), 422);
  }
  await problem(await f.app.request("/v1/blobs/missing", json({ blobs: [] })), 401);
});

// ---- raw PUT ----

Deno.test("PUT /v1/blobs/{digest} stores streamed bytes with 201, then answers 200 already stored", async () => {
  await using f = await appFixture();
  const bytes = bytesOf(300_000, 7);
  const digest = digestOf(bytes);
  const stream = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.byteLength; i += 65_536) {
          controller.enqueue(bytes.slice(i, i + 65_536));
        }
        controller.close();
      },
    });
  const first = await f.request(`/v1/blobs/${digest}`, { method: "PUT", body: stream() });
  assert.equal(first.status, 201);
  assert.deepEqual(await first.json(), { digest, size: bytes.byteLength, status: "stored" });
  const again = await f.request(`/v1/blobs/${digest}`, { method: "PUT", body: stream() });
  assert.equal(again.status, 200);
  assert.equal((await again.json()).status, "already_stored");
  assert.equal(await f.stores.metadata.blobs.has(digest), true);
  const stored = await f.stores.blobs.get(digest);
  assert.deepEqual(new Uint8Array(await new Response(stored?.body).arrayBuffer()), bytes);
});

Deno.test("PUT /v1/blobs/{digest} records the oldest registered file of the digest as its epoch file", async () => {
  await using f = await appFixture();
  const batch = await f.request(
    "/v1/files/batch",
    json({
      files: [{
        hostname: "h",
        filepath: "/first",
        sha256: DIGEST,
        file_size: 20,
      }],
    }),
  );
  const [{ _id }] = (await batch.json()).results;
  await f.request(`/v1/blobs/${DIGEST}`, { method: "PUT", body: CONTENT });
  assert.equal((await f.stores.metadata.blobs.get(DIGEST))?.epoch_file_id, _id);
});

Deno.test("PUT /v1/blobs/{digest} refuses bytes that do not hash to the digest with 400 and stores nothing", async () => {
  await using f = await appFixture();
  const body = await problem(
    await f.request(`/v1/blobs/${DIGEST}`, { method: "PUT", body: "not the content" }),
    400,
  );
  assert.match(body.detail, /bytes hash to/);
  assert.equal(await f.stores.blobs.has(DIGEST), false);
  assert.equal(await f.stores.metadata.blobs.has(DIGEST), false);
});

Deno.test("PUT /v1/blobs/{digest} refuses a malformed digest with 400, a read key with 403", async () => {
  await using f = await appFixture();
  await problem(await f.request("/v1/blobs/xyz", { method: "PUT", body: "x" }), 400);
  await problem(
    await f.request(`/v1/blobs/${DIGEST}`, { method: "PUT", body: CONTENT, ...read(f) }),
    403,
  );
});

Deno.test("PUT /v1/blobs/{digest} refuses a body over the upload cap with 413", async () => {
  await using f = await appFixture({ limits: { maxUploadBytes: 10 } });
  await problem(await f.request(`/v1/blobs/${DIGEST}`, { method: "PUT", body: CONTENT }), 413);
  assert.equal(await f.stores.blobs.has(DIGEST), false);
});

Deno.test("PUT /v1/blobs/{digest} over a socket refuses a body shorter than its Content-Length", async () => {
  await using f = await appFixture();
  await using server = await f.serve();
  const { port } = new URL(server.url);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  const head = `PUT /v1/blobs/${DIGEST} HTTP/1.1\r\nhost: x\r\nx-api-key: ${f.keys.write}\r\n` +
    `content-length: 20\r\n\r\n${CONTENT.slice(0, 12)}`;
  await conn.write(new TextEncoder().encode(head));
  conn.closeWrite();
  // Half-closed: the server sees the body end early and can still answer.
  const reply = await new Response(conn.readable).text();
  assert.match(reply, /^HTTP\/1\.1 400 /);
  assert.match(reply, /application\/problem\+json/);
  assert.deepEqual(f.internalErrors, []);
  assert.equal(await f.stores.blobs.has(DIGEST), false);
  assert.equal(await f.stores.metadata.blobs.has(DIGEST), false);
});

// ---- downloads ----

Deno.test("GET /v1/blobs/{digest} streams the whole blob with ETag, Accept-Ranges and Content-Length", async () => {
  await using f = await withBlob();
  const response = await f.request(`/v1/blobs/${DIGEST}`, read(f));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("etag"), `"${DIGEST}"`);
  assert.equal(response.headers.get("accept-ranges"), "bytes");
  assert.equal(response.headers.get("content-length"), "20");
  assert.equal(response.headers.get("content-type"), "application/octet-stream");
  assert.equal(await response.text(), CONTENT);
});

Deno.test("GET /v1/blobs/{digest} serves bytes=a-b, a- and -n as 206 with Content-Range", async () => {
  await using f = await withBlob();
  const cases: [string, string, string][] = [
    ["bytes=0-0", "0", "bytes 0-0/20"],
    ["bytes=5-9", "56789", "bytes 5-9/20"],
    ["bytes=15-", "fghij", "bytes 15-19/20"],
    ["bytes=-3", "hij", "bytes 17-19/20"],
    ["bytes=18-1000", "ij", "bytes 18-19/20"],
    ["bytes=-1000", CONTENT, "bytes 0-19/20"],
    ["bytes=19-19", "j", "bytes 19-19/20"],
  ];
  for (const [range, body, contentRange] of cases) {
    const response = await f.request(`/v1/blobs/${DIGEST}`, read(f, { range }));
    assert.equal(response.status, 206, range);
    assert.equal(response.headers.get("content-range"), contentRange, range);
    assert.equal(response.headers.get("content-length"), String(body.length), range);
    assert.equal(response.headers.get("etag"), `"${DIGEST}"`);
    assert.equal(await response.text(), body, range);
  }
});

Deno.test("GET /v1/blobs/{digest} answers an unsatisfiable range with 416 and Content-Range bytes */size", async () => {
  await using f = await withBlob();
  for (const range of ["bytes=20-", "bytes=20-25", "bytes=100-200", "bytes=-0"]) {
    const response = await f.request(`/v1/blobs/${DIGEST}`, read(f, { range }));
    await problem(response, 416);
    assert.equal(response.headers.get("content-range"), "bytes */20", range);
  }
});

Deno.test("GET /v1/blobs/{digest} ignores malformed and multi-range headers and serves 200", async () => {
  await using f = await withBlob();
  for (const range of ["bytes=9-3", "bytes=0-1,5-6", "items=0-3", "bytes=x-"]) {
    const response = await f.request(`/v1/blobs/${DIGEST}`, read(f, { range }));
    assert.equal(response.status, 200, range);
    assert.equal(await response.text(), CONTENT);
  }
});

Deno.test("GET /v1/blobs/{digest} honours If-Range only with the blob's ETag", async () => {
  await using f = await withBlob();
  const matching = await f.request(
    `/v1/blobs/${DIGEST}`,
    read(f, { range: "bytes=0-1", "if-range": `"${DIGEST}"` }),
  );
  assert.equal(matching.status, 206);
  assert.equal(await matching.text(), "01");
  const stale = await f.request(
    `/v1/blobs/${DIGEST}`,
    read(f, { range: "bytes=0-1", "if-range": `"${digestOf("other")}"` }),
  );
  assert.equal(stale.status, 200);
  assert.equal(await stale.text(), CONTENT);
});

Deno.test("GET /v1/blobs/{digest} answers 304 without a body when If-None-Match holds the ETag", async () => {
  await using f = await withBlob();
  for (const tag of [`"${DIGEST}"`, `W/"${DIGEST}"`, `"other", "${DIGEST}"`, "*"]) {
    const response = await f.request(`/v1/blobs/${DIGEST}`, read(f, { "if-none-match": tag }));
    assert.equal(response.status, 304, tag);
    assert.equal(response.headers.get("etag"), `"${DIGEST}"`);
    assert.equal(await response.text(), "");
  }
  const miss = await f.request(`/v1/blobs/${DIGEST}`, read(f, { "if-none-match": '"nope"' }));
  assert.equal(miss.status, 200);
  await miss.body?.cancel();
});

Deno.test("HEAD /v1/blobs/{digest} gives the headers of GET without a body", async () => {
  await using f = await withBlob();
  const whole = await f.request(`/v1/blobs/${DIGEST}`, { method: "HEAD", ...read(f) });
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get("content-length"), "20");
  assert.equal(whole.headers.get("etag"), `"${DIGEST}"`);
  assert.equal(await whole.text(), "");
  const part = await f.request(`/v1/blobs/${DIGEST}`, {
    method: "HEAD",
    ...read(f, { range: "bytes=2-4" }),
  });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("content-range"), "bytes 2-4/20");
  assert.equal(part.headers.get("content-length"), "3");
  const missing = await f.request(`/v1/blobs/${digestOf("nope")}`, { method: "HEAD", ...read(f) });
  assert.equal(missing.status, 404);
});

Deno.test("GET /v1/blobs/{digest} serves the empty blob without it being uploaded; ranges on it are 416", async () => {
  await using f = await appFixture();
  const response = await f.request(`/v1/blobs/${EMPTY_DIGEST}`, read(f));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-length"), "0");
  assert.equal(await response.text(), "");
  const ranged = await f.request(`/v1/blobs/${EMPTY_DIGEST}`, read(f, { range: "bytes=0-" }));
  await problem(ranged, 416);
  assert.equal(ranged.headers.get("content-range"), "bytes */0");
});

Deno.test("GET /v1/blobs/{digest} is 404 for a blob not stored and 400 for a malformed digest", async () => {
  await using f = await appFixture();
  await problem(await f.request(`/v1/blobs/${DIGEST}`, read(f)), 404);
  await problem(await f.request(`/v1/blobs/${DIGEST.slice(1)}`, read(f)), 400);
  await problem(await f.app.request(`/v1/blobs/${DIGEST}`), 401);
});

Deno.test("GET and HEAD /v1/blobs/{digest} over a real socket: ranges, HEAD headers, a large blob streamed", async () => {
  await using f = await appFixture();
  const bytes = bytesOf(3 * 1024 * 1024 + 17, 3);
  const digest = digestOf(bytes);
  assert.equal(
    (await f.request(`/v1/blobs/${digest}`, { method: "PUT", body: bytes })).status,
    201,
  );
  await using server = await f.serve();
  const headers = { "x-api-key": f.keys.read };
  const whole = await fetch(`${server.url}/v1/blobs/${digest}`, { headers });
  assert.equal(whole.status, 200);
  assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), bytes);
  const head = await fetch(`${server.url}/v1/blobs/${digest}`, { method: "HEAD", headers });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(bytes.byteLength));
  assert.equal(head.headers.get("etag"), `"${digest}"`);
  await head.body?.cancel();
  const tail = await fetch(`${server.url}/v1/blobs/${digest}`, {
    headers: { ...headers, range: "bytes=-100000" },
  });
  assert.equal(tail.status, 206);
  assert.deepEqual(
    new Uint8Array(await tail.arrayBuffer()),
    bytes.subarray(bytes.byteLength - 100_000),
  );
  const middle = await fetch(`${server.url}/v1/blobs/${digest}`, {
    headers: { ...headers, range: "bytes=1048570-2097160" },
  });
  assert.equal(middle.status, 206);
  assert.equal(middle.headers.get("content-range"), `bytes 1048570-2097160/${bytes.byteLength}`);
  assert.deepEqual(new Uint8Array(await middle.arrayBuffer()), bytes.subarray(1048570, 2097161));
  // A download abandoned part way leaves the server healthy.
  const abandoned = await fetch(`${server.url}/v1/blobs/${digest}`, { headers });
  const reader = abandoned.body!.getReader();
  await reader.read();
  await reader.cancel();
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
  assert.deepEqual(f.internalErrors, []);
});
