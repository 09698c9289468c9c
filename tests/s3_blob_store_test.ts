/**
 * The S3 blob store against a real S3 API (moto in server mode, started per test): the shared
 * contract unchanged, plus the key layout, the multipart path (verified before completing,
 * aborted otherwise, nothing left behind), objects the earlier system left in the bucket,
 * and start-up checks that say what is wrong.
 *
 * moto does not check `x-amz-checksum-sha256` (see tests/_servers/servers_test.ts), so these
 * tests show the store's own verification, not S3's.
 */
import assert from "node:assert/strict";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { openBlobStore } from "../lib/blob_store/open.ts";
import type { BlobStore } from "../lib/blob_store/mod.ts";
import { type Digest, digestOf } from "../lib/digest.ts";
import { AppError } from "../lib/errors.ts";
import { freePort } from "./_servers/free_port.ts";
import { type RunningS3, s3IgnoreReason, startS3 } from "./_servers/s3.ts";
import { blobStoreContract } from "./blob_store_contract.ts";

const ignoreReason = s3IgnoreReason();
const ignore = ignoreReason !== undefined;
const named = (spec: string) => `s3 blob store: ${spec}${ignore ? ` (${ignoreReason})` : ""}`;

const BUCKET = "putplace-test";
const MiB = 1024 * 1024;
/** S3's smallest part: large-blob cases stay small and fast. */
const PART_BYTES = 5 * MiB;

function clientFor(s3: RunningS3): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
}

async function openOn(s3: RunningS3, options: { bucket?: string; prefix?: string } = {}) {
  return await openBlobStore({
    kind: "s3",
    bucket: options.bucket ?? BUCKET,
    region: s3.region,
    prefix: options.prefix ?? "files/",
    endpoint: s3.endpoint,
    forcePathStyle: true,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    partBytes: PART_BYTES,
    partsInFlight: 3,
  });
}

