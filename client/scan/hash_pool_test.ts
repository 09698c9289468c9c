import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { hashFile, type HashOutcome, ReadBuffers } from "./hash.ts";
import { HashPool } from "./hash_pool.ts";

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function bytesOf(seed: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

function summary(outcome: HashOutcome | null) {
  if (outcome === null) return null;
  return outcome.ok
    ? { digest: outcome.digest, size: outcome.size, ino: outcome.info.ino }
    : { problem: outcome.problem };
}

Deno.test("a pool of several hash workers gives the same outcomes as one worker and as hashFile()", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ppclient-pool-" });
  try {
    const paths: string[] = [];
    for (let i = 0; i < 300; i++) {
      const path = `${dir}/f${i}`;
      await Deno.writeFile(path, bytesOf(i, (i * 977) % 9000));
      paths.push(path);
    }
    await Deno.writeFile(`${dir}/large`, bytesOf(7, 300_000));
    await Deno.mkdir(`${dir}/sub`);
    paths.push(`${dir}/missing`, `${dir}/sub`, `${dir}/large`);

    const direct = await Promise.all(paths.map(async (path) => {
      const outcome = await hashFile(path, { buffers: new ReadBuffers(64 * 1024) });
      return path.endsWith("/large") ? null : summary(outcome);
    }));
    const outcomesOf = async (workers: number) => {
      using pool = new HashPool(workers, { maxBytes: 100_000 });
      return (await Promise.all(paths.map((path) => pool.hash({ path })))).map(summary);
    };
    const one = await outcomesOf(1);
    const four = await outcomesOf(4);
    assert.deepEqual(one, direct);
    assert.deepEqual(four, direct);
    assert.equal(one.at(-1), null, "a file over maxBytes is left to the caller");
    assert.deepEqual(one.at(-2), { problem: "not_regular" });
    assert.deepEqual(one.at(-3), { problem: "vanished" });
    assert.equal((one[5] as { digest: string }).digest, sha256(bytesOf(5, (5 * 977) % 9000)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hash workers never give a digest for bytes that were not the file's, while files change under them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ppclient-pool-" });
  try {
    // Each file goes through versions of different sizes, rewritten in place; a digest given
    // must be that of bytes the file really held at one moment (or the outcome says it
    // changed). A rewrite truncates, then writes: a reader can see the file empty, or holding
    // a prefix of the new version (seen: 262,144 bytes of one), both real states, which stat
    // times in milliseconds cannot tell from a finished version. A torn read, bytes of two
    // versions together, matches no prefix of one version.
    const versions = Array.from({ length: 6 }, (_, v) => bytesOf(100 + v, 200_000 + v * 37_000));
    const held = (digest: string, size: number) =>
      versions.some((bytes) => size <= bytes.length && sha256(bytes.subarray(0, size)) === digest);
    const paths = Array.from({ length: 8 }, (_, i) => `${dir}/changing${i}`);
    for (const path of paths) await Deno.writeFile(path, versions[0]);
    let writing = true;
    const writer = (async () => {
      for (let round = 1; writing; round++) {
        for (const path of paths) {
          await Deno.writeFile(path, versions[round % versions.length]);
        }
      }
    })();
    const counts = { ok: 0, changed: 0, other: 0 };
    try {
      for (const workers of [1, 4]) {
        using pool = new HashPool(workers);
        for (let round = 0; round < 15; round++) {
          const outcomes = await Promise.all(paths.map((path) => pool.hash({ path })));
          for (const outcome of outcomes) {
            assert.ok(outcome !== null);
            if (outcome.ok) {
              counts.ok++;
              assert.ok(held(outcome.digest, outcome.size), "the digest of bytes the file held");
            } else if (outcome.problem === "changed") {
              counts.changed++;
            } else {
              counts.other++;
            }
          }
        }
      }
    } finally {
      writing = false;
      await writer;
    }
    assert.equal(counts.other, 0);
    assert.ok(counts.ok + counts.changed === 240);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a closed hash pool rejects the jobs it had not answered and new ones", async () => {
  const pool = new HashPool(2);
  const pending = Array.from({ length: 50 }, () => pool.hash({ path: "/dev/null" }));
  const reason = new Error("stopped");
  pool.close(reason);
  const settled = await Promise.allSettled(pending);
  for (const result of settled) {
    if (result.status === "rejected") assert.equal(result.reason, reason);
  }
  await assert.rejects(pool.hash({ path: "/dev/null" }), (error) => error === reason);
});
