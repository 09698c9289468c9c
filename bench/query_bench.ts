/**
 * The read side on a generated inventory (the query issue's targets): N file records
 * (default 10 million) on 200 hosts with ~20% duplicate content, registered through the
 * real embedded store (`files.upsertMany`, 1,000 a call, as batch registration does), then:
 * ingest rate of each tenth of the records (each million at 10 million), bytes per record,
 * and the time of substring search (first page), a directory listing, a file's history,
 * the top 100 duplicate groups, and one host's changes over a day with 1,000 changes.
 *
 * `deno run -A bench/query_bench.ts --records 100000` runs it alone; `deno task bench
 * --only query` runs it with the other sections' reporting. Query times are the median
 * of 5 runs after one warm-up.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openMetadataStore } from "../lib/metadata_store/open.ts";
import type { MetadataStore } from "../lib/metadata_store/mod.ts";
import type { FileMetadata } from "../lib/models/file.ts";
import type { Digest } from "../lib/digest.ts";
import { compileGlob } from "../lib/path_glob.ts";

const HOSTS = 200;
const FILES_PER_DIR = 50;
const BATCH = 1000;
const DAY = 86_400_000;
const START = Date.parse("2026-01-01T00:00:00Z");

function digestOf(content: number): Digest {
  return createHash("sha256").update(`content ${content}`).digest("hex") as Digest;
}

/** Record i: host i % 200, a directory of 50 files, 1 in 5 a copy of an earlier content. */
function fileAt(i: number): FileMetadata {
  const host = i % HOSTS;
  const local = Math.floor(i / HOSTS);
  const dir = Math.floor(local / FILES_PER_DIR);
  const content = i % 5 === 0 && i > 0 ? Math.floor(i / 3) : i;
  const ext = ["txt", "jpg", "bin", "log", "ts"][content % 5];
  return {
    hostname: `host-${String(host).padStart(3, "0")}`,
    filepath: `/home/user${host}/project${dir % 40}/dir${dir}/file-${local}.${ext}`,
    ip_address: "10.0.0.1",
    sha256: digestOf(content),
    file_size: 1 + (content * 2654435761) % 1_000_000,
    file_mode: 0o100644,
    file_uid: 1000,
    file_gid: 1000,
    file_mtime: 1_700_000_000 + (i % 1_000_000),
    file_atime: 1_700_000_000,
    file_ctime: 1_700_000_000,
  };
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return Number(times[2].toFixed(2));
}

function sizeOf(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

export async function queryBench(
  options: { records?: number; dir?: string } = {},
): Promise<Record<string, unknown>> {
  const records = options.records ?? 10_000_000;
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "putplace-query-bench-" });
  const path = join(dir, "metadata.sqlite");
  try {
    let store: MetadataStore = await openMetadataStore({ kind: "sqlite", path });
    // Ingest, timed per tenth (per million at 10 million).
    const chunk = Math.max(BATCH, Math.ceil(records / 10 / BATCH) * BATCH);
    const ratesPerChunk: number[] = [];
    let chunkStarted = performance.now();
    for (let first = 0; first < records; first += BATCH) {
      const files: FileMetadata[] = [];
      for (let i = first; i < Math.min(records, first + BATCH); i++) files.push(fileAt(i));
      await store.files.upsertMany(files, new Date(START + Math.floor(first / records * DAY)));
      const done = Math.min(records, first + BATCH);
      if (done % chunk === 0 || done === records) {
        const count = done % chunk === 0 ? chunk : done % chunk;
        ratesPerChunk.push(Math.round(count / ((performance.now() - chunkStarted) / 1000)));
        chunkStarted = performance.now();
        console.error(`query bench: ${done.toLocaleString("en-US")} records`);
      }
    }
    await store[Symbol.asyncDispose]();
    const bytes = sizeOf(path) + sizeOf(`${path}-wal`);
    store = await openMetadataStore({ kind: "sqlite", path });

    // A day of 1,000 changes on one host: 500 modified, 200 deleted, 300 added (fewer
    // modified and deleted on a small inventory, more added).
    const host = "host-007";
    const day = new Date(START + 2 * DAY);
    const perHost = Math.floor(records / HOSTS);
    const modified = Math.min(500, Math.floor(perHost / 2));
    const deleted = Math.min(200, Math.floor(perHost / 4));
    const added = 1000 - modified - deleted;
    const mine = Array.from({ length: modified }, (_, k) => fileAt(7 + HOSTS * k));
    await store.files.upsertMany(
      mine.map((f, k) => ({ ...f, sha256: digestOf(records + k), file_mtime: f.file_mtime + 1 })),
      day,
    );
    await store.files.upsertMany(
      Array.from({ length: added }, (_, k) => ({
        ...fileAt(7),
        filepath: `/home/user7/new/added-${k}.txt`,
        sha256: digestOf(records + 1000 + k),
      })),
      day,
    );
    const gone = Array.from(
      { length: deleted },
      (_, k) => fileAt(7 + HOSTS * (modified + k)).filepath,
    );
    await store.files.markDeleted(host, gone, day);

    const page = { limit: 100, cursor: null };
    const sample = fileAt(Math.floor(records / 2));
    const directory = sample.filepath.slice(0, sample.filepath.lastIndexOf("/"));
    const q = store.inventory;
    const results = {
      records,
      hosts: HOSTS,
      ingest_records_per_s_by_tenth: ratesPerChunk,
      ingest_last_over_first: Number((ratesPerChunk.at(-1)! / ratesPerChunk[0]).toFixed(2)),
      database_bytes: bytes,
      bytes_per_record: Math.round(bytes / records),
      search_substring_first_page_ms: await timed(() =>
        q.search({ substring: `file-${Math.floor(records / HOSTS / 3)}.` }, page)
      ),
      search_broad_substring_first_page_ms: await timed(() =>
        q.search({ substring: "project1/" }, page)
      ),
      search_glob_first_page_ms: await timed(() =>
        q.search({ glob: compileGlob("file-12*.jpg") }, page)
      ),
      directory_listing_ms: await timed(() => q.tree(sample.hostname, directory, page)),
      file_history_ms: await timed(() => q.file(host, mine[0].filepath)),
      duplicates_top_100_ms: await timed(() => q.duplicates({ min_size: 1 }, page)),
      changes_one_host_day_ms: await timed(async () => {
        let cursor: string | null = null;
        let count = 0;
        do {
          const result: Awaited<ReturnType<typeof q.changes>> = await q.changes({
            hostname: host,
            since: day.toISOString(),
            until: new Date(day.getTime() + DAY).toISOString(),
          }, { limit: 1000, cursor });
          count += result.items.length;
          cursor = result.next_cursor;
        } while (cursor !== null);
        if (count !== 1000) throw new Error(`expected 1,000 changes, got ${count}`);
      }),
    };
    await store[Symbol.asyncDispose]();
    return results;
  } finally {
    if (options.dir === undefined) await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { records: { type: "string", default: "10000000" } },
  });
  console.log(JSON.stringify(await queryBench({ records: Number(values.records) }), null, 2));
}
