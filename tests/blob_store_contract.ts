/**
 * The conformance suite every `BlobStore` adapter passes (DESIGN.md section 4).
 *
 * An adapter's test file calls `blobStoreContract(name, open)` once. `open` makes a fresh,
 * empty store for one test case (a temp directory, a new bucket or key prefix on a real
 * server) and returns it with a disposer that closes the store and removes what it made.
 * When the store's server is unavailable, pass `{ ignore: "why" }`: every case is then
 * registered as ignored with that reason, so the run reports it instead of passing silently.
 *
 * For a store on a real server (S3 on moto), start the server once at module level and let
 * `open` make a fresh bucket (or key prefix) and its disposer empty and remove it:
 *
 * ```ts
 * const s3 = s3IgnoreReason() ? null : await startS3();
 * blobStoreContract("s3 blob store", async () => {
 *   const bucket = `contract-${crypto.randomUUID()}`;
 *   const store = await openBlobStore({ kind: "s3", endpoint: s3!.url, bucket, ... });
 *   return { store, async [Symbol.asyncDispose]() { await store[Symbol.asyncDispose](); ... } };
 * }, { ignore: s3IgnoreReason() });
 * ```
 */
import assert from "node:assert/strict";
import type { BlobStore, StoredBlob } from "../lib/blob_store/mod.ts";
import { type Digest, digestOf, DigestWriter, EMPTY_DIGEST } from "../lib/digest.ts";
import { AppError, type ErrorCode } from "../lib/errors.ts";

/** One fresh store for one test case. Disposing it closes the store and cleans up. */
export interface BlobStoreFixture extends AsyncDisposable {
  store: BlobStore;
}

export interface BlobStoreContractOptions {
  /** Why the suite cannot run here; every case is then registered as ignored. */
  ignore?: string;
  /** Size of the large blob case (default 9 MiB, enough to span many chunks and parts). */
  largeBlobBytes?: number;
}

