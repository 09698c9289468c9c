/**
 * A full disk is named: a real ppserver whose data directory is on a small tmpfs answers
 * 507 Insufficient Storage with "No space left on the blob store" to an upload that does
 * not fit, and "No space left on the metadata store" to registrations once the disk is
 * full; what was stored before stays intact, and the server keeps answering.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { digestOf } from "../lib/digest.ts";
import { bytesOf } from "./file_fixture.ts";
import { startPpserver } from "./_servers/ppserver.ts";

/** Mounts a tmpfs of `bytes` on a new temp dir, or says why it cannot here. */
async function smallDisk(bytes: number) {
  const dir = await Deno.makeTempDir({ prefix: "full-disk-" });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  if (!mount?.success) {
    await Deno.remove(dir);
    return null;
  }
  return {
    dir,
    async [Symbol.asyncDispose]() {
      await new Deno.Command("umount", { args: [dir] }).output();
      await Deno.remove(dir);
    },
  };
}

const probe = await smallDisk(1 << 20);
const ignoreReason = probe ? false : "cannot mount a tmpfs here (needs root)";
await probe?.[Symbol.asyncDispose]();

/** Fills the disk holding `dir` to the last byte. */
async function fill(dir: string): Promise<void> {
  const file = await Deno.open(join(dir, "filler"), { write: true, create: true });
  try {
    const chunk = new Uint8Array(64 * 1024);
    for (let size = chunk.byteLength; size >= 1; size = Math.floor(size / 2)) {
      while (true) {
        try {
          await file.write(chunk.subarray(0, size));
        } catch {
          break;
        }
      }
    }
  } finally {
    file.close();
  }
}

async function problemOf(response: Response) {
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  return await response.json();
}

Deno.test({
  name: "a full disk answers 507 naming the blob store or the metadata store, and loses nothing",
  ignore: ignoreReason !== false,
  async fn() {
    await using disk = (await smallDisk(8 << 20))!;
    const server = await startPpserver({ dataDir: join(disk.dir, "data") });
    try {
      const headers = { "x-api-key": server.adminKey };
      const kept = bytesOf(1000, 7);
      const keptDigest = digestOf(kept);
      const stored = await fetch(`${server.url}/v1/blobs/${keptDigest}`, {
        method: "PUT",
        headers: { ...headers, "content-type": "application/octet-stream" },
        body: kept,
      });
      await stored.body?.cancel();
      assert.ok(stored.ok);

      const big = bytesOf(16 << 20, 3);
      const upload = await fetch(`${server.url}/v1/blobs/${digestOf(big)}`, {
        method: "PUT",
        headers: { ...headers, "content-type": "application/octet-stream" },
        body: big,
      });
      assert.equal(upload.status, 507);
      const problem = await problemOf(upload);
      assert.equal(problem.status, 507);
      assert.equal(problem.title, "Insufficient storage");
      assert.match(problem.detail, /no space left on the blob store/i);

      await fill(disk.dir);
      // A batch may still fit in pages SQLite holds already; more of them do not.
      let register: Response | undefined;
      for (let batch = 0; batch < 10; batch++) {
        const files = Array.from({ length: 1000 }, (_, i) => ({
          filepath: `/srv/full/${batch}/${i}-${"x".repeat(100)}.txt`,
          hostname: "host-a",
          ip_address: "10.0.0.1",
          sha256: digestOf(`file ${batch} ${i}`),
          file_size: `file ${batch} ${i}`.length,
        }));
        register = await fetch(`${server.url}/v1/files/batch`, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify({ files }),
        });
        if (register.status !== 200) break;
        await register.body?.cancel();
      }
      assert.equal(register?.status, 507);
      assert.match((await problemOf(register)).detail, /no space left on the metadata store/i);

      // Reads still work, and the blob stored before is intact.
      const read = await fetch(`${server.url}/v1/blobs/${keptDigest}`, { headers });
      assert.equal(read.status, 200);
      assert.deepEqual(new Uint8Array(await read.arrayBuffer()), kept);
    } finally {
      await server[Symbol.asyncDispose]();
    }
  },
});

Deno.test({
  name:
    "a resumable append that fills the disk is 507 and cut back to the last acknowledged offset",
  ignore: ignoreReason !== false,
  async fn() {
    await using disk = (await smallDisk(8 << 20))!;
    const server = await startPpserver({ dataDir: join(disk.dir, "data") });
    try {
      const headers = { "x-api-key": server.adminKey };
      const bytes = bytesOf(16 << 20, 5);
      const created = await fetch(`${server.url}/v1/uploads`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ digest: digestOf(bytes), size: bytes.byteLength }),
      });
      assert.equal(created.status, 201);
      const { location } = await created.json();
      const first = await fetch(`${server.url}${location}`, {
        method: "PATCH",
        headers: {
          ...headers,
          "upload-offset": "0",
          "content-type": "application/offset+octet-stream",
        },
        body: bytes.subarray(0, 1 << 20),
      });
      await first.body?.cancel();
      assert.ok(first.ok, `first PATCH: ${first.status}`);
      const rest = await fetch(`${server.url}${location}`, {
        method: "PATCH",
        headers: {
          ...headers,
          "upload-offset": String(1 << 20),
          "content-type": "application/offset+octet-stream",
        },
        body: bytes.subarray(1 << 20),
      });
      assert.equal(rest.status, 507);
      assert.match((await problemOf(rest)).detail, /no space left/i);
      // Bytes written before the failure were never acknowledged: the part is cut back.
      const head = await fetch(`${server.url}${location}`, { method: "HEAD", headers });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("upload-offset"), String(1 << 20));
      const part = [...Deno.readDirSync(join(disk.dir, "data", "uploads"))]
        .find((entry) => entry.name.endsWith(".part"));
      assert.ok(part);
      const info = await Deno.stat(join(disk.dir, "data", "uploads", part.name));
      assert.equal(info.size, 1 << 20);
    } finally {
      await server[Symbol.asyncDispose]();
    }
  },
});
