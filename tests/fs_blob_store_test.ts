/** The filesystem blob store: the shared contract, plus its on-disk layout and temp files. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type BlobStore } from "../lib/blob_store/mod.ts";
import { openBlobStore } from "../lib/blob_store/open.ts";
import { type Digest, digestOf } from "../lib/digest.ts";
import { AppError } from "../lib/errors.ts";
import { blobStoreContract } from "./blob_store_contract.ts";

async function tempRoot(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "fs-blob-store-" });
}

blobStoreContract("fs blob store", async () => {
  const root = await tempRoot();
  const store = await openBlobStore({ kind: "fs", root });
  return {
    store,
    async [Symbol.asyncDispose]() {
      await store[Symbol.asyncDispose]();
      await Deno.remove(root, { recursive: true });
    },
  };
});

/** A temp dir with a store in it, both cleaned up on dispose. */
async function fsStore() {
  const root = await tempRoot();
  const store = await openBlobStore({ kind: "fs", root });
  return {
    root,
    store,
    async [Symbol.asyncDispose]() {
      await store[Symbol.asyncDispose]();
      await Deno.remove(root, { recursive: true });
    },
  };
}

async function names(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

const bytes = new TextEncoder().encode("bytes on disk\n");
const digest = digestOf(bytes);
const shard = digest.slice(0, 2);

Deno.test("fs blob store: a blob lives at <root>/<first two hex>/<digest> with exactly its bytes", async () => {
  await using fx = await fsStore();
  await fx.store.put(digest, bytes.byteLength, ReadableStream.from([bytes]));
  assert.deepEqual(await names(fx.root), [shard, "packs"]);
  assert.deepEqual(await names(join(fx.root, shard)), [digest]);
  assert.deepEqual(await Deno.readFile(join(fx.root, shard, digest)), bytes);
});

Deno.test("fs blob store: put() writes its temp file in the blob's directory and removes it when the body fails", async () => {
  await using fx = await fsStore();
  const reading = Promise.withResolvers<void>();
  const fail = Promise.withResolvers<void>();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      controller.enqueue(bytes.slice(0, 4));
      reading.resolve();
      await fail.promise;
      controller.error(new Error("client went away"));
    },
  }, { highWaterMark: 0 });
  const put = fx.store.put(digest, bytes.byteLength, body);
  await reading.promise;
  const during = await names(join(fx.root, shard));
  assert.equal(during.length, 1);
  assert.match(during[0], /^\.tmp-/, "a temp file sits beside where the blob will go");
  assert.deepEqual(await names(fx.root), [shard, "packs"], "nothing is written elsewhere");
  fail.resolve();
  await assert.rejects(put, AppError);
  assert.deepEqual(await names(join(fx.root, shard)), [], "the temp file is gone");
});

Deno.test("fs blob store: no temp file is left after a mismatch, a wrong size, a success or a repeated put", async () => {
  await using fx = await fsStore();
  const dir = join(fx.root, shard);
  await assert.rejects(
    fx.store.put(digest, undefined, ReadableStream.from([new Uint8Array(3)])),
    AppError,
  );
  assert.deepEqual(await names(dir), []);
  await assert.rejects(
    fx.store.put(digest, bytes.byteLength + 1, ReadableStream.from([bytes])),
    AppError,
  );
  assert.deepEqual(await names(dir), []);
  await fx.store.put(digest, bytes.byteLength, ReadableStream.from([bytes]));
  assert.deepEqual(await names(dir), [digest]);
  await fx.store.put(digest, bytes.byteLength, ReadableStream.from([bytes]));
  assert.deepEqual(await names(dir), [digest]);
  await assert.rejects(
    fx.store.put(digest, undefined, ReadableStream.from([new Uint8Array(3)])),
    AppError,
  );
  assert.deepEqual(await names(dir), [digest]);
});

Deno.test("fs blob store: a failed put of a stored digest leaves the blob file untouched (same inode, same mtime)", async () => {
  await using fx = await fsStore();
  const path = join(fx.root, shard, digest);
  await fx.store.put(digest, bytes.byteLength, ReadableStream.from([bytes]));
  const before = await Deno.stat(path);
  const wrong = bytes.slice();
  wrong[0] ^= 1;
  await assert.rejects(fx.store.put(digest, undefined, ReadableStream.from([wrong])), AppError);
  await fx.store.put(digest, bytes.byteLength, ReadableStream.from([bytes]));
  const after = await Deno.stat(path);
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
  assert.deepEqual(await Deno.readFile(path), bytes);
});