export function blobStoreContract(
  name: string,
  open: () => Promise<BlobStoreFixture>,
  options: BlobStoreContractOptions = {},
): void {
  const largeBlobBytes = options.largeBlobBytes ?? 9 * 1024 * 1024;
  const test = (spec: string, fn: (store: BlobStore) => Promise<void>) =>
    Deno.test({
      name: options.ignore ? `${name}: ${spec} (${options.ignore})` : `${name}: ${spec}`,
      ignore: options.ignore !== undefined,
      async fn() {
        await using fixture = await open();
        await fn(fixture.store);
      },
    });

  const hello = bytesOf("hello, blob store\n");
  const helloDigest = digestOf(hello);
  const other = bytesOf("other bytes entirely\n");

  test("has() is false and get() is null for a digest never stored", async (store) => {
    assert.equal(await store.has(helloDigest), false);
    assert.equal(await store.get(helloDigest), null);
  });

  test("put() stores a blob that has() and get() then see", async (store) => {
    const result = await store.put(helloDigest, hello.byteLength, streamOf(hello));
    assert.deepEqual(result, { created: true, size: hello.byteLength });
    assert.equal(await store.has(helloDigest), true);
    const blob = await store.get(helloDigest);
    assert.ok(blob);
    assert.equal(blob.size, hello.byteLength);
    assert.deepEqual(blob.range, { start: 0, end: hello.byteLength - 1 });
    assert.deepEqual(await readAll(blob.body), hello);
  });

  test("put() without a declared size stores the blob", async (store) => {
    const result = await store.put(helloDigest, undefined, streamOf(hello));
    assert.deepEqual(result, { created: true, size: hello.byteLength });
    assert.deepEqual(await readBlob(store, helloDigest), hello);
  });

  test("put() takes chunks of any shape: views into larger buffers, empty chunks, single bytes", async (store) => {
    const backing = new Uint8Array(hello.byteLength + 20).fill(0xee);
    backing.set(hello, 10);
    const view = backing.subarray(10, 10 + hello.byteLength);
    const chunks = [
      view.subarray(0, 3),
      new Uint8Array(0),
      ...Array.from(view.subarray(3, 7), (byte) => Uint8Array.of(byte)),
      new Uint8Array(0),
      view.subarray(7),
    ];
    await store.put(helloDigest, hello.byteLength, streamOf(...chunks));
    assert.deepEqual(await readBlob(store, helloDigest), hello);
  });

  test("put() is idempotent: a second put of a digest reports created false and keeps the blob", async (store) => {
    assert.equal((await store.put(helloDigest, hello.byteLength, streamOf(hello))).created, true);
    const again = await store.put(helloDigest, hello.byteLength, streamOf(hello));
    assert.deepEqual(again, { created: false, size: hello.byteLength });
    assert.deepEqual(await readBlob(store, helloDigest), hello);
  });

  test("put() rejects bytes that do not match the digest", async (store) => {
    await assertAppError(
      store.put(helloDigest, other.byteLength, streamOf(other)),
      "digest_mismatch",
    );
    await assertAbsent(store, helloDigest);
  });

  test("put() rejects a body shorter than the declared size", async (store) => {
    await assertAppError(
      store.put(helloDigest, hello.byteLength + 1, streamOf(hello)),
      "invalid_input",
    );
    await assertAbsent(store, helloDigest);
  });

  test("put() rejects a body longer than the declared size", async (store) => {
    await assertAppError(
      store.put(helloDigest, hello.byteLength - 1, streamOf(hello)),
      "invalid_input",
    );
    await assertAbsent(store, helloDigest);
  });

  test("put() rejects a body that errors midway, and the digest stays absent", async (store) => {
    await assertAppError(
      store.put(helloDigest, hello.byteLength, failingStream(hello.subarray(0, 5))),
      "invalid_input",
    );
    await assertAbsent(store, helloDigest);
  });

  test("a blob is never visible under a digest unless its bytes hash to it", async (store) => {
    const attempts: [string, number | undefined, () => ReadableStream<Uint8Array>][] = [
      ["other bytes", undefined, () => streamOf(other)],
      ["a prefix", undefined, () => streamOf(hello.subarray(0, 10))],
      ["the bytes and one more", undefined, () => streamOf(hello, Uint8Array.of(0))],
      ["nothing at all", undefined, () => streamOf()],
      ["one flipped byte", hello.byteLength, () => streamOf(flipped(hello, 4))],
      ["a body that fails after all its bytes", hello.byteLength, () => failingStream(hello)],
    ];
    for (const [what, size, body] of attempts) {
      await assert.rejects(store.put(helloDigest, size, body()), AppError, what);
      await assertAbsent(store, helloDigest);
    }
    await store.put(helloDigest, undefined, streamOf(hello));
    const stored = await readBlob(store, helloDigest);
    assert.equal(digestOf(stored), helloDigest);
  });

  test("a failed put of a digest already stored leaves the stored blob intact", async (store) => {
    await store.put(helloDigest, hello.byteLength, streamOf(hello));
    await assertAppError(
      store.put(helloDigest, hello.byteLength, failingStream(hello.subarray(0, 7))),
      "invalid_input",
    );
    await assertAppError(
      store.put(helloDigest, hello.byteLength, streamOf(flipped(hello, 0))),
      "digest_mismatch",
    );
    await assertAppError(
      store.put(helloDigest, hello.byteLength + 3, streamOf(hello)),
      "invalid_input",
    );
    await assertAppError(store.put(helloDigest, undefined, streamOf()), "digest_mismatch");
    assert.equal(await store.has(helloDigest), true);
    assert.deepEqual(await readBlob(store, helloDigest), hello);
  });

  test("concurrent puts of one digest all succeed and leave one correct blob", async (store) => {
    const bytes = patternBytes(300_000, 7);
    const digest = digestOf(bytes);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => store.put(digest, bytes.byteLength, slowStream(bytes))),
    );
    for (const result of results) assert.equal(result.size, bytes.byteLength);
    assert.ok(results.some((r) => r.created), "at least one put reports that it created the blob");
    assert.deepEqual(await readBlob(store, digest), bytes);
    assert.equal((await store.put(digest, bytes.byteLength, streamOf(bytes))).created, false);
  });

  test("concurrent good and hostile puts of one digest: the good succeed, the hostile fail, the blob is correct", async (store) => {
    const bytes = patternBytes(200_000, 3);
    const digest = digestOf(bytes);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        store.put(
          digest,
          bytes.byteLength,
          i % 2 === 0 ? slowStream(bytes) : slowStream(flipped(bytes, 150_000)),
        )),
    );
    outcomes.forEach((outcome, i) => {
      if (i % 2 === 0) assert.equal(outcome.status, "fulfilled", `good put ${i}`);
      else {
        assert.equal(outcome.status, "rejected", `hostile put ${i}`);
        assert.ok(outcome.reason instanceof AppError);
        assert.equal(outcome.reason.code, "digest_mismatch");
      }
    });
    assert.deepEqual(await readBlob(store, digest), bytes);
  });

  test("get() with a start serves from there to the end", async (store) => {
    await store.put(helloDigest, hello.byteLength, streamOf(hello));
    const blob = await getBlob(store, helloDigest, { start: 7 });
    assert.equal(blob.size, hello.byteLength);
    assert.deepEqual(blob.range, { start: 7, end: hello.byteLength - 1 });
    assert.deepEqual(await readAll(blob.body), hello.subarray(7));
  });

  test("get() with start and end serves the inclusive range", async (store) => {
    await store.put(helloDigest, hello.byteLength, streamOf(hello));
    const blob = await getBlob(store, helloDigest, { start: 2, end: 5 });
    assert.deepEqual(blob.range, { start: 2, end: 5 });
    assert.deepEqual(await readAll(blob.body), hello.subarray(2, 6));
    const one = await getBlob(store, helloDigest, { start: 0, end: 0 });
    assert.deepEqual(await readAll(one.body), hello.subarray(0, 1));
    const last = await getBlob(store, helloDigest, { start: hello.byteLength - 1 });
    assert.deepEqual(await readAll(last.body), hello.subarray(hello.byteLength - 1));
  });

  test("get() clamps an end past the blob's end", async (store) => {
    await store.put(helloDigest, hello.byteLength, streamOf(hello));
    const blob = await getBlob(store, helloDigest, { start: 3, end: hello.byteLength + 1000 });
    assert.deepEqual(blob.range, { start: 3, end: hello.byteLength - 1 });
    assert.equal(blob.size, hello.byteLength);
    assert.deepEqual(await readAll(blob.body), hello.subarray(3));
  });

  test("get() rejects a range starting at or past the end with invalid_input", async (store) => {
    await store.put(helloDigest, hello.byteLength, streamOf(hello));
    await assertAppError(store.get(helloDigest, { start: hello.byteLength }), "invalid_input");
    await assertAppError(store.get(helloDigest, { start: hello.byteLength + 50 }), "invalid_input");
  });

  test("get() rejects a range that ends before it starts or starts below zero", async (store) => {
    await store.put(helloDigest, hello.byteLength, streamOf(hello));
    await assertAppError(store.get(helloDigest, { start: 5, end: 4 }), "invalid_input");
    await assertAppError(store.get(helloDigest, { start: -1 }), "invalid_input");
  });

  test("get() of an absent digest is null even when a range is asked for", async (store) => {
    assert.equal(await store.get(helloDigest, { start: 0, end: 1 }), null);
  });

  test("the empty blob is stored and read whole; no range of it is satisfiable", async (store) => {
    assert.deepEqual(await store.put(EMPTY_DIGEST, 0, streamOf()), { created: true, size: 0 });
    assert.equal(await store.has(EMPTY_DIGEST), true);
    const blob = await getBlob(store, EMPTY_DIGEST);
    assert.equal(blob.size, 0);
    assert.equal(blob.range.start, 0);
    assert.equal(blob.range.end, -1);
    assert.equal((await readAll(blob.body)).byteLength, 0);
    await assertAppError(store.get(EMPTY_DIGEST, { start: 0 }), "invalid_input");
    assert.equal((await store.put(EMPTY_DIGEST, undefined, streamOf())).created, false);
  });

  test("a large blob streamed in many chunks round-trips whole and by range", async (store) => {
    const chunkBytes = 64 * 1024 + 3; // odd size: chunk edges fall everywhere
    const expected = await digestOfStream(largeStream(largeBlobBytes, chunkBytes));
    assert.equal(expected.size, largeBlobBytes);
    const result = await store.put(
      expected.digest,
      largeBlobBytes,
      largeStream(largeBlobBytes, chunkBytes),
    );
    assert.deepEqual(result, { created: true, size: largeBlobBytes });

    const whole = await getBlob(store, expected.digest);
    assert.equal(whole.size, largeBlobBytes);
    assert.deepEqual(await digestOfStream(whole.body), expected);

    const start = 3 * 1024 * 1024 - 17;
    const end = 6 * 1024 * 1024 + 5;
    const part = await getBlob(store, expected.digest, { start, end });
    assert.deepEqual(part.range, { start, end });
    const sliced = await digestOfStream(
      largeStream(largeBlobBytes, chunkBytes).pipeThrough(sliceStream(start, end)),
    );
    assert.deepEqual(await digestOfStream(part.body), sliced);
  });

  test("a get() body cancelled after its first chunk releases what it held", async (store) => {
    const bytes = patternBytes(2 * 1024 * 1024, 11);
    const digest = digestOf(bytes);
    await store.put(digest, bytes.byteLength, streamOf(bytes));
    const blob = await getBlob(store, digest);
    const reader = blob.body.getReader();
    const first = await reader.read();
    assert.equal(first.done, false);
    assert.deepEqual(first.value, bytes.subarray(0, first.value!.byteLength));
    await reader.cancel();
    assert.deepEqual(await readBlob(store, digest), bytes);
  });

  test("delete() removes a blob; deleting an absent digest is not an error; put() stores it anew", async (store) => {
    await store.put(helloDigest, hello.byteLength, streamOf(hello));
    const otherDigest = digestOf(other);
    await store.put(otherDigest, other.byteLength, streamOf(other));
    await store.delete(helloDigest);
    await assertAbsent(store, helloDigest);
    assert.deepEqual(await readBlob(store, otherDigest), other, "other blobs stay");
    await store.delete(helloDigest);
    await store.delete(digestOf("never stored"));
    assert.equal((await store.put(helloDigest, hello.byteLength, streamOf(hello))).created, true);
    assert.deepEqual(await readBlob(store, helloDigest), hello);
  });

  const small = (count: number, seed: number) =>
    Array.from({ length: count }, (_, i) => {
      const bytes = patternBytes(1 + ((i * 977) % 9000), seed + i);
      return { digest: digestOf(bytes), bytes };
    });

  test("putMany() stores blobs together; each is then readable whole and by range", async (store) => {
    const blobs = small(40, 100);
    const results = await store.putMany(blobs);
    assert.deepEqual(results, blobs.map((b) => ({ created: true, size: b.bytes.byteLength })));
    for (const { digest, bytes } of blobs) {
      assert.equal(await store.has(digest), true);
      assert.deepEqual(await readBlob(store, digest), bytes);
    }
    const { digest, bytes } = blobs[7];
    const part = await getBlob(store, digest, { start: 3, end: bytes.byteLength + 10 });
    assert.deepEqual(part.range, { start: 3, end: bytes.byteLength - 1 });
    assert.equal(part.size, bytes.byteLength);
    assert.deepEqual(await readAll(part.body), bytes.subarray(3));
    await assertAppError(store.get(digest, { start: bytes.byteLength }), "invalid_input");
  });

  test("putMany() answers digest_mismatch for bytes that do not hash to their digest and stores the others", async (store) => {
    const [good, bad, alsoGood] = small(3, 200);
    const results = await store.putMany([
      good,
      { digest: bad.digest, bytes: flipped(bad.bytes, 0) },
      alsoGood,
    ]);
    assert.deepEqual(results[0], { created: true, size: good.bytes.byteLength });
    const failed = results[1];
    assert.ok("error" in failed && failed.error instanceof AppError);
    assert.equal(failed.error.code, "digest_mismatch");
    assert.deepEqual(results[2], { created: true, size: alsoGood.bytes.byteLength });
    await assertAbsent(store, bad.digest);
    assert.deepEqual(await readBlob(store, alsoGood.digest), alsoGood.bytes);
    const wrongThenRight = await store.putMany([
      { digest: bad.digest, bytes: flipped(bad.bytes, 2) },
      bad,
    ]);
    assert.ok("error" in wrongThenRight[0], "wrong bytes are refused");
    assert.deepEqual(wrongThenRight[1], { created: true, size: bad.bytes.byteLength });
    assert.deepEqual(await readBlob(store, bad.digest), bad.bytes);
  });

  test("putMany() of blobs already stored, or twice in one call, creates each once and keeps the bytes", async (store) => {
    const [a, b, c] = small(3, 300);
    await store.put(a.digest, a.bytes.byteLength, streamOf(a.bytes));
    await store.putMany([b]);
    const results = await store.putMany([a, b, c, c]);
    assert.deepEqual(results.map((r) => "created" in r && r.created), [false, false, true, false]);
    assert.deepEqual(await store.putMany([]), []);
    const again = await store.put(c.digest, c.bytes.byteLength, streamOf(c.bytes));
    assert.deepEqual(again, { created: false, size: c.bytes.byteLength });
    await assertAppError(
      store.put(c.digest, c.bytes.byteLength, streamOf(flipped(c.bytes, 1))),
      "digest_mismatch",
    );
    for (const { digest, bytes } of [a, b, c]) {
      assert.deepEqual(await readBlob(store, digest), bytes);
    }
  });

  test("concurrent putMany() calls all succeed and every blob is readable", async (store) => {
    const batches = Array.from({ length: 6 }, (_, i) => small(15, 1000 + i * 50));
    batches.push(batches[0]); // the same blobs again, at the same time
    const results = await Promise.all(batches.map((blobs) => store.putMany(blobs)));
    for (const result of results) assert.ok(result.every((r) => !("error" in r)));
    for (const blobs of batches) {
      for (const { digest, bytes } of blobs) assert.deepEqual(await readBlob(store, digest), bytes);
    }
  });

  test("delete() removes a blob stored by putMany(); put() then stores it anew", async (store) => {
    const [a, b] = small(2, 400);
    await store.putMany([a, b]);
    await store.delete(a.digest);
    await assertAbsent(store, a.digest);
    assert.deepEqual(await readBlob(store, b.digest), b.bytes, "other blobs stay");
    assert.equal((await store.put(a.digest, a.bytes.byteLength, streamOf(a.bytes))).created, true);
    assert.deepEqual(await readBlob(store, a.digest), a.bytes);
  });

  test("ping() resolves for a usable store", async (store) => {
    await store.ping();
  });
}