/** A moto of its own with the bucket made, a store on it, and a plain client. */
async function fixture(options: { prefix?: string } = {}) {
  const s3 = await startS3();
  const client = clientFor(s3);
  try {
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const store = await openOn(s3, options);
    return {
      s3,
      store,
      client,
      async [Symbol.asyncDispose]() {
        await store[Symbol.asyncDispose]();
        client.destroy();
        await s3[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    client.destroy();
    await s3[Symbol.asyncDispose]();
    throw error;
  }
}

blobStoreContract("s3 blob store (moto)", async () => {
  const fx = await fixture();
  return { store: fx.store, [Symbol.asyncDispose]: () => fx[Symbol.asyncDispose]() };
}, { ignore: ignoreReason });

// ---- helpers ----

/** `total` deterministic bytes in odd-sized chunks, never one buffer. */
function patterned(total: number, seed = 1, chunkBytes = 300_001): ReadableStream<Uint8Array> {
  return ReadableStream.from((function* () {
    for (let offset = 0; offset < total; offset += chunkBytes) {
      const chunk = new Uint8Array(Math.min(chunkBytes, total - offset));
      for (let i = 0; i < chunk.byteLength; i++) chunk[i] = ((offset + i) * 7 + seed) & 0xff;
      yield chunk;
    }
  })());
}

async function digestOfStream(stream: ReadableStream<Uint8Array>): Promise<Digest> {
  const { DigestWriter } = await import("../lib/digest.ts");
  const writer = new DigestWriter();
  for await (const chunk of stream) writer.update(chunk);
  return writer.digest();
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function keys(client: S3Client): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (listed.Contents ?? []).map((object) => object.Key ?? "").sort();
}

async function openUploads(client: S3Client): Promise<number> {
  const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  return listed.Uploads?.length ?? 0;
}

async function assertAbsent(store: BlobStore, digest: Digest) {
  assert.equal(await store.has(digest), false);
  assert.equal(await store.get(digest), null);
}

function isAppError(code: string, message?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof AppError, `an AppError, not ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

// ---- layout ----

Deno.test({
  name: named(
    "a blob is the object <prefix><first two hex>/<digest>, marked with its verified digest",
  ),
  ignore,
  async fn() {
    await using fx = await fixture();
    const bytes = new TextEncoder().encode("laid out like the earlier system\n");
    const digest = digestOf(bytes);
    await fx.store.put(digest, bytes.byteLength, ReadableStream.from([bytes]));
    assert.deepEqual(await keys(fx.client), [`files/${digest.slice(0, 2)}/${digest}`]);
    const head = await fx.client.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: `files/${digest.slice(0, 2)}/${digest}` }),
    );
    assert.equal(head.Metadata?.["putplace-sha256"], digest);
    assert.equal(head.ContentLength, bytes.byteLength);
  },
});

Deno.test({
  name: named("another prefix puts blobs under it, and the start-up probe leaves nothing behind"),
  ignore,
  async fn() {
    await using fx = await fixture({ prefix: "tenant-a/blobs/" });
    const bytes = new TextEncoder().encode("prefixed");
    const digest = digestOf(bytes);
    await fx.store.put(digest, undefined, ReadableStream.from([bytes]));
    assert.deepEqual(await keys(fx.client), [`tenant-a/blobs/${digest.slice(0, 2)}/${digest}`]);
  },
});

// ---- the multipart path ----

Deno.test({
  name: named(
    "a blob larger than a part goes up in parts and round-trips, also by a range across parts",
  ),
  ignore,
  async fn() {
    await using fx = await fixture();
    const total = 3 * PART_BYTES + 12_345;
    const digest = await digestOfStream(patterned(total));
    assert.deepEqual(await fx.store.put(digest, total, patterned(total)), {
      created: true,
      size: total,
    });
    const key = `files/${digest.slice(0, 2)}/${digest}`;
    const head = await fx.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.match(head.ETag ?? "", /-4"$/, "a multipart object of 4 parts");
    assert.equal(head.Metadata?.["putplace-sha256"], digest);
    assert.equal(await openUploads(fx.client), 0);

    const whole = await fx.store.get(digest);
    assert.ok(whole);
    assert.equal(whole.size, total);
    assert.equal(await digestOfStream(whole.body), digest);

    const start = PART_BYTES - 10;
    const end = PART_BYTES + 9;
    const part = await fx.store.get(digest, { start, end });
    assert.ok(part);
    assert.deepEqual(part.range, { start, end });
    const expected = new Uint8Array(20).map((_, i) => ((start + i) * 7 + 1) & 0xff);
    assert.deepEqual(await readAll(part.body), expected);
  },
});

Deno.test({
  name: named(
    "a large blob whose bytes do not match its digest is never visible and leaves no upload",
  ),
  ignore,
  async fn() {
    await using fx = await fixture();
    const total = 2 * PART_BYTES + 1;
    const claimed = await digestOfStream(patterned(total, 1));
    await assert.rejects(
      fx.store.put(claimed, total, patterned(total, 2)),
      isAppError("digest_mismatch", /^Cannot store blob "[0-9a-f]{12}\.\.\.": bytes hash to/),
    );
    await assertAbsent(fx.store, claimed);
    assert.deepEqual(await keys(fx.client), []);
    assert.equal(await openUploads(fx.client), 0, "the multipart upload was aborted");
  },
});

Deno.test({
  name: named(
    "a large upload that fails midway or brings the wrong size leaves no object and no upload",
  ),
  ignore,
  async fn() {
    await using fx = await fixture();
    const total = 2 * PART_BYTES + 7;
    const digest = await digestOfStream(patterned(total));
    const failing = ReadableStream.from((async function* () {
      for await (const chunk of patterned(total)) yield chunk;
      throw new Error("connection reset by peer");
    })());
    await assert.rejects(
      fx.store.put(digest, total, failing),
      isAppError("invalid_input", /ended early/),
    );
    await assert.rejects(
      fx.store.put(digest, total + 1, patterned(total)),
      isAppError("invalid_input", /bytes arrived/),
    );
    await assert.rejects(
      fx.store.put(digest, total - 1, patterned(total)),
      isAppError("invalid_input", /more than the declared/),
    );
    await assertAbsent(fx.store, digest);
    assert.deepEqual(await keys(fx.client), []);
    assert.equal(await openUploads(fx.client), 0);
    // The same digest then stores fine.
    assert.equal((await fx.store.put(digest, total, patterned(total))).created, true);
  },
});

Deno.test({
  name: named("a blob of exactly one part goes up in one put"),
  ignore,
  async fn() {
    await using fx = await fixture();
    const digest = await digestOfStream(patterned(PART_BYTES));
    await fx.store.put(digest, PART_BYTES, patterned(PART_BYTES));
    const head = await fx.client.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: `files/${digest.slice(0, 2)}/${digest}` }),
    );
    assert.doesNotMatch(head.ETag ?? "", /-\d+"$/);
    assert.equal(head.ContentLength, PART_BYTES);
  },
});

// ---- objects the earlier system left ----

Deno.test({
  name: named("an object the earlier system stored with the right bytes is kept, not rewritten"),
  ignore,
  async fn() {
    await using fx = await fixture();
    const bytes = new TextEncoder().encode("stored by the Python server\n");
    const digest = digestOf(bytes);
    const key = `files/${digest.slice(0, 2)}/${digest}`;
    await fx.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }));
    const before = await fx.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.deepEqual(await fx.store.put(digest, bytes.byteLength, ReadableStream.from([bytes])), {
      created: false,
      size: bytes.byteLength,
    });
    const after = await fx.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(after.LastModified?.getTime(), before.LastModified?.getTime());
    assert.equal(after.Metadata?.["putplace-sha256"], undefined, "left exactly as it was");
  },
});

Deno.test({
  name: named(
    "an object the earlier system stored with wrong bytes is replaced by the verified ones",
  ),
  ignore,
  async fn() {
    await using fx = await fixture();
    const bytes = new TextEncoder().encode("the real content\n");
    const digest = digestOf(bytes);
    const key = `files/${digest.slice(0, 2)}/${digest}`;
    await fx.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: new TextEncoder().encode("trunc") }),
    );
    assert.deepEqual(await fx.store.put(digest, undefined, ReadableStream.from([bytes])), {
      created: true,
      size: bytes.byteLength,
    });
    const blob = await fx.store.get(digest);
    assert.ok(blob);
    assert.deepEqual(await readAll(blob.body), bytes);
    const object = await fx.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(object.Metadata?.["putplace-sha256"], digest);
    await object.Body?.transformToByteArray();
  },
});

// ---- start-up and reachability ----

Deno.test({
  name: named("opening names a bucket that does not exist"),
  ignore,
  async fn() {
    await using s3 = await startS3();
    await assert.rejects(
      openOn(s3, { bucket: "no-such-bucket" }),
      isAppError(
        "unavailable",
        new RegExp(
          `^Cannot use S3 bucket "no-such-bucket" at "${s3.endpoint}": bucket "no-such-bucket" does not exist$`,
        ),
      ),
    );
  },
});

Deno.test({
  name: "s3 blob store: opening says when the endpoint cannot be reached",
  async fn() {
    const endpoint = `http://127.0.0.1:${freePort()}`;
    await assert.rejects(
      openBlobStore({
        kind: "s3",
        bucket: BUCKET,
        region: "us-east-1",
        prefix: "files/",
        endpoint,
        forcePathStyle: true,
        accessKeyId: "test",
        secretAccessKey: "test",
      }),
      isAppError(
        "unavailable",
        new RegExp(
          `^Cannot use S3 bucket "${BUCKET}" at "${endpoint}": the S3 endpoint cannot be reached$`,
        ),
      ),
    );
  },
});

Deno.test({
  name: named("while S3 is down ping() and reads are unavailable, with no SDK text"),
  ignore,
  async fn() {
    await using fx = await fixture();
    await fx.s3.stop();
    await assert.rejects(
      fx.store.ping(),
      isAppError(
        "unavailable",
        /^Blob store cannot reach the bucket: the S3 endpoint cannot be reached$/,
      ),
    );
    await assert.rejects(
      fx.store.has(digestOf("x")),
      isAppError("unavailable", /^Blob store cannot read: /),
    );
  },
});
