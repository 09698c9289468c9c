/**
 * The read side of the metadata store contract (`MetadataStore.inventory`): every adapter
 * answers each query on the same data with exactly these results, so SQLite and MongoDB
 * (FerretDB) give the same answers.
 *
 * An adapter's test file calls `inventoryContract(name, open)` once. One store is seeded
 * with a small fleet (two hosts, a modified, a deleted and a new file, duplicate and at-risk
 * content) and each query is a step; pagination under concurrent inserts gets its own store.
 */
import assert from "node:assert/strict";
import type { MetadataStore } from "../lib/metadata_store/mod.ts";
import { type Digest, digestOf, EMPTY_DIGEST } from "../lib/digest.ts";
import { AppError } from "../lib/errors.ts";
import type { FileMetadata, FileRecord } from "../lib/models/file.ts";
import type { Page, PageRequest } from "../lib/metadata_store/inventory.ts";
import { compileGlob } from "../lib/path_glob.ts";
import type {
  MetadataStoreContractOptions,
  MetadataStoreFixture,
} from "./metadata_store_contract.ts";

const T1 = new Date("2026-01-01T00:00:00.000Z");
const T2 = new Date("2026-01-02T00:00:00.000Z");
const T3 = new Date("2026-01-03T00:00:00.000Z");
const T4 = new Date("2026-01-04T00:00:00.000Z");
const BETWEEN = "2026-01-02T12:00:00.000Z";

const ALPHA = digestOf("alpha") as Digest;
const BETA = digestOf("beta") as Digest;
const BETA_TWO = digestOf("beta two") as Digest;
const MEOW = digestOf("meow meow") as Digest;
const ONLY_B = digestOf("bbbbbbbb") as Digest;

const MTIME = 1_700_000_000.25;

export function fileAt(
  hostname: string,
  filepath: string,
  content: string,
  file_mtime = MTIME,
): FileMetadata {
  return {
    filepath,
    hostname,
    ip_address: "10.0.0.1",
    sha256: digestOf(content) as Digest,
    file_size: new TextEncoder().encode(content).byteLength,
    file_mode: 0o100644,
    file_uid: 1000,
    file_gid: 1000,
    file_mtime,
    file_atime: 1_700_000_001.5,
    file_ctime: 1_700_000_002.75,
  };
}

/** The fleet every read-side case looks at. */
async function seed(store: MetadataStore): Promise<Map<string, FileRecord>> {
  const files = new Map<string, FileRecord>();
  const add = async (inputs: FileMetadata[], at: Date) => {
    for (const { file } of await store.files.upsertMany(inputs, at)) {
      files.set(`${file.hostname}:${file.filepath}`, file);
    }
  };
  await add([
    fileAt("host-a", "/srv/a.txt", "alpha"),
    fileAt("host-a", "/srv/docs/b.txt", "beta"),
    fileAt("host-a", "/srv/docs/deep/c.txt", "alpha"),
    fileAt("host-a", "/srv/photos/cat.jpg", "meow meow"),
    fileAt("host-a", "/srv/empty.txt", ""),
  ], T1);
  await add([
    fileAt("host-b", "/home/b/a-copy.txt", "alpha"),
    fileAt("host-b", "/home/b/beta2.txt", "beta two"),
    fileAt("host-b", "/home/b/only-b.bin", "bbbbbbbb"),
  ], T2);
  await store.blobs.record(
    { digest: ALPHA, size: 5, epoch_file_id: files.get("host-b:/home/b/a-copy.txt")!.id },
    T2,
  );
  await store.blobs.record(
    { digest: MEOW, size: 9, epoch_file_id: files.get("host-a:/srv/photos/cat.jpg")!.id },
    T2,
  );
  await add([
    fileAt("host-a", "/srv/docs/b.txt", "beta two", MTIME + 100),
    fileAt("host-a", "/srv/new.txt", "alpha"),
  ], T3);
  assert.equal(await store.files.markDeleted("host-a", ["/srv/photos/cat.jpg"], T3), 1);
  await store.files.recordCompleteScan("host-a", T3);
  // An older report does not replace a newer one.
  await store.files.recordCompleteScan("host-a", T2);
  return files;
}

