/** The filesystem blob store: the shared contract, plus its on-disk layout and temp files. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openBlobStore } from "../lib/blob_store/mod.ts";
import { digestOf } from "../lib/digest.ts";
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
  assert.deepEqual(await names(fx.root), [shard]);
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
  assert.deepEqual(await names(fx.root), [shard], "nothing is written elsewhere");
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
