/**
 * The conformance suite every `MetadataStore` adapter passes (DESIGN.md section 4).
 *
 * An adapter's test file calls `metadataStoreContract(name, open)` once. `open` makes a
 * fresh, empty store for one test case (`:memory:`, a temp file, a new database on a real
 * server) and returns it with a disposer that closes the store and removes what it made.
 * When the store's server is unavailable, pass `{ ignore: "why" }`: every case is then
 * registered as ignored with that reason, so the run reports it instead of passing silently.
 */
import assert from "node:assert/strict";
import type { MetadataStore } from "../lib/metadata_store/mod.ts";
import { type Digest, digestOf } from "../lib/digest.ts";
import { AppError } from "../lib/errors.ts";
import { isId } from "../lib/ids.ts";
import type { FileMetadata } from "../lib/models/file.ts";
import type { Scope } from "../lib/models/api_key.ts";

/** One fresh store for one test case. Disposing it closes the store and cleans up. */
export interface MetadataStoreFixture extends AsyncDisposable {
  store: MetadataStore;
}

export interface MetadataStoreContractOptions {
  /** Why the suite cannot run here; every case is then registered as ignored. */
  ignore?: string;
}

const FILE_RECORD_KEYS = [
  "id",
  "hostname",
  "filepath",
  "ip_address",
  "sha256",
  "file_size",
  "file_mode",
  "file_uid",
  "file_gid",
  "file_mtime",
  "file_atime",
  "file_ctime",
  "created_at",
  "updated_at",
].sort();
const BLOB_RECORD_KEYS = ["digest", "size", "stored_at", "epoch_file_id"].sort();
const API_KEY_RECORD_KEYS = [
  "id",
  "name",
  "description",
  "scope",
  "key_hash",
  "created_at",
  "last_used_at",
  "revoked_at",
  "hosts",
].sort();

