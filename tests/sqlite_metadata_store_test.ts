/** The SQLite metadata store: the shared contract in memory and on disk, plus persistence. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openMetadataStore } from "../lib/metadata_store/open.ts";
import type { MetadataStore } from "../lib/metadata_store/mod.ts";
import { digestOf } from "../lib/digest.ts";
import { AppError } from "../lib/errors.ts";
import { metadataStoreContract } from "./metadata_store_contract.ts";
import { inventoryContract } from "./inventory_contract.ts";

metadataStoreContract("sqlite metadata store (:memory:)", async () => {
  const store = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  return { store, [Symbol.asyncDispose]: () => store[Symbol.asyncDispose]() };
});

metadataStoreContract("sqlite metadata store (file)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqlite-store-" });
  const store = await openMetadataStore({ kind: "sqlite", path: join(dir, "metadata.sqlite") });
  return {
    store,
    async [Symbol.asyncDispose]() {
      await store[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

async function tempDir() {
  const path = await Deno.makeTempDir({ prefix: "sqlite-store-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

const NOW = new Date("2026-03-01T12:00:00.000Z");
const file = {
  filepath: "/srv/kept.txt",
  hostname: "host-a",
  ip_address: "10.0.0.1",
  sha256: digestOf("kept"),
  file_size: 4,
  file_mode: 0o100644,
  file_uid: 1000,
  file_gid: 1000,
  file_mtime: 1_700_000_000.5,
  file_atime: 1_700_000_000.5,
  file_ctime: 1_700_000_000.5,
};

Deno.test("sqlite metadata store: files, blobs and keys persist across close and reopen", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "nested", "metadata.sqlite");
  let fileId: string;
  let keyId: string;
  {
    await using store = await openMetadataStore({ kind: "sqlite", path });
    [{ file: { id: fileId } }] = await store.files.upsertMany([file], NOW);
    await store.files.upsertMany([{ ...file, sha256: digestOf("newer"), file_size: 5 }], NOW);
    await store.blobs.record({ digest: digestOf("kept"), size: 4, epoch_file_id: fileId }, NOW);
    keyId = (await store.apiKeys.create(
      { name: "k", description: null, scope: "admin", key_hash: digestOf("k") },
      NOW,
    )).id;
  }
  await using store = await openMetadataStore({ kind: "sqlite", path });
  assert.equal((await store.files.get("host-a", "/srv/kept.txt"))?.id, fileId);
  assert.equal((await store.files.history("host-a", "/srv/kept.txt"))[0]?.sha256, digestOf("kept"));
  assert.equal((await store.blobs.get(digestOf("kept")))?.epoch_file_id, fileId);
  assert.equal((await store.apiKeys.findByHash(digestOf("k")))?.id, keyId);
});

Deno.test("sqlite metadata store: two :memory: stores share nothing", async () => {
  await using a = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  await using b = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  await a.files.upsertMany([file], NOW);
  assert.equal(await a.files.count(), 1);
  assert.equal(await b.files.count(), 0);
});

Deno.test("sqlite metadata store: a database from a newer schema version is refused with unavailable", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "metadata.sqlite");
  const db = new DatabaseSync(path);
  db.exec("PRAGMA user_version = 99");
  db.close();
  await assert.rejects(
    openMetadataStore({ kind: "sqlite", path }),
    (error: unknown) =>
      error instanceof AppError && error.code === "unavailable" &&
      /schema version 99/.test(error.message),
  );
});

Deno.test("sqlite metadata store: a path that cannot hold a database fails with unavailable", async () => {
  await using dir = await tempDir();
  await assert.rejects(
    openMetadataStore({ kind: "sqlite", path: dir.path }),
    (error: unknown) => error instanceof AppError && error.code === "unavailable",
  );
});

Deno.test("sqlite metadata store: calls after close fail with unavailable and no driver detail", async () => {
  const store = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  await store[Symbol.asyncDispose]();
  for (const call of [() => store.ping(), () => store.files.count(), () => store.apiKeys.list()]) {
    await assert.rejects(call(), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "unavailable");
      assert.equal(error.message, "Metadata store failed");
      return true;
    });
  }
  await store[Symbol.asyncDispose](); // closing twice is harmless
});

inventoryContract("sqlite metadata store (:memory:)", async () => {
  const store = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  return { store, [Symbol.asyncDispose]: () => store[Symbol.asyncDispose]() };
});

Deno.test("sqlite inventory: a broad substring (thousands of matches) pages in order by walking the files", async () => {
  await using store = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  const files = Array.from({ length: 6000 }, (_, i) => ({
    hostname: `h${i % 3}`,
    filepath: `/data/broad/f${String(i).padStart(5, "0")}.txt`,
    ip_address: "",
    sha256: digestOf(`broad ${i}`),
    file_size: 7 + String(i).length,
    file_mode: 0o100644,
    file_uid: 0,
    file_gid: 0,
    file_mtime: 0,
    file_atime: 0,
    file_ctime: 0,
  }));
  for (let i = 0; i < files.length; i += 1000) {
    await store.files.upsertMany(files.slice(i, i + 1000), new Date());
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof store.inventory.search>> = await store.inventory.search(
      { substring: "broad/f0" },
      { limit: 1000, cursor },
    );
    seen.push(...page.items.map((f) => `${f.hostname}:${f.filepath}`));
    cursor = page.next_cursor;
  } while (cursor !== null);
  assert.equal(seen.length, 6000);
  assert.deepEqual(seen, [...seen].sort());
  const narrow = await store.inventory.search({ substring: "f01234." }, {
    limit: 10,
    cursor: null,
  });
  assert.deepEqual(narrow.items.map((f) => f.filepath), ["/data/broad/f01234.txt"]);
});

Deno.test("sqlite inventory: at-risk files page the same whether few or thousands are at risk", async () => {
  await using store = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  const files = Array.from({ length: 6000 }, (_, i) => ({
    hostname: `h${i % 3}`,
    filepath: `/risk/f${String(i).padStart(5, "0")}`,
    ip_address: "",
    sha256: digestOf(`risk ${i % 5500}`),
    file_size: 6 + String(i % 5500).length,
    file_mode: 0o100644,
    file_uid: 0,
    file_gid: 0,
    file_mtime: 0,
    file_atime: 0,
    file_ctime: 0,
  }));
  for (let i = 0; i < files.length; i += 1000) {
    await store.files.upsertMany(files.slice(i, i + 1000), new Date());
  }
  const atRisk = async (hostname?: string) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof store.inventory.atRisk>> = await store.inventory
        .atRisk(hostname === undefined ? {} : { hostname }, { limit: 700, cursor });
      seen.push(...page.items.map((f) => `${f.hostname}:${f.filepath}`));
      cursor = page.next_cursor;
    } while (cursor !== null);
    return seen;
  };
  const expected = (stored: (i: number) => boolean, hostname?: string) =>
    files.filter((f, i) => !stored(i % 5500) && (hostname === undefined || f.hostname === hostname))
      .map((f) => `${f.hostname}:${f.filepath}`).sort();
  // Thousands at risk: nothing is stored.
  assert.equal((await store.inventory.stats(null)).at_risk_files, 6000);
  assert.deepEqual(await atRisk(), expected(() => false));
  assert.deepEqual(await atRisk("h1"), expected(() => false, "h1"));
  // A few at risk: all but every 100th content stored.
  for (let i = 0; i < 5500; i++) {
    if (i % 100 === 0) continue;
    const content = `risk ${i}`;
    await store.blobs.record(
      { digest: digestOf(content), size: content.length, epoch_file_id: null },
      new Date(),
    );
  }
  const few = (i: number) => i % 100 !== 0;
  assert.equal((await store.inventory.stats(null)).at_risk_files, expected(few).length);
  assert.deepEqual(await atRisk(), expected(few));
  assert.deepEqual(await atRisk("h2"), expected(few, "h2"));
});

/** The triggers of schema version 3 that kept `contents` before the maintained totals. */
const V3_CONTENTS_TRIGGERS = `
CREATE TRIGGER contents_insert AFTER INSERT ON files WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO contents (sha256, file_size, live) VALUES (new.sha256, new.file_size, 1)
  ON CONFLICT (sha256) DO UPDATE SET live = live + 1;
END;
CREATE TRIGGER contents_update AFTER UPDATE OF sha256, deleted_at ON files
WHEN old.sha256 IS NOT new.sha256 OR old.deleted_at IS NOT new.deleted_at BEGIN
  UPDATE contents SET live = live - 1 WHERE old.deleted_at IS NULL AND sha256 = old.sha256;
  INSERT INTO contents (sha256, file_size, live)
  SELECT new.sha256, new.file_size, 1 WHERE new.deleted_at IS NULL
  ON CONFLICT (sha256) DO UPDATE SET live = live + 1;
END;
CREATE TRIGGER contents_delete AFTER DELETE ON files WHEN old.deleted_at IS NULL BEGIN
  UPDATE contents SET live = live - 1 WHERE sha256 = old.sha256;
END;`;