Deno.test("fs blob store: opening sweeps stale temp files and keeps fresh ones and blobs", async () => {
  const root = await tempRoot();
  try {
    const dir = join(root, shard);
    await Deno.mkdir(dir);
    const stale = join(dir, ".tmp-0000000000000001");
    const fresh = join(dir, ".tmp-0000000000000002");
    await Deno.writeFile(stale, new Uint8Array(10));
    await Deno.writeFile(fresh, new Uint8Array(10));
    await Deno.writeFile(join(dir, digest), bytes);
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await Deno.utime(stale, twoHoursAgo, twoHoursAgo);
    await Deno.utime(join(dir, digest), twoHoursAgo, twoHoursAgo);
    await using store = await openBlobStore({ kind: "fs", root });
    assert.deepEqual(await names(dir), [".tmp-0000000000000002", digest].sort());
    assert.equal(await store.has(digest), true);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("fs blob store: opening creates a missing root directory", async () => {
  const parent = await tempRoot();
  try {
    const root = join(parent, "deeper", "blobs");
    await using store = await openBlobStore({ kind: "fs", root });
    assert.equal((await Deno.stat(root)).isDirectory, true);
    await store.ping();
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("fs blob store: opening a root that is a regular file fails with unavailable", async () => {
  const parent = await tempRoot();
  try {
    const root = join(parent, "not-a-directory");
    await Deno.writeFile(root, new Uint8Array(1));
    await assert.rejects(
      openBlobStore({ kind: "fs", root }),
      (error: unknown) => error instanceof AppError && error.code === "unavailable",
    );
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("fs blob store: ping() fails with unavailable, naming no path, once the root is gone", async () => {
  const root = await tempRoot();
  await using store = await openBlobStore({ kind: "fs", root });
  await Deno.remove(root, { recursive: true });
  await assert.rejects(store.ping(), (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "unavailable");
    assert.ok(!error.message.includes(root), error.message);
    return true;
  });
});

// ---- packs: the blobs of small-blob batches ----

function smallBlobs(count: number, seed: number) {
  return Array.from({ length: count }, (_, i) => {
    const blob = new TextEncoder().encode(`small blob ${seed} ${i} `.repeat(1 + i));
    return { digest: digestOf(blob), bytes: blob };
  });
}

async function packFiles(root: string): Promise<string[]> {
  return (await names(join(root, "packs"))).filter((name) => name.endsWith(".pack"));
}

async function assertReadable(
  store: BlobStore,
  blobs: { digest: Digest; bytes: Uint8Array }[],
): Promise<void> {
  for (const { digest, bytes } of blobs) {
    const blob = await store.get(digest);
    assert.ok(blob, `blob ${digest} is there`);
    assert.deepEqual(new Uint8Array(await new Response(blob.body).arrayBuffer()), bytes);
  }
}

Deno.test("fs blob store: putMany() appends a batch to one pack file and writes no blob file", async () => {
  await using fx = await fsStore();
  const blobs = smallBlobs(50, 1);
  await fx.store.putMany(blobs);
  assert.deepEqual(await names(fx.root), ["packs"], "no shard directory, no blob file");
  const packs = await packFiles(fx.root);
  assert.equal(packs.length, 1);
  const packed = blobs.reduce((sum, blob) => sum + blob.bytes.byteLength, 0);
  assert.equal((await Deno.stat(join(fx.root, "packs", packs[0]))).size, packed);
  await fx.store.putMany(smallBlobs(5, 2));
  assert.deepEqual(await packFiles(fx.root), packs, "later batches go to the same pack");
});

Deno.test("fs blob store: packed blobs survive closing and reopening the store", async () => {
  const root = await tempRoot();
  try {
    const blobs = smallBlobs(30, 3);
    {
      await using store = await openBlobStore({ kind: "fs", root });
      await store.putMany(blobs);
    }
    await using store = await openBlobStore({ kind: "fs", root });
    await assertReadable(store, blobs);
    assert.equal(await store.has(blobs[29].digest), true);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("fs blob store: two stores on one root append to packs of their own and read each other's blobs", async () => {
  const root = await tempRoot();
  try {
    await using first = await openBlobStore({ kind: "fs", root });
    await using second = await openBlobStore({ kind: "fs", root });
    const one = smallBlobs(20, 4);
    const two = smallBlobs(20, 5);
    await Promise.all([first.putMany(one), second.putMany(two)]);
    assert.equal((await packFiles(root)).length, 2);
    await assertReadable(first, [...one, ...two]);
    await assertReadable(second, [...one, ...two]);
    const again = await second.putMany(one);
    assert.ok(again.every((result) => "created" in result && !result.created));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("fs blob store: bytes at the end of a pack that no index row names (a crash before indexing) are never served", async () => {
  const root = await tempRoot();
  try {
    const blobs = smallBlobs(10, 6);
    {
      await using store = await openBlobStore({ kind: "fs", root });
      await store.putMany(blobs);
    }
    // What a crash between the pack write and the index commit leaves behind.
    const [pack] = await packFiles(root);
    const orphan = smallBlobs(1, 7)[0];
    const file = await Deno.open(join(root, "packs", pack), { append: true });
    await file.write(orphan.bytes);
    file.close();

    await using store = await openBlobStore({ kind: "fs", root });
    assert.equal(await store.has(orphan.digest), false);
    assert.equal(await store.get(orphan.digest), null);
    const later = smallBlobs(10, 8);
    assert.ok((await store.putMany([orphan, ...later])).every((r) => "created" in r && r.created));
    assert.equal((await packFiles(root)).length, 2, "a reopened store appends to a new pack");
    await assertReadable(store, [...blobs, orphan, ...later]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("fs blob store: a packed blob whose pack file went missing fails with unavailable, naming no path", async () => {
  await using fx = await fsStore();
  const [blob] = smallBlobs(1, 9);
  await fx.store.putMany([blob]);
  const [pack] = await packFiles(fx.root);
  await Deno.remove(join(fx.root, "packs", pack));
  const error = await fx.store.get(blob.digest).then(() => null, (e) => e);
  assert.ok(error instanceof AppError);
  assert.equal(error.code, "unavailable");
  assert.doesNotMatch(error.message, /packs|\//);
});
