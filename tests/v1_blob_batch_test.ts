/** `POST /v1/blobs/batch` on the real app: many small blobs, verified and durable together. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { appFixture, bytesOf, json, problem } from "./app_fixture.ts";
import { digestOf, EMPTY_DIGEST } from "../lib/digest.ts";
import { BLOB_BATCH_CONTENT_TYPE, encodeFrames } from "../lib/wire/blob_batch.ts";

const encoder = new TextEncoder();

function blob(text: string | Uint8Array<ArrayBuffer>) {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  return { digest: digestOf(bytes), bytes };
}

function batch(
  body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": BLOB_BATCH_CONTENT_TYPE, ...headers },
    body,
  };
}

Deno.test("POST /v1/blobs/batch stores 200 small blobs, each readable when the answer comes, in one pack", async () => {
  await using f = await appFixture();
  const blobs = Array.from({ length: 200 }, (_, i) => blob(bytesOf(100 + i * 37, i + 1)));
  const response = await f.request("/v1/blobs/batch", batch(encodeFrames(blobs)));
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.results.length, 200);
  assert.deepEqual(body.counts, {
    stored: 200,
    already_stored: 0,
    digest_mismatch: 0,
    too_large: 0,
    failed: 0,
  });
  for (const [i, result] of body.results.entries()) {
    assert.deepEqual(result, {
      index: i,
      digest: blobs[i].digest,
      size: blobs[i].bytes.byteLength,
      outcome: "stored",
    });
    const got = await f.request(`/v1/blobs/${blobs[i].digest}`);
    assert.equal(got.status, 200);
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), blobs[i].bytes);
  }
  const missing = await f.request(
    "/v1/blobs/missing",
    json({ blobs: blobs.map((b) => ({ digest: b.digest, size: b.bytes.byteLength })) }),
  );
  assert.deepEqual(await missing.json(), { missing: [] });
  const packs = [...Deno.readDirSync(join(f.dir, "blobs", "packs"))].map((e) => e.name);
  assert.equal(packs.filter((name) => name.endsWith(".pack")).length, 1);
});

Deno.test("POST /v1/blobs/batch answers each blob: stored, already stored, digest mismatch, too large", async () => {
  await using f = await appFixture({ limits: { maxBlobBatchBlobBytes: 1000 } });
  const old = blob("already here");
  await f.request(`/v1/blobs/${old.digest}`, { method: "PUT", body: old.bytes });
  const fresh = blob("fresh bytes");
  const liar = { digest: digestOf("what it claims"), bytes: encoder.encode("what it is") };
  const big = blob(bytesOf(1001, 9));
  const empty = blob("");
  const response = await f.request(
    "/v1/blobs/batch",
    batch(encodeFrames([fresh, old, liar, big, empty, fresh])),
  );
  assert.equal(response.status, 200);
  const { results, counts } = await response.json();
  assert.deepEqual(results.map((r: { outcome: string }) => r.outcome).slice(1, 5), [
    "already_stored",
    "digest_mismatch",
    "too_large",
    "already_stored",
  ]);
  assert.deepEqual(
    [results[0].outcome, results[5].outcome].sort(),
    ["already_stored", "stored"],
    "a digest repeated in one batch is stored once; both copies succeed",
  );
  assert.equal(counts.digest_mismatch, 1);
  assert.equal(counts.too_large, 1);
  assert.match(results[2].message, /bytes hash to/);
  assert.match(results[3].message, /over the batch cap of 1000 bytes/);
  assert.equal(results[4].digest, EMPTY_DIGEST);
  assert.equal(await f.stores.blobs.has(liar.digest), false, "a mismatch never becomes visible");
  assert.equal(await f.stores.metadata.blobs.has(big.digest), false);
  assert.equal(await f.stores.metadata.blobs.has(fresh.digest), true);
});

Deno.test("POST /v1/blobs/batch reads a streamed body in small chunks", async () => {
  await using f = await appFixture();
  const blobs = Array.from({ length: 30 }, (_, i) => blob(`streamed blob ${i}\n`.repeat(i + 1)));
  const encoded = encodeFrames(blobs);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < encoded.byteLength; i += 13) controller.enqueue(encoded.slice(i, i + 13));
      controller.close();
    },
  });
  const response = await f.request("/v1/blobs/batch", batch(body));
  assert.equal(response.status, 200);
  assert.equal((await response.json()).counts.stored, 30);
});

Deno.test("POST /v1/blobs/batch with an empty body stores nothing and answers 200", async () => {
  await using f = await appFixture();
  const response = await f.request("/v1/blobs/batch", batch(new Uint8Array(0)));
  assert.equal(response.status, 200);
  assert.deepEqual((await response.json()).results, []);
});

Deno.test("POST /v1/blobs/batch refuses another content type with 400", async () => {
  await using f = await appFixture();
  const body = await problem(
    await f.request("/v1/blobs/batch", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: encodeFrames([blob("x")]),
    }),
    400,
  );
  assert.match(body.detail, /application\/vnd\.putplace\.blob-batch/);
});

Deno.test("POST /v1/blobs/batch refuses broken framing with 400 and stores none of its blobs", async () => {
  await using f = await appFixture();
  const good = blob("good one");
  const framed = new Uint8Array([
    ...encodeFrames([good]),
    ...encoder.encode("this is not a header\n"),
  ]);
  const body = await problem(await f.request("/v1/blobs/batch", batch(framed)), 400);
  assert.match(body.detail, /Malformed blob batch: frame 1/);
  assert.equal(await f.stores.metadata.blobs.has(good.digest), false);
  assert.equal(await f.stores.blobs.has(good.digest), false);
  const truncated = encodeFrames([blob("cut short")]).subarray(0, 70);
  await problem(await f.request("/v1/blobs/batch", batch(truncated)), 400);
  assert.deepEqual(f.internalErrors, []);
});

Deno.test("POST /v1/blobs/batch refuses a body over the request cap with 413, by header or by stream", async () => {
  await using f = await appFixture({ limits: { maxBlobBatchBytes: 2000 } });
  const blobs = Array.from({ length: 5 }, (_, i) => blob(bytesOf(500, i + 1)));
  const encoded = encodeFrames(blobs);
  await problem(await f.request("/v1/blobs/batch", batch(encoded)), 413);
  const streamed = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoded);
      controller.close();
    },
  });
  await problem(await f.request("/v1/blobs/batch", batch(streamed)), 413);
});

Deno.test("POST /v1/blobs/batch refuses more blobs than the count cap with 413", async () => {
  await using f = await appFixture({ limits: { maxBlobBatchCount: 3 } });
  const blobs = Array.from({ length: 4 }, (_, i) => blob(`n${i}`));
  await problem(await f.request("/v1/blobs/batch", batch(encodeFrames(blobs))), 413);
  const ok = await f.request("/v1/blobs/batch", batch(encodeFrames(blobs.slice(0, 3))));
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
});

Deno.test("POST /v1/blobs/batch needs a write key", async () => {
  await using f = await appFixture();
  const body = encodeFrames([blob("x")]);
  await problem(await f.app.request("/v1/blobs/batch", batch(body)), 401);
  await problem(
    await f.request("/v1/blobs/batch", batch(body, { "x-api-key": f.keys.read })),
    403,
  );
});
