import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { EMPTY_DIGEST } from "../../lib/digest.ts";
import { changeBetween, hashFile, ReadBuffers } from "./hash.ts";

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function pseudoRandom(size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "ppclient-hash-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("hashFile() gives the SHA-256 and size of an empty file", async () => {
  await withDir(async (dir) => {
    await Deno.writeFile(`${dir}/empty`, new Uint8Array());
    const result = await hashFile(`${dir}/empty`, { buffers: new ReadBuffers() });
    assert.ok(result.ok);
    assert.equal(result.digest, EMPTY_DIGEST);
    assert.equal(result.size, 0);
  });
});

Deno.test("hashFile() hashes a file spanning many reads with two fixed buffers", async () => {
  await withDir(async (dir) => {
    const bytes = pseudoRandom(5 * 1024 * 1024 + 123);
    await Deno.writeFile(`${dir}/big`, bytes);
    const buffers = new ReadBuffers(64 * 1024);
    const blocks: number[] = [];
    const result = await hashFile(`${dir}/big`, {
      buffers,
      onBytes: (count) => blocks.push(count),
    });
    assert.ok(result.ok);
    assert.equal(result.digest, sha256(bytes));
    assert.equal(result.size, bytes.byteLength);
    assert.ok(blocks.length > 80, `expected many reads, got ${blocks.length}`);
    assert.ok(blocks.every((n) => n <= 64 * 1024));
    assert.equal(buffers.a.byteLength, 64 * 1024, "buffers are reused, not grown");
  });
});

Deno.test("hashFile() reports a file that grows while being read as changed, with no digest", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/growing`;
    await Deno.writeFile(path, pseudoRandom(256 * 1024));
    let appended = false;
    const result = await hashFile(path, {
      buffers: new ReadBuffers(64 * 1024),
      onBytes: () => {
        if (appended) return;
        appended = true;
        Deno.writeFileSync(path, new Uint8Array([1, 2, 3]), { append: true });
      },
    });
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.problem === "changed", JSON.stringify(result));
    assert.equal("digest" in result, false);
  });
});

Deno.test("hashFile() reports a file rewritten in place with the same size as changed", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/rewritten`;
    await Deno.writeFile(path, pseudoRandom(256 * 1024, 1));
    let rewritten = false;
    const result = await hashFile(path, {
      buffers: new ReadBuffers(64 * 1024),
      onBytes: () => {
        if (rewritten) return;
        rewritten = true;
        // Same size, new bytes, and an mtime that surely differs from the first.
        const file = Deno.openSync(path, { write: true });
        file.writeSync(pseudoRandom(1024, 2));
        file.utimeSync(new Date(2001, 1, 1), new Date(2001, 1, 1));
        file.close();
      },
    });
    assert.ok(!result.ok && result.problem === "changed", JSON.stringify(result));
  });
});

Deno.test("hashFile() reports a file deleted while being read as vanished", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/doomed`;
    await Deno.writeFile(path, pseudoRandom(256 * 1024));
    let removed = false;
    const result = await hashFile(path, {
      buffers: new ReadBuffers(64 * 1024),
      onBytes: () => {
        if (removed) return;
        removed = true;
        Deno.removeSync(path);
      },
    });
    assert.ok(!result.ok && result.problem === "vanished", JSON.stringify(result));
  });
});

Deno.test("hashFile() reports a file replaced by another while being read as changed", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/swapped`;
    await Deno.writeFile(path, pseudoRandom(256 * 1024, 1));
    await Deno.writeFile(`${dir}/other`, pseudoRandom(256 * 1024, 1));
    let swapped = false;
    const result = await hashFile(path, {
      buffers: new ReadBuffers(64 * 1024),
      onBytes: () => {
        if (swapped) return;
        swapped = true;
        Deno.renameSync(`${dir}/other`, path);
      },
    });
    assert.ok(!result.ok && result.problem === "changed", JSON.stringify(result));
    assert.match(!result.ok ? result.message : "", /replaced/);
  });
});

Deno.test("hashFile() reports a missing file as vanished", async () => {
  await withDir(async (dir) => {
    const result = await hashFile(`${dir}/never`, { buffers: new ReadBuffers(1024) });
    assert.ok(!result.ok && result.problem === "vanished");
  });
});

Deno.test("hashFile() stops between reads when aborted and rejects with the reason", async () => {
  await withDir(async (dir) => {
    await Deno.writeFile(`${dir}/f`, pseudoRandom(256 * 1024));
    const controller = new AbortController();
    const reason = new Error("stop");
    let reads = 0;
    await assert.rejects(
      hashFile(`${dir}/f`, {
        buffers: new ReadBuffers(16 * 1024),
        signal: controller.signal,
        onBytes: () => {
          if (++reads === 2) controller.abort(reason);
        },
      }),
      (error) => error === reason,
    );
    assert.equal(reads, 2);
  });
});

Deno.test("changeBetween() accepts the same unchanged file only", () => {
  const base = Deno.statSync(Deno.execPath());
  assert.equal(changeBetween(base, base, base.size), null);
  assert.match(changeBetween(base, { ...base, ino: (base.ino ?? 0) + 1 }, base.size)!, /replaced/);
  assert.match(changeBetween(base, base, base.size - 1)!, /size/);
  assert.match(
    changeBetween(base, { ...base, ctime: new Date(0) }, base.size)!,
    /modified/,
  );
});