const ALL: PageRequest = { limit: 1000, cursor: null };

/** Every item of a query, following cursors `limit` at a time. */
async function everyPage<T>(
  query: (page: PageRequest) => Promise<Page<T>>,
  limit: number,
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await query({ limit, cursor });
    assert.ok(page.items.length <= limit);
    pages.push(page.items);
    cursor = page.next_cursor;
  } while (cursor !== null && pages.length < 100);
  return pages;
}

const paths = (files: FileRecord[]) => files.map((f) => `${f.hostname}:${f.filepath}`);

export function inventoryContract(
  name: string,
  open: () => Promise<MetadataStoreFixture>,
  options: MetadataStoreContractOptions = {},
): void {
  const label = (spec: string) =>
    options.ignore ? `${name}: ${spec} (${options.ignore})` : `${name}: ${spec}`;

  Deno.test({
    name: label("inventory queries answer the same on the seeded fleet"),
    ignore: options.ignore !== undefined,
    async fn(t) {
      await using fixture = await open();
      const store = fixture.store;
      const files = await seed(store);
      const q = store.inventory;
      const file = (key: string) => files.get(key)!;

      await t.step(
        "hosts(): counts, bytes, exclusive bytes and report times, paged by name",
        async () => {
          const pages = await everyPage((page) => q.hosts(page), 1);
          assert.deepEqual(pages.flat(), [
            {
              hostname: "host-a",
              files: 5,
              logical_bytes: 23,
              distinct_digests: 3,
              exclusive_bytes: 0,
              first_report_at: T1.toISOString(),
              last_report_at: T3.toISOString(),
              last_complete_scan_at: T3.toISOString(),
            },
            {
              hostname: "host-b",
              files: 3,
              logical_bytes: 21,
              distinct_digests: 3,
              exclusive_bytes: 8,
              first_report_at: T2.toISOString(),
              last_report_at: T2.toISOString(),
              last_complete_scan_at: null,
            },
          ]);
          assert.equal(pages.length, 2);
        },
      );

      await t.step("tree(): sub-directories with totals first, then files, by name", async () => {
        assert.deepEqual((await q.tree("host-a", "/", ALL)).items, [
          { kind: "directory", name: "srv", path: "/srv", files: 5, bytes: 23 },
        ]);
        const pages = await everyPage((page) => q.tree("host-a", "/srv", page), 2);
        assert.deepEqual(pages.flat(), [
          { kind: "directory", name: "docs", path: "/srv/docs", files: 2, bytes: 13 },
          { kind: "file", name: "a.txt", file: file("host-a:/srv/a.txt") },
          { kind: "file", name: "empty.txt", file: file("host-a:/srv/empty.txt") },
          { kind: "file", name: "new.txt", file: file("host-a:/srv/new.txt") },
        ]);
        assert.equal(pages.length, 2);
        assert.deepEqual((await q.tree("host-a", "/srv/docs/", ALL)).items, [
          { kind: "directory", name: "deep", path: "/srv/docs/deep", files: 1, bytes: 5 },
          { kind: "file", name: "b.txt", file: file("host-a:/srv/docs/b.txt") },
        ]);
        assert.deepEqual((await q.tree("host-a", "/srv/photos", ALL)).items, []);
        assert.deepEqual((await q.tree("host-c", "/", ALL)).items, []);
      });

      await t.step("file(): the record with its history, deleted files too", async () => {
        const b = await q.file("host-a", "/srv/docs/b.txt");
        assert.deepEqual(b, {
          file: file("host-a:/srv/docs/b.txt"),
          deleted_at: null,
          history: [{
            sha256: BETA,
            file_size: 4,
            file_mtime: MTIME,
            file_mode: 0o100644,
            replaced_at: T3.toISOString(),
          }],
          absences: [],
        });
        const cat = await q.file("host-a", "/srv/photos/cat.jpg");
        assert.equal(cat?.deleted_at, T3.toISOString());
        assert.equal(cat?.file.sha256, MEOW);
        assert.equal(await q.file("host-a", "/srv/none"), null);
      });

      await t.step(
        "search(): substring, glob, host, digest, size, mtime, reported since",
        async () => {
          const search = async (filter: Parameters<typeof q.search>[0]) =>
            paths((await q.search(filter, ALL)).items);
          assert.deepEqual(await search({ substring: "docs" }), [
            "host-a:/srv/docs/b.txt",
            "host-a:/srv/docs/deep/c.txt",
          ]);
          assert.deepEqual(await search({ substring: "a." }), ["host-a:/srv/a.txt"]);
          assert.deepEqual(await search({ substring: "cat.jpg" }), []);
          assert.deepEqual(await search({ glob: compileGlob("*.txt") }), [
            "host-a:/srv/a.txt",
            "host-a:/srv/docs/b.txt",
            "host-a:/srv/docs/deep/c.txt",
            "host-a:/srv/empty.txt",
            "host-a:/srv/new.txt",
            "host-b:/home/b/a-copy.txt",
            "host-b:/home/b/beta2.txt",
          ]);
          assert.deepEqual(await search({ glob: compileGlob("/srv/*.txt") }), [
            "host-a:/srv/a.txt",
            "host-a:/srv/empty.txt",
            "host-a:/srv/new.txt",
          ]);
          assert.deepEqual(await search({ glob: compileGlob("/srv/**/c.txt") }), [
            "host-a:/srv/docs/deep/c.txt",
          ]);
          assert.deepEqual(await search({ glob: compileGlob("[ab]*") }), [
            "host-a:/srv/a.txt",
            "host-a:/srv/docs/b.txt",
            "host-b:/home/b/a-copy.txt",
            "host-b:/home/b/beta2.txt",
          ]);
          assert.deepEqual(await search({ hostname: "host-b", substring: "b" }), [
            "host-b:/home/b/a-copy.txt",
            "host-b:/home/b/beta2.txt",
            "host-b:/home/b/only-b.bin",
          ]);
          assert.deepEqual(await search({ path_prefix: "/srv/docs/" }), [
            "host-a:/srv/docs/b.txt",
            "host-a:/srv/docs/deep/c.txt",
          ]);
          assert.deepEqual(await search({ digest: ALPHA }), [
            "host-a:/srv/a.txt",
            "host-a:/srv/docs/deep/c.txt",
            "host-a:/srv/new.txt",
            "host-b:/home/b/a-copy.txt",
          ]);
          assert.deepEqual(await search({ min_size: 6 }), [
            "host-a:/srv/docs/b.txt",
            "host-b:/home/b/beta2.txt",
            "host-b:/home/b/only-b.bin",
          ]);
          assert.deepEqual(await search({ max_size: 0 }), ["host-a:/srv/empty.txt"]);
          assert.deepEqual(await search({ mtime_from: MTIME + 50, mtime_to: MTIME + 101 }), [
            "host-a:/srv/docs/b.txt",
          ]);
          assert.deepEqual(await search({ reported_since: T3.toISOString() }), [
            "host-a:/srv/docs/b.txt",
            "host-a:/srv/new.txt",
          ]);
          assert.deepEqual((await q.search({}, ALL)).items[0], file("host-a:/srv/a.txt"));
        },
      );

      await t.step("locations(): live files of a digest, the epoch file first", async () => {
        const pages = await everyPage((page) => q.locations(ALPHA, page), 3);
        assert.deepEqual(paths(pages.flat()), [
          "host-b:/home/b/a-copy.txt",
          "host-a:/srv/a.txt",
          "host-a:/srv/docs/deep/c.txt",
          "host-a:/srv/new.txt",
        ]);
        assert.deepEqual(pages.flat()[0], file("host-b:/home/b/a-copy.txt"));
        assert.deepEqual((await q.locations(MEOW, ALL)).items, []);
        assert.deepEqual(paths((await q.locations(BETA_TWO, ALL)).items), [
          "host-a:/srv/docs/b.txt",
          "host-b:/home/b/beta2.txt",
        ]);
      });

      await t.step("duplicates(): groups by reclaimable bytes, filters and totals", async () => {
        const pages = await everyPage((page) => q.duplicates({}, page), 1);
        assert.deepEqual(pages.flat(), [
          { sha256: ALPHA, file_size: 5, count: 4, hosts: 2, reclaimable_bytes: 15 },
          { sha256: BETA_TWO, file_size: 8, count: 2, hosts: 2, reclaimable_bytes: 8 },
        ]);
        assert.deepEqual(await q.duplicateTotals({}), {
          groups: 2,
          files: 6,
          reclaimable_bytes: 23,
        });
        assert.deepEqual((await q.duplicates({ hostnames: ["host-a"] }, ALL)).items, [
          { sha256: ALPHA, file_size: 5, count: 3, hosts: 1, reclaimable_bytes: 10 },
        ]);
        assert.deepEqual((await q.duplicates({ min_size: 6 }, ALL)).items, [
          { sha256: BETA_TWO, file_size: 8, count: 2, hosts: 2, reclaimable_bytes: 8 },
        ]);
        assert.deepEqual((await q.duplicates({ path_prefix: "/srv/" }, ALL)).items, [
          { sha256: ALPHA, file_size: 5, count: 3, hosts: 1, reclaimable_bytes: 10 },
        ]);
        assert.deepEqual(await q.duplicateTotals({ path_prefix: "/srv/docs/" }), {
          groups: 0,
          files: 0,
          reclaimable_bytes: 0,
        });
      });

      await t.step(
        "changes(): added, modified and deleted in a window, per host or all",
        async () => {
          const all = await everyPage(
            (page) => q.changes({ since: T1.toISOString(), until: T4.toISOString() }, page),
            4,
          );
          const row = (
            at: Date,
            kind: string,
            key: string,
            sha256: Digest,
            file_size: number,
            previous_sha256: Digest | null = null,
          ) => {
            const [hostname, filepath] = key.split(":");
            return {
              at: at.toISOString(),
              kind,
              hostname,
              filepath,
              sha256,
              file_size,
              previous_sha256,
            };
          };
          assert.deepEqual(all.flat(), [
            row(T1, "added", "host-a:/srv/a.txt", ALPHA, 5),
            row(T1, "added", "host-a:/srv/docs/b.txt", BETA, 4),
            row(T1, "added", "host-a:/srv/docs/deep/c.txt", ALPHA, 5),
            row(T1, "added", "host-a:/srv/empty.txt", EMPTY_DIGEST, 0),
            row(T1, "added", "host-a:/srv/photos/cat.jpg", MEOW, 9),
            row(T2, "added", "host-b:/home/b/a-copy.txt", ALPHA, 5),
            row(T2, "added", "host-b:/home/b/beta2.txt", BETA_TWO, 8),
            row(T2, "added", "host-b:/home/b/only-b.bin", ONLY_B, 8),
            row(T3, "modified", "host-a:/srv/docs/b.txt", BETA_TWO, 8, BETA),
            row(T3, "added", "host-a:/srv/new.txt", ALPHA, 5),
            row(T3, "deleted", "host-a:/srv/photos/cat.jpg", MEOW, 9),
          ]);
          assert.equal(all.length, 3);
          const hostB = await q.changes(
            { hostname: "host-b", since: T2.toISOString(), until: T3.toISOString() },
            ALL,
          );
          assert.deepEqual(hostB.items.map((c) => c.filepath), [
            "/home/b/a-copy.txt",
            "/home/b/beta2.txt",
            "/home/b/only-b.bin",
          ]);
          const none = await q.changes(
            { hostname: "host-b", since: T3.toISOString(), until: T4.toISOString() },
            ALL,
          );
          assert.deepEqual(none, { items: [], next_cursor: null });
        },
      );

      await t.step("atRisk(): live non-empty files whose blob is not stored", async () => {
        const pages = await everyPage((page) => q.atRisk({}, page), 2);
        assert.deepEqual(paths(pages.flat()), [
          "host-a:/srv/docs/b.txt",
          "host-b:/home/b/beta2.txt",
          "host-b:/home/b/only-b.bin",
        ]);
        assert.deepEqual(paths((await q.atRisk({ hostname: "host-b" }, ALL)).items), [
          "host-b:/home/b/beta2.txt",
          "host-b:/home/b/only-b.bin",
        ]);
      });

      await t.step("singleHost(): contents on exactly one host, largest first", async () => {
        assert.deepEqual((await q.singleHost({ min_size: 1 }, ALL)).items, [
          { sha256: ONLY_B, file_size: 8, hostname: "host-b", count: 1, stored: false },
        ]);
        const pages = await everyPage((page) => q.singleHost({}, page), 1);
        assert.deepEqual(pages.flat(), [
          { sha256: ONLY_B, file_size: 8, hostname: "host-b", count: 1, stored: false },
          { sha256: EMPTY_DIGEST, file_size: 0, hostname: "host-a", count: 1, stored: true },
        ]);
        assert.deepEqual((await q.singleHost({ hostname: "host-a", min_size: 1 }, ALL)).items, []);
      });

      await t.step("stats(): per host and for the fleet", async () => {
        assert.deepEqual(await q.stats(null), {
          hostname: null,
          hosts: 2,
          files: 8,
          distinct_digests: 4,
          logical_bytes: 44,
          unique_bytes: 21,
          dedup_saved_bytes: 23,
          stored_digests: 2,
          stored_bytes: 5,
          at_risk_files: 3,
          at_risk_bytes: 24,
        });
        assert.deepEqual(await q.stats("host-a"), {
          hostname: "host-a",
          hosts: 1,
          files: 5,
          distinct_digests: 3,
          logical_bytes: 23,
          unique_bytes: 13,
          dedup_saved_bytes: 10,
          stored_digests: 2,
          stored_bytes: 5,
          at_risk_files: 1,
          at_risk_bytes: 8,
        });
        assert.equal((await q.stats("host-z")).files, 0);
      });

      await t.step("snapshot(): a tree or a file as it was at a time, or now", async () => {
        const snap = (
          path: string,
          file_size: number,
          sha256: Digest,
          stored: boolean,
          file_mtime = MTIME,
        ) => ({
          filepath: path,
          sha256,
          file_size,
          file_mode: 0o100644,
          file_mtime,
          stored,
        });
        const now = await everyPage((page) => q.snapshot("host-a", "/srv", null, page), 2);
        assert.deepEqual(now.flat(), [
          snap("/srv/a.txt", 5, ALPHA, true),
          snap("/srv/docs/b.txt", 8, BETA_TWO, false, MTIME + 100),
          snap("/srv/docs/deep/c.txt", 5, ALPHA, true),
          snap("/srv/empty.txt", 0, EMPTY_DIGEST, true),
          snap("/srv/new.txt", 5, ALPHA, true),
        ]);
        const then = await everyPage((page) => q.snapshot("host-a", "/srv/", BETWEEN, page), 2);
        assert.deepEqual(then.flat(), [
          snap("/srv/a.txt", 5, ALPHA, true),
          snap("/srv/docs/b.txt", 4, BETA, false),
          snap("/srv/docs/deep/c.txt", 5, ALPHA, true),
          snap("/srv/empty.txt", 0, EMPTY_DIGEST, true),
          snap("/srv/photos/cat.jpg", 9, MEOW, true),
        ]);
        assert.deepEqual((await q.snapshot("host-a", "/srv/docs/b.txt", BETWEEN, ALL)).items, [
          snap("/srv/docs/b.txt", 4, BETA, false),
        ]);
        assert.deepEqual(
          (await q.snapshot("host-a", "/srv", "2025-12-31T00:00:00.000Z", ALL)).items,
          [],
        );
      });

      await t.step("a cursor not made by the same query is invalid_input", async () => {
        const page = await q.search({}, { limit: 1, cursor: null });
        assert.ok(page.next_cursor);
        await assert.rejects(
          q.atRisk({}, { limit: 1, cursor: page.next_cursor }),
          (error) => error instanceof AppError && error.code === "invalid_input",
        );
        for (const cursor of ["not-a-cursor", "e30", "!!"]) {
          await assert.rejects(
            q.search({}, { limit: 1, cursor }),
            (error) => error instanceof AppError && error.code === "invalid_input",
          );
        }
      });
    },
  });

  Deno.test({
    name: label(
      "hosts, stats and protection follow a deletion, a re-registration, a digest change and a removed blob",
    ),
    ignore: options.ignore !== undefined,
    async fn() {
      await using fixture = await open();
      const store = fixture.store;
      const q = store.inventory;
      const at = (day: number) => new Date(Date.UTC(2026, 2, day));
      const SHARED = digestOf("shared!") as Digest;
      const MINE = digestOf("mine") as Digest;
      const host = (
        hostname: string,
        files: number,
        logical_bytes: number,
        distinct_digests: number,
        exclusive_bytes: number,
        last: number,
      ) => ({
        hostname,
        files,
        logical_bytes,
        distinct_digests,
        exclusive_bytes,
        first_report_at: at(1).toISOString(),
        last_report_at: at(last).toISOString(),
        last_complete_scan_at: null,
      });
      const fleet = async () => {
        const { hostname: _, ...totals } = await q.stats(null);
        return totals;
      };
      await store.files.upsertMany([
        fileAt("h1", "/a", "xx"),
        fileAt("h1", "/b", "shared!"),
        fileAt("h2", "/c", "shared!"),
      ], at(1));
      await store.blobs.record({ digest: SHARED, size: 7, epoch_file_id: null }, at(1));
      // /a goes away; /b gets a content of its own: "shared!" is left on h2 only.
      assert.equal(await store.files.markDeleted("h1", ["/a"], at(2)), 1);
      await store.files.upsertMany([fileAt("h1", "/b", "mine")], at(2));
      assert.deepEqual((await q.hosts(ALL)).items, [
        host("h1", 1, 4, 1, 4, 2),
        host("h2", 1, 7, 1, 7, 1),
      ]);
      assert.deepEqual((await q.singleHost({}, ALL)).items, [
        { sha256: SHARED, file_size: 7, hostname: "h2", count: 1, stored: true },
        { sha256: MINE, file_size: 4, hostname: "h1", count: 1, stored: false },
      ]);
      assert.deepEqual(await fleet(), {
        hosts: 2,
        files: 2,
        distinct_digests: 2,
        logical_bytes: 11,
        unique_bytes: 11,
        dedup_saved_bytes: 0,
        stored_digests: 1,
        stored_bytes: 7,
        at_risk_files: 1,
        at_risk_bytes: 4,
      });
      // /a comes back holding "shared!", whose blob is then removed.
      await store.files.upsertMany([fileAt("h1", "/a", "shared!")], at(3));
      await store.blobs.remove(SHARED);
      assert.deepEqual((await q.hosts(ALL)).items, [
        host("h1", 2, 11, 2, 4, 3),
        host("h2", 1, 7, 1, 0, 1),
      ]);
      assert.deepEqual((await q.singleHost({}, ALL)).items, [
        { sha256: MINE, file_size: 4, hostname: "h1", count: 1, stored: false },
      ]);
      assert.deepEqual((await q.singleHost({ hostname: "h2" }, ALL)).items, []);
      assert.deepEqual(paths((await q.atRisk({}, ALL)).items), ["h1:/a", "h1:/b", "h2:/c"]);
      assert.deepEqual(await fleet(), {
        hosts: 2,
        files: 3,
        distinct_digests: 2,
        logical_bytes: 18,
        unique_bytes: 11,
        dedup_saved_bytes: 7,
        stored_digests: 0,
        stored_bytes: 0,
        at_risk_files: 3,
        at_risk_bytes: 18,
      });
      assert.deepEqual(await q.stats("h1"), {
        hostname: "h1",
        hosts: 1,
        files: 2,
        distinct_digests: 2,
        logical_bytes: 11,
        unique_bytes: 11,
        dedup_saved_bytes: 0,
        stored_digests: 0,
        stored_bytes: 0,
        at_risk_files: 2,
        at_risk_bytes: 11,
      });
      // Admin removals: h2 held only "shared!" and leaves; h1's last report was /a's.
      assert.equal(await store.files.removeDigest(SHARED), 2);
      assert.deepEqual((await q.hosts(ALL)).items, [host("h1", 1, 4, 1, 4, 2)]);
      assert.deepEqual(paths((await q.atRisk({}, ALL)).items), ["h1:/b"]);
      assert.equal(await store.files.removeHost("h1"), 1);
      assert.deepEqual((await q.hosts(ALL)).items, []);
      assert.deepEqual(await fleet(), {
        hosts: 0,
        files: 0,
        distinct_digests: 0,
        logical_bytes: 0,
        unique_bytes: 0,
        dedup_saved_bytes: 0,
        stored_digests: 0,
        stored_bytes: 0,
        at_risk_files: 0,
        at_risk_bytes: 0,
      });
    },
  });

  Deno.test({
    name: label("a deletion that was undone stays in the history, the changes and the snapshots"),
    ignore: options.ignore !== undefined,
    async fn() {
      await using fixture = await open();
      const store = fixture.store;
      const q = store.inventory;
      const at = (day: number) => new Date(Date.UTC(2026, 1, day));
      const v1 = { ...fileAt("h", "/d/f", "one"), file_mode: 0o100600 };
      await store.files.upsertMany([v1, fileAt("h", "/d/same", "same")], at(1));
      await store.files.markDeleted("h", ["/d/f", "/d/same"], at(3));
      // Back with new content and mode, and back as it was.
      const v2 = { ...fileAt("h", "/d/f", "two", MTIME + 5), file_mode: 0o100755 };
      await store.files.upsertMany([v2, fileAt("h", "/d/same", "same")], at(5));

      const detail = await q.file("h", "/d/f");
      assert.deepEqual(detail?.absences, [
        { deleted_at: at(3).toISOString(), restored_at: at(5).toISOString() },
      ]);
      assert.deepEqual(detail?.history, [{
        sha256: digestOf("one"),
        file_size: 3,
        file_mtime: MTIME,
        file_mode: 0o100600,
        replaced_at: at(5).toISOString(),
      }]);
      assert.deepEqual((await q.file("h", "/d/same"))?.history, []);

      const snap = async (day: number) =>
        (await q.snapshot("h", "/d", at(day).toISOString(), ALL)).items.map((f) =>
          `${f.filepath} ${f.file_size} ${f.file_mode.toString(8)}`
        );
      assert.deepEqual(await snap(2), ["/d/f 3 100600", "/d/same 4 100644"]);
      assert.deepEqual(await snap(4), []);
      assert.deepEqual(await snap(6), ["/d/f 3 100755", "/d/same 4 100644"]);

      const changes = await q.changes(
        { since: at(1).toISOString(), until: at(9).toISOString() },
        ALL,
      );
      assert.deepEqual(
        changes.items.map((c) => `${c.at.slice(8, 10)} ${c.kind} ${c.filepath} ${c.file_size}`),
        [
          "01 added /d/f 3",
          "01 added /d/same 4",
          "03 deleted /d/f 3",
          "03 deleted /d/same 4",
          "05 added /d/f 3",
          "05 added /d/same 4",
        ],
      );
    },
  });

  Deno.test({
    name: label("inventory pages skip and repeat no file while files are inserted between pages"),
    ignore: options.ignore !== undefined,
    async fn() {
      await using fixture = await open();
      const store = fixture.store;
      const first = Array.from(
        { length: 30 },
        (_, i) => fileAt("host-m", `/data/f${String(i).padStart(3, "0")}.txt`, `content ${i}`),
      );
      await store.files.upsertMany(first, T1);
      const seen: string[] = [];
      let cursor: string | null = null;
      let round = 0;
      do {
        const page: Page<FileRecord> = await store.inventory.search(
          { glob: compileGlob("*.txt") },
          { limit: 7, cursor },
        );
        seen.push(...paths(page.items));
        cursor = page.next_cursor;
        // Files before the cursor, after it, and on other hosts arrive between pages.
        round++;
        await store.files.upsertMany([
          fileAt("host-m", `/data/a${round}.txt`, `early ${round}`),
          fileAt("host-m", `/data/z${round}.txt`, `late ${round}`),
          fileAt("host-0", `/x${round}.txt`, `other ${round}`),
        ], T2);
      } while (cursor !== null);
      assert.equal(new Set(seen).size, seen.length, "no file appears twice");
      for (const input of first) assert.ok(seen.includes(`host-m:${input.filepath}`));
      assert.deepEqual(seen, [...seen].sort());
    },
  });
}
