import assert from "node:assert/strict";
import { join } from "node:path";
import { digestOf } from "../../digest.ts";
import { blobKey } from "../_layout.ts";
import { openBlobStore } from "../open.ts";
import { openFsBlobStore } from "./mod.ts";

async function readAll(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}

Deno.test("fs adopt() publishes a verified file in place (same inode) and creates its shard directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fs-adopt-" });
  try {
    await using store = await openBlobStore({ kind: "fs", root: join(dir, "blobs") });
    const bytes = new TextEncoder().encode("adopted bytes");
    const digest = digestOf(bytes);
    const source = join(dir, "upload.part");
    await Deno.writeFile(source, bytes);
    assert.deepEqual(await store.adopt!(digest, bytes.byteLength, source), {
      created: true,
      size: bytes.byteLength,
    });
    const blob = await Deno.stat(join(dir, "blobs", blobKey(digest)));
    assert.equal(blob.ino, (await Deno.stat(source)).ino);
    const stored = await store.get(digest);
    assert.ok(stored);
    assert.deepEqual(await readAll(stored.body), bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fs adopt() of a blob already stored answers created false and keeps the stored file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fs-adopt-" });
  try {
    await using store = await openBlobStore({ kind: "fs", root: join(dir, "blobs") });
    const bytes = new TextEncoder().encode("stored first");
    const digest = digestOf(bytes);
    await store.put(digest, bytes.byteLength, new Blob([bytes]).stream());
    const before = await Deno.stat(join(dir, "blobs", blobKey(digest)));
    const source = join(dir, "upload.part");
    await Deno.writeFile(source, bytes);
    assert.deepEqual(await store.adopt!(digest, bytes.byteLength, source), {
      created: false,
      size: bytes.byteLength,
    });
    const after = await Deno.stat(join(dir, "blobs", blobKey(digest)));
    assert.equal(after.ino, before.ino);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fs blob store: stale temporary files are swept while the store runs, fresh ones stay", async () => {
  const root = await Deno.makeTempDir({ prefix: "fs-sweep-" });
  const store = await openFsBlobStore(root, { staleTempMs: 60_000, sweepIntervalMs: 20 });
  try {
    await Deno.mkdir(join(root, "ab"));
    // Left by a killed process after the store opened: the sweep at open did not see it.
    const stale = join(root, "ab", ".tmp-killed");
    const fresh = join(root, "ab", ".tmp-writing");
    await Deno.writeTextFile(stale, "partial");
    await Deno.writeTextFile(fresh, "partial");
    const hourAgo = new Date(Date.now() - 3_600_000);
    await Deno.utime(stale, hourAgo, hourAgo);
    const deadline = Date.now() + 5_000;
    while (await exists(stale) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await exists(stale), false, "the stale temporary file is swept");
    assert.equal(await exists(fresh), true, "a fresh one stays");
  } finally {
    await store[Symbol.asyncDispose]();
    await Deno.remove(root, { recursive: true });
  }
});

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
