import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  constantTimeEqual,
  generateApiKey,
  hashApiKey,
  issueApiKey,
  looksLikeApiKey,
} from "./auth.ts";
import { openMetadataStore } from "./metadata_store/open.ts";

Deno.test("generateApiKey() makes 64 lowercase hex characters, different every time", () => {
  const keys = new Set(Array.from({ length: 100 }, generateApiKey));
  assert.equal(keys.size, 100);
  for (const key of keys) {
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(looksLikeApiKey(key), true);
  }
});

Deno.test("hashApiKey() is the hex SHA-256 of the key, never the key itself", () => {
  const key = generateApiKey();
  const hash = hashApiKey(key);
  assert.equal(hash, createHash("sha256").update(key).digest("hex"));
  assert.equal(hashApiKey(key), hash, "deterministic");
  assert.notEqual(hash, key);
  assert.notEqual(hashApiKey(generateApiKey()), hash);
});

Deno.test("constantTimeEqual() compares strings of any length", () => {
  assert.equal(constantTimeEqual("abc", "abc"), true);
  assert.equal(constantTimeEqual("abc", "abd"), false);
  assert.equal(constantTimeEqual("abc", "abcd"), false);
  assert.equal(constantTimeEqual("", ""), true);
  assert.equal(constantTimeEqual("", "a"), false);
  assert.equal(constantTimeEqual("é", "e\u0301"), false);
  assert.equal(constantTimeEqual("日本", "日本"), true);
});

Deno.test("looksLikeApiKey() accepts only 64 lowercase hex characters", () => {
  for (const value of ["", "0".repeat(63), "0".repeat(65), "A".repeat(64), `${"0".repeat(63)}g`]) {
    assert.equal(looksLikeApiKey(value), false, value);
  }
  assert.equal(looksLikeApiKey("0".repeat(64)), true);
});

Deno.test("issueApiKey() stores only the key's hash and returns the key once", async () => {
  await using store = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  const now = new Date("2026-02-03T04:05:06.000Z");
  const { key, record } = await issueApiKey(
    store.apiKeys,
    { name: "ci", description: "for CI", scope: "write" },
    now,
  );
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(record.key_hash, hashApiKey(key));
  assert.equal(record.created_at, now.toISOString());
  assert.deepEqual(await store.apiKeys.findByHash(hashApiKey(key)), record);
  const stored = JSON.stringify(await store.apiKeys.list());
  assert.ok(!stored.includes(key), "the key itself is stored nowhere");
});