// ---- streams and bytes used by the cases ----

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(chunks.map((chunk) => chunk.slice()));
}

/** Yields `bytes` in small chunks with a macrotask between them, so concurrent puts interleave. */
function slowStream(bytes: Uint8Array, chunkBytes = 16 * 1024): ReadableStream<Uint8Array> {
  return ReadableStream.from((async function* () {
    for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      yield bytes.slice(offset, offset + chunkBytes);
    }
  })());
}

/** Yields `chunk`, then errors: a client that went away mid-upload. */
function failingStream(chunk: Uint8Array): ReadableStream<Uint8Array> {
  return ReadableStream.from((async function* () {
    yield chunk.slice();
    await Promise.resolve();
    throw new Error("connection reset by peer");
  })());
}

function flipped(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] ^= 0xff;
  return copy;
}

/** Deterministic bytes that differ by `seed` and by position. */
function patternBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return bytes;
}

/** `total` deterministic bytes, generated chunk by chunk: never one buffer. */
function largeStream(total: number, chunkBytes: number): ReadableStream<Uint8Array> {
  return ReadableStream.from((function* () {
    for (let offset = 0, index = 0; offset < total; offset += chunkBytes, index++) {
      const chunk = new Uint8Array(Math.min(chunkBytes, total - offset));
      for (let i = 0; i < chunk.byteLength; i++) chunk[i] = (offset + i + index) * 131 >> 3;
      yield chunk;
    }
  })());
}

