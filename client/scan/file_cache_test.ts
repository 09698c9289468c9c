import assert from "node:assert/strict";
import type { Digest } from "../../lib/digest.ts";
import { cacheFileOf, FileCache, type FileIdentity, isRacy, RACY_MARGIN_MS } from "./file_cache.ts";

const D1 = "1".repeat(64) as Digest;
const D2 = "2".repeat(64) as Digest;
const OLD = Date.parse("2024-01-01T00:00:00Z");
const id: FileIdentity = { dev: 1, ino: 10, size: 5, mtimeMs: OLD + 123, ctimeMs: OLD };
const NOW = OLD + 3_600_000;

async function withCache(fn: (dir: string) => void | Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "ppclient-cache-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("FileCache.lookup() answers the cached digest only while all five identity fields match", () =>
  withCache((dir) => {
    using cache = FileCache.open(dir, "http://s", "h");
    cache.beginScan();
    cache.record("/r/a", id, D1, true, NOW);
    assert.deepEqual(cache.lookup("/r/a", id), { digest: D1, confirmed: true, racy: false });
    for (
      const changed of [
        { dev: 2 },
        { ino: 11 },
        { size: 6 },
        { mtimeMs: id.mtimeMs + 1 },
        { ctimeMs: id.ctimeMs + 1000 },
      ]
    ) {
      assert.equal(cache.lookup("/r/a", { ...id, ...changed }), null, JSON.stringify(changed));
    }
    assert.equal(cache.lookup("/r/other", id), null);
  }));

Deno.test("FileCache keeps its rows across opens, per server URL and host name", () =>
  withCache((dir) => {
    {
      using cache = FileCache.open(dir, "http://s", "h");
      cache.beginScan();
      cache.record("/r/a", id, D1, false, NOW);
    }
    using again = FileCache.open(dir, "http://s", "h");
    again.beginScan();
    assert.deepEqual(again.lookup("/r/a", id), { digest: D1, confirmed: false, racy: false });
    using otherHost = FileCache.open(dir, "http://s", "h2");
    otherHost.beginScan();
    assert.equal(otherHost.lookup("/r/a", id), null);
    using otherServer = FileCache.open(dir, "http://t", "h");
    otherServer.beginScan();
    assert.equal(otherServer.lookup("/r/a", id), null);
    assert.notEqual(cacheFileOf(dir, "http://s", "h"), cacheFileOf(dir, "http://s", "h2"));
  }));

Deno.test("isRacy(): a file changed within the margin before it was looked at is not trusted", () => {
  assert.equal(isRacy(id, NOW), false);
  // ctime is whole seconds: the real change may be up to a second after the reported one.
  const recent = { ...id, mtimeMs: NOW - 10, ctimeMs: NOW - 10 };
  assert.equal(isRacy(recent, NOW), true);
  assert.equal(isRacy({ ...id, ctimeMs: NOW - 1000 - RACY_MARGIN_MS + 1 }, NOW), true);
  assert.equal(isRacy({ ...id, ctimeMs: NOW - 1000 - RACY_MARGIN_MS }, NOW), false);
});

Deno.test("FileCache marks a racy entry so the file is read again", () =>
  withCache((dir) => {
    using cache = FileCache.open(dir, "http://s", "h");
    cache.beginScan();
    const fresh = { ...id, mtimeMs: NOW - 5, ctimeMs: NOW - 1000 };
    cache.record("/r/a", fresh, D1, true, NOW);
    assert.deepEqual(cache.lookup("/r/a", fresh), { digest: D1, confirmed: true, racy: true });
  }));

Deno.test("FileCache.unseenUnder() lists rows under a root that this scan did not see, in pages", () =>
  withCache((dir) => {
    using cache = FileCache.open(dir, "http://s", "h");
    cache.beginScan();
    for (const path of ["/r", "/r/a", "/r/b/c", "/r/d", "/r-x/e", "/r0", "/q/f", "/r/z"]) {
      cache.record(path, id, D1, true, NOW);
    }
    cache.beginScan();
    cache.lookup("/r/d", id);
    cache.see("/r/z");
    cache.record("/r/new", id, D2, true, NOW);
    const first = cache.unseenUnder("/r", null, 2);
    assert.deepEqual(first.map((r) => r.path), ["/r", "/r/a"]);
    const rest = cache.unseenUnder("/r", first.at(-1)!.path, 10);
    assert.deepEqual(rest.map((r) => r.path), ["/r/b/c"]);
    cache.forget(["/r/a"]);
    assert.deepEqual(cache.unseenUnder("/r", null, 10).map((r) => r.path), ["/r", "/r/b/c"]);
    assert.deepEqual(cache.unseenUnder("/", null, 10).map((r) => r.path), [
      "/q/f",
      "/r",
      "/r-x/e",
      "/r/b/c",
      "/r0",
    ]);
  }));

Deno.test("FileCache.open() on a directory that cannot be created is an unavailable AppError", () =>
  withCache(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "x");
    assert.throws(
      () => FileCache.open(`${dir}/file/sub`, "http://s", "h"),
      (error: Error & { code?: string }) =>
        error.code === "unavailable" && /Cannot use the cache/.test(error.message),
    );
  }));