export function metadataStoreContract(
  name: string,
  open: () => Promise<MetadataStoreFixture>,
  options: MetadataStoreContractOptions = {},
): void {
  const test = (spec: string, fn: (store: MetadataStore) => Promise<void>) =>
    Deno.test({
      name: options.ignore ? `${name}: ${spec} (${options.ignore})` : `${name}: ${spec}`,
      ignore: options.ignore !== undefined,
      async fn() {
        await using fixture = await open();
        await fn(fixture.store);
      },
    });

  // ---- files ----

  test("files.upsertMany() creates a file that get() and getById() return unchanged", async (store) => {
    const input = fileAt("host-a", "/srv/a.txt");
    const [result] = await store.files.upsertMany([input], T1);
    assert.equal(result.outcome, "created");
    const file = result.file;
    assert.ok(isId(file.id), `id "${file.id}" is 24 lowercase hex`);
    assert.deepEqual(Object.keys(file).sort(), FILE_RECORD_KEYS);
    assert.deepEqual(file, {
      ...input,
      id: file.id,
      created_at: T1.toISOString(),
      updated_at: T1.toISOString(),
    });
    assert.deepEqual(await store.files.get("host-a", "/srv/a.txt"), file);
    assert.deepEqual(await store.files.getById(file.id), file);
    assert.equal(await store.files.count(), 1);
  });

  test("files.get() and getById() are null for unknown files", async (store) => {
    await store.files.upsertMany([fileAt("host-a", "/srv/a.txt")], T1);
    assert.equal(await store.files.get("host-a", "/srv/b.txt"), null);
    assert.equal(await store.files.get("host-b", "/srv/a.txt"), null);
    assert.equal(await store.files.getById("0123456789abcdef01234567"), null);
  });

  test("registering a file again with the same metadata is unchanged and keeps the record", async (store) => {
    const input = fileAt("host-a", "/srv/a.txt");
    const [first] = await store.files.upsertMany([input], T1);
    const [again] = await store.files.upsertMany([{ ...input }], T2);
    assert.equal(again.outcome, "unchanged");
    assert.deepEqual(again.file, first.file);
    assert.deepEqual(await store.files.get("host-a", "/srv/a.txt"), first.file);
    assert.deepEqual(await store.files.history("host-a", "/srv/a.txt"), []);
    assert.equal(await store.files.count(), 1);
  });

  test("a change of stat metadata updates the file in place and adds no history", async (store) => {
    const input = fileAt("host-a", "/srv/a.txt");
    const [first] = await store.files.upsertMany([input], T1);
    const changed = { ...input, file_mtime: input.file_mtime + 60, file_mode: 0o100600 };
    const [second] = await store.files.upsertMany([changed], T2);
    assert.equal(second.outcome, "updated");
    assert.deepEqual(second.file, {
      ...changed,
      id: first.file.id,
      created_at: T1.toISOString(),
      updated_at: T2.toISOString(),
    });
    assert.deepEqual(await store.files.get("host-a", "/srv/a.txt"), second.file);
    assert.deepEqual(await store.files.history("host-a", "/srv/a.txt"), []);
  });

  test("a new digest updates the file and keeps the old digest as history", async (store) => {
    const input = fileAt("host-a", "/srv/a.txt", { content: "v1" });
    const [first] = await store.files.upsertMany([input], T1);
    const next = fileAt("host-a", "/srv/a.txt", {
      content: "version 2",
      file_mtime: 1_700_000_100,
    });
    const [second] = await store.files.upsertMany([next], T2);
    assert.equal(second.outcome, "updated");
    assert.equal(second.file.id, first.file.id);
    assert.equal(second.file.sha256, next.sha256);
    assert.equal(second.file.created_at, T1.toISOString());
    assert.deepEqual(await store.files.history("host-a", "/srv/a.txt"), [
      {
        sha256: input.sha256,
        file_size: input.file_size,
        file_mtime: input.file_mtime,
        replaced_at: T2.toISOString(),
      },
    ]);
    assert.equal(await store.files.count(), 1);
  });

  test("history lists earlier digests newest first", async (store) => {
    const versions = ["one", "two!", "three", "four"].map((content, i) =>
      fileAt("h", "/f", { content, file_mtime: 1_700_000_000 + i })
    );
    const times = [T1, T2, T3, T4];
    for (const [i, version] of versions.entries()) {
      await store.files.upsertMany([version], times[i]);
    }
    const history = await store.files.history("h", "/f");
    assert.deepEqual(
      history.map((h) => [h.sha256, h.file_size, h.replaced_at]),
      [
        [versions[2].sha256, 5, T4.toISOString()],
        [versions[1].sha256, 4, T3.toISOString()],
        [versions[0].sha256, 3, T2.toISOString()],
      ],
    );
    const current = await store.files.get("h", "/f");
    assert.equal(current?.sha256, versions[3].sha256);
  });

  test("history of an unknown file is empty", async (store) => {
    assert.deepEqual(await store.files.history("nowhere", "/nothing"), []);
  });

  test("files are keyed by (hostname, filepath): same path on two hosts, two paths on one host, case counts", async (store) => {
    const results = await store.files.upsertMany([
      fileAt("host-a", "/srv/a.txt"),
      fileAt("host-b", "/srv/a.txt"),
      fileAt("host-a", "/srv/b.txt"),
      fileAt("host-a", "/srv/A.txt"),
      fileAt("HOST-A", "/srv/a.txt"),
    ], T1);
    assert.deepEqual(results.map((r) => r.outcome), Array(5).fill("created"));
    assert.equal(new Set(results.map((r) => r.file.id)).size, 5);
    assert.equal(await store.files.count(), 5);
  });

  test("upsertMany() returns one result per input, in input order", async (store) => {
    const kept = fileAt("h", "/kept");
    const changed = fileAt("h", "/changed", { content: "old" });
    await store.files.upsertMany([kept, changed], T1);
    const fresh = fileAt("h", "/fresh");
    const newer = fileAt("h", "/changed", { content: "new" });
    const results = await store.files.upsertMany([fresh, kept, newer], T2);
    assert.deepEqual(
      results.map((r) => [r.file.filepath, r.outcome, r.file.sha256]),
      [
        ["/fresh", "created", fresh.sha256],
        ["/kept", "unchanged", kept.sha256],
        ["/changed", "updated", newer.sha256],
      ],
    );
    assert.deepEqual(await store.files.upsertMany([], T3), []);
    assert.equal(await store.files.count(), 3);
  });

  test("file values round-trip exactly: fractional times, large numbers, unusual paths and hosts", async (store) => {
    const input: FileMetadata = {
      ...fileAt("höst-ü.example", '/srv/dïr with space/it\'s "quoted" %20 \\ back\nline/日本.txt'),
      ip_address: "2001:db8::1",
      file_size: Number.MAX_SAFE_INTEGER,
      file_mode: 0o104755,
      file_uid: 4_294_967_294,
      file_gid: 0,
      file_mtime: 1_700_000_000.123456,
      file_atime: 0.5,
      file_ctime: -86_400.25,
    };
    const [{ file }] = await store.files.upsertMany([input], T1);
    const read = await store.files.get(input.hostname, input.filepath);
    assert.deepEqual(read, file);
    assert.deepEqual(read, {
      ...input,
      id: file.id,
      created_at: file.created_at,
      updated_at: file.updated_at,
    });
    for (const key of ["file_size", "file_mode", "file_uid", "file_mtime", "file_ctime"] as const) {
      assert.equal(typeof read?.[key], "number", key);
    }
    const [again] = await store.files.upsertMany([{ ...input }], T2);
    assert.equal(again.outcome, "unchanged", "values read back compare equal to what was sent");
  });

  test("findByDigest() lists files whose current digest it is, oldest first, up to the limit", async (store) => {
    const shared = "shared bytes";
    await store.files.upsertMany([fileAt("c", "/third", { content: shared })], T3);
    await store.files.upsertMany([fileAt("a", "/first", { content: shared })], T1);
    await store.files.upsertMany([fileAt("b", "/second", { content: shared })], T2);
    await store.files.upsertMany([fileAt("d", "/other", { content: "other" })], T1);
    const digest = digestOf(shared);
    const all = await store.files.findByDigest(digest, 10);
    assert.deepEqual(all.map((f) => f.filepath), ["/first", "/second", "/third"]);
    assert.deepEqual(all[0], await store.files.get("a", "/first"));
    const two = await store.files.findByDigest(digest, 2);
    assert.deepEqual(two.map((f) => f.filepath), ["/first", "/second"]);
    assert.deepEqual(await store.files.findByDigest(digestOf("nobody has these"), 10), []);
  });

  test("findByDigest() no longer lists a file whose digest changed", async (store) => {
    const old = fileAt("a", "/f", { content: "before" });
    await store.files.upsertMany([old], T1);
    await store.files.upsertMany([fileAt("a", "/f", { content: "after" })], T2);
    assert.deepEqual(await store.files.findByDigest(old.sha256, 10), []);
    assert.equal((await store.files.findByDigest(digestOf("after"), 10)).length, 1);
  });

  test("concurrent upserts of one (hostname, filepath) leave one file", async (store) => {
    const input = fileAt("racer", "/same/path");
    const results = await Promise.all(
      Array.from({ length: 10 }, () => store.files.upsertMany([{ ...input }], T1)),
    );
    const outcomes = results.map(([r]) => r.outcome);
    assert.equal(outcomes.filter((o) => o === "created").length, 1, outcomes.join());
    assert.equal(new Set(results.map(([r]) => r.file.id)).size, 1);
    assert.equal(await store.files.count(), 1);
  });

  test("concurrent upserts of distinct files all land", async (store) => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.files.upsertMany([fileAt("h", `/f${i}`)], T1)),
    );
    assert.equal(await store.files.count(), 20);
  });

  // ---- files: admin removal ----

  test("files.removeHost() removes every record of the host, live or deleted, with its history", async (store) => {
    await store.files.upsertMany(
      [fileAt("old", "/a"), fileAt("old", "/b"), fileAt("new", "/a")],
      T1,
    );
    await store.files.upsertMany([fileAt("old", "/a", { content: "changed" })], T2);
    await store.files.markDeleted("old", ["/b"], T3);
    await store.files.recordCompleteScan("old", T3);
    assert.equal(await store.files.removeHost("old"), 2);
    const hosts = await store.inventory.hosts({ limit: 10, cursor: null });
    assert.deepEqual(hosts.items.map((h) => h.hostname), ["new"], "nor its last complete scan");
    assert.equal(await store.files.get("old", "/a"), null);
    assert.deepEqual(await store.files.history("old", "/a"), []);
    assert.equal((await store.files.get("new", "/a"))?.hostname, "new");
    assert.equal(await store.files.removeHost("old"), 0);
    assert.equal(await store.files.removeHost("OLD"), 0, "hostnames are exact");
  });

  test("files.removeDigest() removes the files with the digest and the history naming it", async (store) => {
    const secret = fileAt("a", "/secret", { content: "secret" });
    await store.files.upsertMany([secret, fileAt("b", "/copy", { content: "secret" })], T1);
    await store.files.upsertMany([fileAt("c", "/was", { content: "secret" })], T1);
    await store.files.upsertMany([fileAt("c", "/was", { content: "clean" })], T2);
    assert.equal(await store.files.removeDigest(secret.sha256), 2);
    assert.deepEqual(await store.files.findByDigest(secret.sha256, 10), []);
    assert.equal(await store.files.get("a", "/secret"), null);
    assert.equal((await store.files.get("c", "/was"))?.sha256, digestOf("clean"));
    assert.deepEqual(await store.files.history("c", "/was"), []);
    assert.equal(await store.files.removeDigest(secret.sha256), 0);
  });

  // ---- audit log ----

  test("audit.record() keeps a removal and list() gives the newest first, up to a limit", async (store) => {
    assert.deepEqual(await store.audit.list(10), []);
    const entry = {
      action: "host_removed" as const,
      subject: "old",
      key_id: "k",
      key_name: "admin",
      files_removed: 2,
      detail: "Removed 2 file records",
    };
    const first = await store.audit.record(entry, T1);
    assert.ok(isId(first.id));
    assert.deepEqual(first, { id: first.id, at: T1.toISOString(), ...entry });
    const second = await store.audit.record({ ...entry, action: "blob_purged", subject: "d" }, T2);
    assert.deepEqual(await store.audit.list(10), [second, first]);
    assert.deepEqual(await store.audit.list(1), [second]);
  });

  // ---- files: soft delete and totals ----

  test("files.markDeleted() marks only live files of that host and returns how many it marked", async (store) => {
    assert.equal(await store.files.markDeleted("h", ["/a"], T1), 0, "an empty store");
    await store.files.upsertMany([
      fileAt("h", "/a"),
      fileAt("h", "/b"),
      fileAt("h", "/c"),
      fileAt("other", "/a"),
    ], T1);
    assert.equal(await store.files.markDeleted("h", ["/a", "/unknown", "/a"], T2), 1);
    assert.equal(await store.files.markDeleted("h", ["/a", "/b"], T3), 1, "/a is already deleted");
    assert.equal(await store.files.markDeleted("h", [], T3), 0);
    assert.equal(await store.files.markDeleted("nobody", ["/c"], T3), 0);
    assert.equal(await store.files.markDeleted("H", ["/c"], T3), 0, "hostnames are exact");
    assert.equal(await store.files.get("h", "/a"), null);
    assert.equal(await store.files.get("h", "/b"), null);
    assert.equal((await store.files.get("h", "/c"))?.filepath, "/c");
    assert.equal((await store.files.get("other", "/a"))?.hostname, "other");
    assert.equal(await store.files.count(), 2);
  });

  test("a deleted file leaves get(), findByDigest(), count() and stats(); getById() and history() keep it", async (store) => {
    const v1 = fileAt("h", "/f", { content: "first" });
    const v2 = fileAt("h", "/f", { content: "second", file_mtime: 1_700_000_100 });
    await store.files.upsertMany([v1], T1);
    const [{ file }] = await store.files.upsertMany([v2], T2);
    const [{ file: twin }] = await store.files.upsertMany(
      [fileAt("other", "/g", { content: "second" })],
      T2,
    );
    assert.equal(await store.files.markDeleted("h", ["/f"], T3), 1);
    assert.equal(await store.files.get("h", "/f"), null);
    assert.deepEqual(await store.files.findByDigest(v2.sha256, 10), [twin]);
    assert.equal(await store.files.count(), 1);
    assert.deepEqual(await store.files.stats(), {
      files: 1,
      distinct_digests: 1,
      logical_bytes: 6n,
      unique_bytes: 6n,
    });
    const byId = await store.files.getById(file.id);
    assert.ok(byId, "a deleted file is still found by its id");
    assert.deepEqual(Object.keys(byId).sort(), FILE_RECORD_KEYS);
    assert.deepEqual(byId, { ...file, updated_at: byId.updated_at });
    assert.deepEqual(await store.files.history("h", "/f"), [
      {
        sha256: v1.sha256,
        file_size: v1.file_size,
        file_mtime: v1.file_mtime,
        replaced_at: T2.toISOString(),
      },
    ]);
  });

  test("registering a deleted file again with the same metadata brings it back as updated, then unchanged", async (store) => {
    const input = fileAt("h", "/back");
    const [first] = await store.files.upsertMany([input], T1);
    await store.files.markDeleted("h", ["/back"], T2);
    const [back] = await store.files.upsertMany([{ ...input }], T3);
    assert.equal(back.outcome, "updated");
    assert.deepEqual(back.file, { ...first.file, updated_at: T3.toISOString() });
    assert.deepEqual(await store.files.get("h", "/back"), back.file);
    assert.deepEqual(await store.files.getById(first.file.id), back.file);
    assert.deepEqual(await store.files.findByDigest(input.sha256, 10), [back.file]);
    assert.equal(await store.files.count(), 1);
    assert.deepEqual(await store.files.history("h", "/back"), []);
    const [again] = await store.files.upsertMany([{ ...input }], T4);
    assert.equal(again.outcome, "unchanged");
    assert.deepEqual(again.file, back.file);
    assert.equal(await store.files.markDeleted("h", ["/back"], T4), 1, "it can be deleted again");
  });

  test("registering a deleted file again with a new digest brings it back as updated and keeps the old digest as history", async (store) => {
    const old = fileAt("h", "/f", { content: "old bytes" });
    const [first] = await store.files.upsertMany([old], T1);
    await store.files.markDeleted("h", ["/f"], T2);
    const next = fileAt("h", "/f", { content: "new", file_mtime: 1_700_000_100 });
    const [back] = await store.files.upsertMany([next], T3);
    assert.equal(back.outcome, "updated");
    assert.deepEqual(back.file, {
      ...next,
      id: first.file.id,
      created_at: T1.toISOString(),
      updated_at: T3.toISOString(),
    });
    assert.deepEqual(await store.files.get("h", "/f"), back.file);
    assert.deepEqual(await store.files.history("h", "/f"), [
      {
        sha256: old.sha256,
        file_size: old.file_size,
        file_mtime: old.file_mtime,
        replaced_at: T3.toISOString(),
      },
    ]);
    assert.deepEqual(await store.files.findByDigest(old.sha256, 10), []);
    assert.deepEqual(await store.files.findByDigest(next.sha256, 10), [back.file]);
  });

  test("files.stats() is all zeros on an empty store", async (store) => {
    assert.deepEqual(await store.files.stats(), {
      files: 0,
      distinct_digests: 0,
      logical_bytes: 0n,
      unique_bytes: 0n,
    });
  });

  test("files.stats() and blobs.stats() sum sizes past 2^53 exactly", async (store) => {
    const huge = Number.MAX_SAFE_INTEGER;
    await store.files.upsertMany([
      { ...fileAt("h1", "/a"), file_size: huge },
      { ...fileAt("h1", "/b"), file_size: huge },
    ], T1);
    await store.blobs.record({ digest: digestOf("a"), size: huge, epoch_file_id: null }, T1);
    await store.blobs.record({ digest: digestOf("b"), size: huge, epoch_file_id: null }, T1);
    const sum = 2n * BigInt(huge);
    assert.deepEqual(await store.files.stats(), {
      files: 2,
      distinct_digests: 2,
      logical_bytes: sum,
      unique_bytes: sum,
    });
    assert.deepEqual(await store.blobs.stats(), { blobs: 2, bytes: sum });
  });

  test("files.stats() totals the live files and counts each distinct digest's bytes once", async (store) => {
    await store.files.upsertMany([
      fileAt("h1", "/x", { content: "twelve bytes" }),
      fileAt("h2", "/x", { content: "twelve bytes" }),
      fileAt("h2", "/z", { content: "four" }),
      fileAt("h3", "/copy", { content: "four" }),
      fileAt("h3", "/gone", { content: "deleted content" }),
      fileAt("h3", "/changed", { content: "earlier digest" }),
    ], T1);
    await store.files.upsertMany([fileAt("h3", "/changed", { content: "now" })], T2);
    assert.equal(await store.files.markDeleted("h3", ["/copy", "/gone"], T3), 2);
    assert.deepEqual(await store.files.stats(), {
      files: 4,
      distinct_digests: 3,
      logical_bytes: BigInt(12 + 12 + 4 + 3),
      unique_bytes: BigInt(12 + 4 + 3),
    });
    await store.files.markDeleted("h1", ["/x"], T4);
    await store.files.markDeleted("h2", ["/x", "/z"], T4);
    await store.files.markDeleted("h3", ["/changed"], T4);
    assert.deepEqual(await store.files.stats(), {
      files: 0,
      distinct_digests: 0,
      logical_bytes: 0n,
      unique_bytes: 0n,
    });
  });

  // ---- blobs ----

  test("blobs.record() records a blob once; a second record is false and the first stays", async (store) => {
    const digest = digestOf("blob");
    assert.equal(
      await store.blobs.record({ digest, size: 4, epoch_file_id: "a".repeat(24) }, T1),
      true,
    );
    assert.equal(
      await store.blobs.record({ digest, size: 4, epoch_file_id: "b".repeat(24) }, T2),
      false,
    );
    const record = await store.blobs.get(digest);
    assert.ok(record);
    assert.deepEqual(Object.keys(record).sort(), BLOB_RECORD_KEYS);
    assert.deepEqual(record, {
      digest,
      size: 4,
      stored_at: T1.toISOString(),
      epoch_file_id: "a".repeat(24),
    });
    assert.equal(await store.blobs.has(digest), true);
  });

  test("blobs.record() keeps a blob with no known epoch file", async (store) => {
    const digest = digestOf("orphan");
    assert.equal(await store.blobs.record({ digest, size: 6, epoch_file_id: null }, T1), true);
    assert.deepEqual(await store.blobs.get(digest), {
      digest,
      size: 6,
      stored_at: T1.toISOString(),
      epoch_file_id: null,
    });
  });

  test("blobs.has() and get() are false and null for an unknown digest", async (store) => {
    assert.equal(await store.blobs.has(digestOf("unknown")), false);
    assert.equal(await store.blobs.get(digestOf("unknown")), null);
  });

  test("blobs.missing() returns the unrecorded digests once each, in input order", async (store) => {
    const [d1, d2, d3, d4] = ["1", "2", "3", "4"].map((s) => digestOf(s));
    await store.blobs.record({ digest: d1, size: 1, epoch_file_id: null }, T1);
    assert.deepEqual(await store.blobs.missing([d3, d1, d3, d2, d4, d1, d2]), [d3, d2, d4]);
    assert.deepEqual(await store.blobs.missing([d1, d1]), []);
    assert.deepEqual(await store.blobs.missing([]), []);
  });

  test("blobs.missing() answers a batch of thousands", async (store) => {
    const digests = Array.from({ length: 3000 }, (_, i) => digestOf(`blob ${i}`));
    for (const digest of digests.filter((_, i) => i % 3 === 0)) {
      await store.blobs.record({ digest, size: 1, epoch_file_id: null }, T1);
    }
    assert.deepEqual(await store.blobs.missing(digests), digests.filter((_, i) => i % 3 !== 0));
  });

  test("blobs.remove() forgets a blob; removing an unknown digest is not an error", async (store) => {
    const digest = digestOf("gone soon");
    await store.blobs.record({ digest, size: 9, epoch_file_id: null }, T1);
    await store.blobs.remove(digest);
    assert.equal(await store.blobs.has(digest), false);
    assert.equal(await store.blobs.get(digest), null);
    assert.deepEqual(await store.blobs.missing([digest]), [digest]);
    await store.blobs.remove(digest);
    assert.equal(await store.blobs.record({ digest, size: 9, epoch_file_id: null }, T2), true);
  });

  test("concurrent record() of one digest: exactly one wins and its record stays", async (store) => {
    const digest = digestOf("contended");
    const results = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) =>
          store.blobs.record({ digest, size: 9, epoch_file_id: String(i).padStart(24, "0") }, T1),
      ),
    );
    assert.equal(results.filter(Boolean).length, 1);
    const winner = results.indexOf(true);
    assert.equal((await store.blobs.get(digest))?.epoch_file_id, String(winner).padStart(24, "0"));
  });

  test("blobs.stats() is zero on an empty store", async (store) => {
    assert.deepEqual(await store.blobs.stats(), { blobs: 0, bytes: 0n });
  });

  test("blobs.stats() counts each recorded blob once, however often it is recorded", async (store) => {
    const [a, b, c] = ["a", "b", "c"].map((s) => digestOf(s));
    await store.blobs.record({ digest: a, size: 10, epoch_file_id: null }, T1);
    await store.blobs.record({ digest: b, size: 32, epoch_file_id: null }, T1);
    await store.blobs.record({ digest: b, size: 32, epoch_file_id: null }, T2);
    assert.deepEqual(await store.blobs.stats(), { blobs: 2, bytes: 42n });
    await Promise.all(
      Array.from(
        { length: 5 },
        () => store.blobs.record({ digest: c, size: 7, epoch_file_id: null }, T3),
      ),
    );
    assert.deepEqual(await store.blobs.stats(), { blobs: 3, bytes: 49n });
    await store.blobs.remove(a);
    assert.deepEqual(await store.blobs.stats(), { blobs: 2, bytes: 39n });
  });

  // ---- API keys ----

  test("apiKeys.create() returns a record with a fresh id, never used, never revoked", async (store) => {
    const record = await store.apiKeys.create(keyInput("ci", "write", "for CI"), T1);
    assert.ok(isId(record.id));
    assert.deepEqual(Object.keys(record).sort(), API_KEY_RECORD_KEYS);
    assert.deepEqual(record, {
      id: record.id,
      name: "ci",
      description: "for CI",
      scope: "write",
      key_hash: hashFor("ci"),
      created_at: T1.toISOString(),
      last_used_at: null,
      revoked_at: null,
      hosts: null,
    });
    assert.deepEqual(await store.apiKeys.get(record.id), record);
    const other = await store.apiKeys.create(keyInput("ci-2", "read", null), T1);
    assert.notEqual(other.id, record.id);
    assert.equal(other.description, null);
  });

  test("apiKeys.findByHash() finds a key by its hash and by nothing else", async (store) => {
    const record = await store.apiKeys.create(keyInput("admin", "admin", null), T1);
    assert.deepEqual(await store.apiKeys.findByHash(hashFor("admin")), record);
    assert.equal(await store.apiKeys.findByHash(hashFor("someone else")), null);
    assert.equal(await store.apiKeys.findByHash("admin"), null);
    assert.equal(await store.apiKeys.findByHash(record.id), null);
    assert.equal(await store.apiKeys.findByHash(""), null);
  });

  test("apiKeys.create() rejects a second key with the same hash as a conflict", async (store) => {
    await store.apiKeys.create(keyInput("first", "write", null), T1);
    await assert.rejects(
      store.apiKeys.create(
        { ...keyInput("second", "admin", null), key_hash: hashFor("first") },
        T2,
      ),
      (error: unknown) => error instanceof AppError && error.code === "conflict",
    );
    assert.equal(await store.apiKeys.count(), 1);
    assert.equal((await store.apiKeys.findByHash(hashFor("first")))?.name, "first");
  });

  test("apiKeys.get() is null for an unknown id", async (store) => {
    assert.equal(await store.apiKeys.get("0123456789abcdef01234567"), null);
    assert.equal(await store.apiKeys.get("not an id"), null);
  });

  test("apiKeys.list() lists every key, oldest first", async (store) => {
    await store.apiKeys.create(keyInput("second", "read", null), T2);
    await store.apiKeys.create(keyInput("first", "admin", null), T1);
    await store.apiKeys.create(keyInput("third", "write", null), T3);
    const list = await store.apiKeys.list();
    assert.deepEqual(list.map((k) => k.name), ["first", "second", "third"]);
    for (const record of list) assert.deepEqual(Object.keys(record).sort(), API_KEY_RECORD_KEYS);
  });

  test("apiKeys.create() keeps a key's host limits, in order, and lists them", async (store) => {
    const bound = await store.apiKeys.create(
      { ...keyInput("laptop", "write", null), hosts: ["laptop-01", "build-*", "db-?"] },
      T1,
    );
    assert.deepEqual(bound.hosts, ["laptop-01", "build-*", "db-?"]);
    assert.deepEqual(await store.apiKeys.get(bound.id), bound);
    assert.deepEqual(await store.apiKeys.findByHash(hashFor("laptop")), bound);
    const free = await store.apiKeys.create(
      { ...keyInput("free", "write", null), hosts: null },
      T1,
    );
    assert.equal(free.hosts, null);
    assert.deepEqual((await store.apiKeys.list()).map((k) => k.hosts), [bound.hosts, null]);
  });

  test("apiKeys.revoke() sets revoked_at; revoking twice keeps the first time; unknown ids are false", async (store) => {
    const record = await store.apiKeys.create(keyInput("k", "write", null), T1);
    assert.equal(await store.apiKeys.revoke(record.id, T2), true);
    assert.equal((await store.apiKeys.get(record.id))?.revoked_at, T2.toISOString());
    assert.equal(await store.apiKeys.revoke(record.id, T3), true);
    assert.equal((await store.apiKeys.get(record.id))?.revoked_at, T2.toISOString());
    assert.equal((await store.apiKeys.findByHash(hashFor("k")))?.revoked_at, T2.toISOString());
    assert.equal(await store.apiKeys.revoke("0123456789abcdef01234567", T2), false);
  });

  test("apiKeys.delete() removes a key; deleting again or an unknown id is false", async (store) => {
    const record = await store.apiKeys.create(keyInput("k", "write", null), T1);
    const kept = await store.apiKeys.create(keyInput("kept", "write", null), T1);
    assert.equal(await store.apiKeys.delete(record.id), true);
    assert.equal(await store.apiKeys.get(record.id), null);
    assert.equal(await store.apiKeys.findByHash(hashFor("k")), null);
    assert.equal(await store.apiKeys.delete(record.id), false);
    assert.equal(await store.apiKeys.delete("0123456789abcdef01234567"), false);
    assert.deepEqual(await store.apiKeys.list(), [kept]);
  });

  test("apiKeys.touch() records the last use; touching an unknown id is not an error", async (store) => {
    const record = await store.apiKeys.create(keyInput("k", "write", null), T1);
    await store.apiKeys.touch(record.id, T2);
    assert.equal((await store.apiKeys.get(record.id))?.last_used_at, T2.toISOString());
    await store.apiKeys.touch(record.id, T3);
    assert.equal((await store.apiKeys.get(record.id))?.last_used_at, T3.toISOString());
    await store.apiKeys.touch("0123456789abcdef01234567", T3);
  });

  test("apiKeys.count() counts keys, revoked ones included", async (store) => {
    assert.equal(await store.apiKeys.count(), 0);
    const a = await store.apiKeys.create(keyInput("a", "write", null), T1);
    await store.apiKeys.create(keyInput("b", "read", null), T1);
    await store.apiKeys.revoke(a.id, T2);
    assert.equal(await store.apiKeys.count(), 2);
    await store.apiKeys.delete(a.id);
    assert.equal(await store.apiKeys.count(), 1);
  });

  test("ping() resolves for a reachable store", async (store) => {
    await store.ping();
  });
}

const T1 = new Date("2026-01-01T00:00:00.000Z");
const T2 = new Date("2026-01-02T00:00:00.000Z");
const T3 = new Date("2026-01-03T00:00:00.000Z");
const T4 = new Date("2026-01-04T00:00:00.000Z");

function fileAt(
  hostname: string,
  filepath: string,
  options: { content?: string; file_mtime?: number } = {},
): FileMetadata {
  const content = options.content ?? `${hostname}:${filepath}`;
  return {
    filepath,
    hostname,
    ip_address: "10.0.0.1",
    sha256: digestOf(content) as Digest,
    file_size: new TextEncoder().encode(content).byteLength,
    file_mode: 0o100644,
    file_uid: 1000,
    file_gid: 1000,
    file_mtime: options.file_mtime ?? 1_700_000_000.25,
    file_atime: 1_700_000_001.5,
    file_ctime: 1_700_000_002.75,
  };
}

function hashFor(name: string): string {
  return digestOf(`key for ${name}`);
}

function keyInput(name: string, scope: Scope, description: string | null) {
  return { name, scope, description, key_hash: hashFor(name) };
}