/** Passes through only the bytes at inclusive positions start..end. */
function sliceStream(start: number, end: number): TransformStream<Uint8Array, Uint8Array> {
  let position = 0;
  return new TransformStream({
    transform(chunk, controller) {
      const from = Math.max(start - position, 0);
      const to = Math.min(end + 1 - position, chunk.byteLength);
      if (from < to) controller.enqueue(chunk.subarray(from, to));
      position += chunk.byteLength;
    },
  });
}

async function digestOfStream(
  stream: ReadableStream<Uint8Array>,
): Promise<{ digest: Digest; size: number }> {
  const writer = new DigestWriter();
  for await (const chunk of stream) writer.update(chunk);
  return { digest: writer.digest(), size: writer.size };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function getBlob(
  store: BlobStore,
  digest: Digest,
  range?: { start: number; end?: number },
): Promise<StoredBlob> {
  const blob = await store.get(digest, range);
  assert.ok(blob, `blob ${digest} is stored`);
  return blob;
}

async function readBlob(store: BlobStore, digest: Digest): Promise<Uint8Array> {
  return await readAll((await getBlob(store, digest)).body);
}

async function assertAbsent(store: BlobStore, digest: Digest): Promise<void> {
  assert.equal(await store.has(digest), false, "has() is false");
  assert.equal(await store.get(digest), null, "get() is null");
}

async function assertAppError(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `an AppError, not ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}
