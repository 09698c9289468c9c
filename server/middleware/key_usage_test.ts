import assert from "node:assert/strict";
import type { ApiKeyStore } from "../../lib/metadata_store/mod.ts";
import { openMetadataStore } from "../../lib/metadata_store/open.ts";
import { issueApiKey } from "../../lib/auth.ts";
import { KeyUsage } from "./key_usage.ts";

/** The real SQLite key store, with `touch` failing while `failing.on` (a full disk, say). */
async function keyStore() {
  const metadata = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  const failing = { on: false, calls: 0 };
  const real = metadata.apiKeys;
  const apiKeys: ApiKeyStore = {
    create: (key, now) => real.create(key, now),
    findByHash: (hash) => real.findByHash(hash),
    get: (id) => real.get(id),
    list: () => real.list(),
    revoke: (id, now) => real.revoke(id, now),
    delete: (id) => real.delete(id),
    count: () => real.count(),
    touch(id, now) {
      failing.calls++;
      if (failing.on) return Promise.reject(new Error("database or disk is full"));
      return real.touch(id, now);
    },
  };
  const { record } = await issueApiKey(real, { name: "k", description: null, scope: "read" });
  return {
    metadata,
    apiKeys,
    failing,
    id: record.id,
    [Symbol.asyncDispose]: () => metadata[Symbol.asyncDispose](),
  };
}

Deno.test("KeyUsage writes last_used_at in the background, at most once per interval", async () => {
  await using s = await keyStore();
  const logged: unknown[] = [];
  const usage = new KeyUsage({
    apiKeys: s.apiKeys,
    logError: (e) => logged.push(e),
    intervalMs: 60_000,
  });
  usage.note(s.id, 1_000_000);
  usage.note(s.id, 1_000_500);
  usage.note(s.id, 1_059_999);
  await usage.settled();
  assert.equal(s.failing.calls, 1);
  assert.equal(
    (await s.metadata.apiKeys.get(s.id))?.last_used_at,
    new Date(1_000_000).toISOString(),
  );
  usage.note(s.id, 1_060_000);
  await usage.settled();
  assert.equal(s.failing.calls, 2);
  assert.deepEqual(logged, []);
});

Deno.test("KeyUsage never throws on a failed write and logs a run of failures once", async () => {
  await using s = await keyStore();
  const logged: unknown[] = [];
  const usage = new KeyUsage({
    apiKeys: s.apiKeys,
    logError: (e) => logged.push(e),
    intervalMs: 0,
  });
  s.failing.on = true;
  for (let i = 0; i < 5; i++) {
    usage.note(s.id, i);
    await usage.settled();
  }
  assert.equal(s.failing.calls, 5);
  assert.equal(logged.length, 1);
  s.failing.on = false;
  usage.note(s.id, 10);
  await usage.settled();
  s.failing.on = true;
  usage.note(s.id, 11);
  await usage.settled();
  assert.equal(logged.length, 2, "a new run of failures after a success is logged again");
});

Deno.test("KeyUsage coalesces uses while a write is running into that write", async () => {
  await using s = await keyStore();
  const usage = new KeyUsage({ apiKeys: s.apiKeys, logError: () => {}, intervalMs: 0 });
  for (let i = 0; i < 100; i++) usage.note(s.id, i);
  await usage.settled();
  assert.equal(s.failing.calls, 1);
});
