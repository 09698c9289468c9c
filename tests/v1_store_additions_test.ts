/**
 * The metadata store methods behind /v1 on SQLite: soft delete
 * (`files.markDeleted`), totals (`files.stats`, `blobs.stats`) and the schema migration
 * that adds `deleted_at` to a database made by an older ppserver.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openMetadataStore } from "../lib/metadata_store/open.ts";
import { SCHEMA_VERSION } from "../lib/metadata_store/sqlite/schema.ts";
import { digestOf } from "../lib/digest.ts";
import { fileAt } from "./file_fixture.ts";

const T1 = new Date("2026-03-01T12:00:00.000Z");
const T2 = new Date("2026-03-02T12:00:00.000Z");
const T3 = new Date("2026-03-03T12:00:00.000Z");

async function memoryStore() {
  return await openMetadataStore({ kind: "sqlite", path: ":memory:" });
}

Deno.test("files.markDeleted() hides a file from get, findByDigest, count and stats but keeps it by id", async () => {
  await using store = await memoryStore();
  const a = fileAt("h", "/a", "same");
  const b = fileAt("h", "/b", "same");
  const [{ file: fileA }] = await store.files.upsertMany([a, b], T1);
  assert.equal(await store.files.markDeleted("h", ["/a"], T2), 1);
  assert.equal(await store.files.get("h", "/a"), null);
  assert.deepEqual((await store.files.findByDigest(a.sha256, 10)).map((f) => f.filepath), ["/b"]);
  assert.equal(await store.files.count(), 1);
  assert.equal((await store.files.stats()).files, 1);
  const byId = await store.files.getById(fileA.id);
  assert.equal(byId?.filepath, "/a");
  assert.equal(Object.hasOwn(byId ?? {}, "deleted_at"), false, "deleted_at stays inside");
});

Deno.test("files.markDeleted() counts only live files of that host and skips unknown paths", async () => {
  await using store = await memoryStore();
  await store.files.upsertMany([fileAt("h", "/a"), fileAt("other", "/b")], T1);
  assert.equal(await store.files.markDeleted("h", ["/a", "/a", "/b", "/nope"], T2), 1);
  assert.equal(await store.files.markDeleted("h", ["/a"], T3), 0, "already deleted");
  assert.equal((await store.files.get("other", "/b"))?.filepath, "/b");
  assert.equal(await store.files.markDeleted("h", [], T3), 0);
});

Deno.test("a deleted file registered again comes back as updated with its id and history", async () => {
  await using store = await memoryStore();
  const a = fileAt("h", "/a", "v1");
  const [{ file: first }] = await store.files.upsertMany([a], T1);
  await store.files.markDeleted("h", ["/a"], T2);
  const [same] = await store.files.upsertMany([a], T3);
  assert.equal(same.outcome, "updated", "same metadata is not unchanged when it was deleted");
  assert.equal(same.file.id, first.id);
  assert.equal(same.file.updated_at, T3.toISOString());
  assert.equal((await store.files.get("h", "/a"))?.id, first.id);
  const [again] = await store.files.upsertMany([a], T3);
  assert.equal(again.outcome, "unchanged");

  await store.files.markDeleted("h", ["/a"], T3);
  const [changed] = await store.files.upsertMany([fileAt("h", "/a", "v2")], T3);
  assert.equal(changed.outcome, "updated");
  assert.deepEqual((await store.files.history("h", "/a")).map((e) => e.sha256), [digestOf("v1")]);
});

Deno.test("files.stats() counts live files, distinct digests, logical and unique bytes", async () => {
  await using store = await memoryStore();
  assert.deepEqual(await store.files.stats(), {
    files: 0,
    distinct_digests: 0,
    logical_bytes: 0n,
    unique_bytes: 0n,
  });
  await store.files.upsertMany([
    fileAt("h1", "/x", "twelve bytes"),
    fileAt("h2", "/y", "twelve bytes"),
    fileAt("h2", "/z", "four"),
    fileAt("h3", "/gone", "deleted content"),
  ], T1);
  await store.files.markDeleted("h3", ["/gone"], T2);
  assert.deepEqual(await store.files.stats(), {
    files: 3,
    distinct_digests: 2,
    logical_bytes: BigInt(12 + 12 + 4),
    unique_bytes: BigInt(12 + 4),
  });
});

Deno.test("blobs.stats() counts recorded blobs and their bytes", async () => {
  await using store = await memoryStore();
  assert.deepEqual(await store.blobs.stats(), { blobs: 0, bytes: 0n });
  await store.blobs.record({ digest: digestOf("a"), size: 10, epoch_file_id: null }, T1);
  await store.blobs.record({ digest: digestOf("b"), size: 32, epoch_file_id: null }, T1);
  await store.blobs.record({ digest: digestOf("b"), size: 32, epoch_file_id: null }, T2);
  assert.deepEqual(await store.blobs.stats(), { blobs: 2, bytes: 42n });
});

Deno.test("a schema version 1 database is migrated in place and keeps its files and keys", async () => {
  const dir = await Deno.makeTempDir({ prefix: "v1-migrate-" });
  try {
    const path = join(dir, "metadata.sqlite");
    const db = new DatabaseSync(path);
    // The files table exactly as schema version 1 created it.
    db.exec(`CREATE TABLE files (
      id TEXT PRIMARY KEY, hostname TEXT NOT NULL, filepath TEXT NOT NULL,
      ip_address TEXT NOT NULL, sha256 TEXT NOT NULL, file_size INTEGER NOT NULL,
      file_mode INTEGER NOT NULL, file_uid INTEGER NOT NULL, file_gid INTEGER NOT NULL,
      file_mtime REAL NOT NULL, file_atime REAL NOT NULL, file_ctime REAL NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (hostname, filepath));
      CREATE TABLE api_keys (
      id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
      description TEXT, scope TEXT NOT NULL, created_at TEXT NOT NULL, last_used_at TEXT,
      revoked_at TEXT);
      INSERT INTO api_keys VALUES ('0123456789abcdef01234568', '${"a".repeat(64)}', 'old key',
        NULL, 'write', '2026-01-01T00:00:00.000Z', NULL, NULL);
      PRAGMA user_version = 1;`);
    db.prepare(
      `INSERT INTO files VALUES ('0123456789abcdef01234567', 'h', '/old', '', ?, 3, 0, 0, 0,
        0, 0, 0, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`,
    ).run(digestOf("old"));
    db.close();

    {
      await using store = await openMetadataStore({ kind: "sqlite", path });
      assert.equal((await store.files.get("h", "/old"))?.id, "0123456789abcdef01234567");
      // Version 3 indexed the paths that were already there for substring search.
      const found = await store.inventory.search({ substring: "/ol" }, { limit: 10, cursor: null });
      assert.deepEqual(found.items.map((f) => f.filepath), ["/old"]);
      // Version 5 counted the files that were already there in the maintained totals.
      assert.equal((await store.inventory.stats(null)).files, 1);
      assert.equal(await store.files.markDeleted("h", ["/old"], T1), 1);
      assert.equal(await store.files.get("h", "/old"), null);
      const [old] = await store.apiKeys.list();
      assert.equal(old.name, "old key");
      assert.equal(old.hosts, null, "a key from before host limits may write any host");
      const bound = await store.apiKeys.create(
        { name: "new", description: null, scope: "write", key_hash: "b".repeat(64), hosts: ["h*"] },
        T1,
      );
      assert.deepEqual((await store.apiKeys.get(bound.id))?.hosts, ["h*"]);
      assert.equal((await store.inventory.stats("h")).logical_bytes, 0);
    }
    const check = new DatabaseSync(path);
    const version = check.prepare("PRAGMA user_version").get()?.user_version;
    const row = check.prepare("SELECT deleted_at FROM files").get();
    check.close();
    assert.equal(version, SCHEMA_VERSION);
    assert.equal(row?.deleted_at, T1.toISOString());
    // Opening the migrated database again changes nothing.
    await using again = await openMetadataStore({ kind: "sqlite", path });
    assert.equal(await again.files.count(), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
