import assert from "node:assert/strict";
import { join } from "node:path";
import { DirectWriter, STAGE_BYTES } from "./direct_writer.ts";

function bytesOf(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

async function withFile(
  initial: Uint8Array,
  use: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "direct-writer-" });
  try {
    const path = join(dir, "upload.part");
    await Deno.writeFile(path, initial);
    await use(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("DirectWriter appends every byte in order from an unaligned offset, in chunks of any size", async () => {
  const head = bytesOf(5_000, 1);
  const body = bytesOf(2 * STAGE_BYTES + 12_345, 2);
  await withFile(head, async (path) => {
    const writer = await DirectWriter.open(path, head.byteLength);
    try {
      const sizes = [1, 100, 4095, 70_000, STAGE_BYTES, 3];
      let offset = 0;
      for (let i = 0; offset < body.byteLength; i++) {
        const size = Math.min(sizes[i % sizes.length], body.byteLength - offset);
        await writer.write(body.subarray(offset, offset + size));
        offset += size;
      }
      await writer.finish();
    } finally {
      await writer.close();
    }
    const expected = new Uint8Array(head.byteLength + body.byteLength);
    expected.set(head);
    expected.set(body, head.byteLength);
    assert.deepEqual(await Deno.readFile(path), expected);
  });
});

Deno.test("DirectWriter.finish() writes a tail shorter than a block, and a later writer continues after it", async () => {
  const first = bytesOf(STAGE_BYTES + 777, 3);
  const second = bytesOf(9_999, 4);
  await withFile(new Uint8Array(0), async (path) => {
    for (const [position, bytes] of [[0, first], [first.byteLength, second]] as const) {
      const writer = await DirectWriter.open(path, position);
      try {
        await writer.write(bytes);
        await writer.finish();
      } finally {
        await writer.close();
      }
    }
    const expected = new Uint8Array(first.byteLength + second.byteLength);
    expected.set(first);
    expected.set(second, first.byteLength);
    assert.deepEqual(await Deno.readFile(path), expected);
  });
});

Deno.test("DirectWriter.close() without finish() leaves at most the bytes given, in order", async () => {
  const bytes = bytesOf(3 * STAGE_BYTES + 10, 5);
  await withFile(new Uint8Array(0), async (path) => {
    const writer = await DirectWriter.open(path, 0);
    await writer.write(bytes);
    await writer.close();
    const kept = await Deno.readFile(path);
    assert.ok(kept.byteLength <= bytes.byteLength);
    assert.deepEqual(kept, bytes.subarray(0, kept.byteLength));
  });
});

/** The type of the filesystem holding `path` (the longest mount point above it). */
function filesystemOf(path: string): string | null {
  try {
    let best: { point: string; type: string } | null = null;
    for (const line of Deno.readTextFileSync("/proc/mounts").split("\n")) {
      const [, point, type] = line.split(" ");
      if (
        !point || !(path === point || path.startsWith(point.endsWith("/") ? point : `${point}/`))
      ) continue;
      if (!best || point.length > best.point.length) best = { point, type };
    }
    return best?.type ?? null;
  } catch {
    return null;
  }
}

const tempFs = filesystemOf(Deno.realPathSync(Deno.env.get("TMPDIR") ?? "/tmp"));

Deno.test({
  name: "DirectWriter writes whole stages past the page cache on ext4 and xfs",
  ignore: tempFs !== "ext4" && tempFs !== "xfs",
  async fn() {
    await withFile(new Uint8Array(0), async (path) => {
      const writer = await DirectWriter.open(path, 0);
      try {
        await writer.write(bytesOf(3 * STAGE_BYTES, 7));
        await writer.finish();
        assert.equal(writer.direct, true, "no direct write was refused (memory is aligned)");
      } finally {
        await writer.close();
      }
    });
  },
});
