import assert from "node:assert/strict";
import { join } from "node:path";
import { digestOf } from "../../digest.ts";
import { Packs } from "./packs.ts";

function blobs(count: number, bytes: number, seed: number) {
  return Array.from({ length: count }, (_, i) => {
    const content = new Uint8Array(bytes).fill((seed * 31 + i) % 256);
    content[0] = i;
    content[1] = seed;
    return { digest: digestOf(content), bytes: content };
  });
}

async function packNames(root: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(join(root, "packs"))) {
    if (entry.name.endsWith(".pack")) names.push(entry.name);
  }
  return names;
}

async function read(packs: Packs, digest: ReturnType<typeof digestOf>): Promise<Uint8Array> {
  const location = packs.locate(digest);
  assert.ok(location, "the blob is indexed");
  const file = await packs.openAt(location, 0);
  try {
    const bytes = new Uint8Array(location.size);
    let filled = 0;
    while (filled < bytes.byteLength) {
      const n = await file.read(bytes.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    return bytes.subarray(0, filled);
  } finally {
    file.close();
  }
}

Deno.test("Packs: a pack that would grow past its cap is closed and the next batch starts a new one", async () => {
  const root = await Deno.makeTempDir({ prefix: "packs-" });
  const packs = await Packs.open(root, { maxPackBytes: 10_000 });
  try {
    const first = blobs(4, 2000, 1); // 8,000 bytes
    const second = blobs(2, 2000, 2); // would make 12,000
    const big = blobs(1, 25_000, 3); // over the cap alone: a pack of its own
    await packs.append(first);
    assert.equal((await packNames(root)).length, 1);
    await packs.append(second);
    assert.equal((await packNames(root)).length, 2);
    await packs.append(big);
    assert.equal((await packNames(root)).length, 3);
    for (const blob of [...first, ...second, ...big]) {
      assert.deepEqual(await read(packs, blob.digest), blob.bytes);
    }
  } finally {
    await packs.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Packs: batches appended at the same time are all indexed, each digest once", async () => {
  const root = await Deno.makeTempDir({ prefix: "packs-" });
  const packs = await Packs.open(root);
  try {
    const batches = Array.from({ length: 8 }, (_, i) => blobs(10, 100 + i, 10 + i));
    batches.push(batches[3]); // the same blobs twice in one group
    await Promise.all(batches.map((batch) => packs.append(batch)));
    for (const blob of batches.flat()) assert.deepEqual(await read(packs, blob.digest), blob.bytes);
    const [pack] = await packNames(root);
    const distinct = batches.slice(0, 8).flat().reduce((sum, b) => sum + b.bytes.byteLength, 0);
    // The repeat was queued with the others, so it was committed in their group: once.
    assert.equal((await Deno.stat(join(root, "packs", pack))).size, distinct);
  } finally {
    await packs.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Packs: close() waits for a commit in progress", async () => {
  const root = await Deno.makeTempDir({ prefix: "packs-" });
  try {
    const batch = blobs(50, 500, 30);
    {
      const packs = await Packs.open(root);
      const appended = packs.append(batch);
      await packs.close();
      await appended;
    }
    const packs = await Packs.open(root);
    try {
      for (const blob of batch) assert.deepEqual(await read(packs, blob.digest), blob.bytes);
    } finally {
      await packs.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