/** Turns a current database back into one of schema version 3, or one before `contents`. */
function downgrade(path: string, to: "version 3" | "before contents"): void {
  const db = new DatabaseSync(path);
  for (const row of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all()) {
    if (String(row.name).startsWith("totals_")) db.exec(`DROP TRIGGER ${String(row.name)}`);
  }
  db.exec(`DROP INDEX contents_single_host; DROP INDEX contents_at_risk;
    DROP TABLE host_totals; DROP TABLE host_contents; DROP TABLE fleet_totals;
    ALTER TABLE contents DROP COLUMN hosts; ALTER TABLE contents DROP COLUMN stored;
    PRAGMA user_version = 3;`);
  db.exec(to === "version 3" ? V3_CONTENTS_TRIGGERS : "DROP TABLE contents");
  db.close();
}

Deno.test("sqlite inventory: a database of schema version 3 or older gets the maintained totals at open, and they stay right", async () => {
  const at = (day: number) => new Date(Date.UTC(2026, 3, day));
  const file = (hostname: string, filepath: string, content: string) => ({
    hostname,
    filepath,
    ip_address: "",
    sha256: digestOf(content),
    file_size: content.length,
    file_mode: 0o100644,
    file_uid: 0,
    file_gid: 0,
    file_mtime: 0,
    file_atime: 0,
    file_ctime: 0,
  });
  const before = async (store: MetadataStore) => {
    await store.files.upsertMany([
      file("h1", "/a", "twice"),
      file("h1", "/b", "twice"),
      file("h1", "/c", "once"),
      file("h1", "/e", ""),
      file("h2", "/a", "twice"),
      file("h2", "/d", "gone"),
    ], at(1));
    await store.blobs.record({ digest: digestOf("twice"), size: 5, epoch_file_id: null }, at(1));
    await store.files.markDeleted("h2", ["/d"], at(2));
    await store.files.upsertMany([file("h1", "/c", "changed")], at(2));
  };
  const after = async (store: MetadataStore) => {
    await store.files.upsertMany([file("h2", "/d", "changed"), file("h3", "/x", "once")], at(3));
    await store.files.markDeleted("h1", ["/a"], at(3));
    await store.blobs.record({ digest: digestOf("changed"), size: 7, epoch_file_id: null }, at(3));
  };
  const answers = async (store: MetadataStore) => {
    const q = store.inventory;
    const all = { limit: 100, cursor: null };
    return {
      hosts: (await q.hosts(all)).items,
      fleet: await q.stats(null),
      hosts_stats: await Promise.all(["h1", "h2", "h3"].map((h) => q.stats(h))),
      single_host: (await q.singleHost({}, all)).items,
      at_risk: (await q.atRisk({}, all)).items.map((f) => `${f.hostname}:${f.filepath}`),
      duplicates: (await q.duplicates({}, all)).items,
    };
  };
  for (const to of ["version 3", "before contents"] as const) {
    const dir = await Deno.makeTempDir({ prefix: "sqlite-totals-" });
    try {
      const path = join(dir, "metadata.sqlite");
      {
        await using store = await openMetadataStore({ kind: "sqlite", path });
        await before(store);
      }
      downgrade(path, to);
      await using fresh = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
      await before(fresh);
      await using migrated = await openMetadataStore({ kind: "sqlite", path });
      const expected = await answers(fresh);
      assert.equal(expected.fleet.at_risk_files, 1, to);
      assert.deepEqual(await answers(migrated), expected, to);
      // Written after the migration: counted once, by the new triggers only.
      await after(fresh);
      await after(migrated);
      assert.deepEqual(await answers(migrated), await answers(fresh), to);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
