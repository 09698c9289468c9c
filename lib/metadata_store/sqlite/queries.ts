/**
 * The read side of the SQLite store (see `../inventory.ts` for the contract). Pages are
 * keysets on the indexes: (hostname, filepath) for file lists, the digest index for
 * locations, `files_fts` for substring search. Aggregates over the whole fleet (hosts,
 * stats, duplicates, protection) read the totals the triggers maintain (`totals_schema.ts`);
 * duplicates filtered by host or path group the live files they cover.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { z } from "zod";
import { type Digest, EMPTY_DIGEST } from "../../digest.ts";
import type { FileRecord } from "../../models/file.ts";
import { digestSchema } from "../../digest.ts";
import { fileOf, historyEntryOf, integer, nullableText, type Row, text as textOf } from "./rows.ts";
import { decodeCursor, encodeCursor, pageOf } from "../cursor.ts";
import type {
  AtRiskFilter,
  Change,
  ChangeFilter,
  DuplicateFilter,
  DuplicateGroup,
  DuplicateTotals,
  FileDetail,
  FileVersion,
  HostSummary,
  InventoryQueries,
  InventoryStats,
  Page,
  PageRequest,
  SearchFilter,
  SingleHostContent,
  SingleHostFilter,
  SnapshotFile,
  TreeEntry,
} from "../inventory.ts";
import { directoryPrefix, prefixEnd } from "../path_range.ts";
import { globLiteral } from "../../path_glob.ts";

const int = z.coerce.number().int();
const num = z.coerce.number();
const text = z.string();

const FILE_COLUMNS = `f.id, f.hostname, f.filepath, f.ip_address, f.sha256, f.file_size,
  f.file_mode, f.file_uid, f.file_gid, f.file_mtime, f.file_atime, f.file_ctime, f.created_at,
  f.updated_at, f.deleted_at`;

/** Shortest substring the trigram index can serve; shorter ones scan the paths. */
const TRIGRAM = 3;
/** Path index matches above which a search walks the files in order instead. */
const SELECTIVE_MATCHES = 5000;

const hostKey = z.tuple([text, text]);

export class SqliteInventoryQueries implements InventoryQueries {
  readonly #db: DatabaseSync;
  readonly #run: <T>(body: () => T) => Promise<T>;
  readonly #statements = new Map<string, StatementSync>();
  readonly #regexes = new Map<string, RegExp>();

  /** `run` turns driver failures into the store's errors. */
  constructor(db: DatabaseSync, run: <T>(body: () => T) => Promise<T>) {
    this.#db = db;
    this.#run = run;
    db.function("pp_regexp", { deterministic: true }, (pattern, value) => {
      if (typeof pattern !== "string" || typeof value !== "string") return 0;
      let regex = this.#regexes.get(pattern);
      if (!regex) {
        if (this.#regexes.size > 100) this.#regexes.clear();
        regex = new RegExp(pattern, "u");
        this.#regexes.set(pattern, regex);
      }
      return regex.test(value) ? 1 : 0;
    });
  }

  #all(sql: string, params: SQLInputValue[]): Row[] {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      if (this.#statements.size < 500) this.#statements.set(sql, statement);
    }
    return statement.all(...params);
  }

  hosts(page: PageRequest): Promise<Page<HostSummary>> {
    return this.#run(() => {
      const after = page.cursor === null
        ? null
        : decodeCursor("hosts", page.cursor, z.tuple([text]))[0];
      const rows = this.#all(
        `SELECT hostname, files, logical_bytes, digests AS distinct_digests, exclusive_bytes,
           first_report_at, last_report_at FROM host_totals
         ${after === null ? "" : "WHERE hostname > ?"} ORDER BY hostname LIMIT ?`,
        after === null ? [page.limit + 1] : [after, page.limit + 1],
      ).map((row) => hostTotalsSchema.parse(row));
      const more = rows.length > page.limit;
      const items = rows.slice(0, page.limit).map((totals) => this.#host(totals));
      return pageOf(items, more, (host) => encodeCursor("hosts", [host.hostname]));
    });
  }

  #host(totals: z.infer<typeof hostTotalsSchema>): HostSummary {
    const { hostname } = totals;
    const [scan] = this.#all("SELECT last_complete_scan_at FROM host_scans WHERE hostname = ?", [
      hostname,
    ]);
    return {
      hostname,
      files: totals.files,
      logical_bytes: totals.logical_bytes,
      distinct_digests: totals.distinct_digests,
      exclusive_bytes: totals.exclusive_bytes,
      first_report_at: totals.first_report_at,
      last_report_at: totals.last_report_at,
      last_complete_scan_at: scan ? nullableText(scan, "last_complete_scan_at") : null,
    };
  }

  tree(hostname: string, directory: string, page: PageRequest): Promise<Page<TreeEntry>> {
    return this.#run(() => {
      const prefix = directoryPrefix(directory);
      const after = page.cursor === null
        ? null
        : decodeCursor("tree", page.cursor, z.tuple([z.union([z.literal(0), z.literal(1)]), text]));
      const rows = this.#all(
        `WITH under AS (
           SELECT rowid AS row, substr(filepath, ?) AS rest, file_size FROM files
           WHERE hostname = ? AND filepath >= ? AND filepath < ? AND deleted_at IS NULL
         ), named AS (
           SELECT row, file_size, instr(rest, '/') > 0 AS is_dir,
             CASE WHEN instr(rest, '/') > 0 THEN substr(rest, 1, instr(rest, '/') - 1)
               ELSE rest END AS name
           FROM under
         )
         SELECT is_dir, name, count(*) AS files, sum(file_size) AS bytes, min(row) AS row
         FROM named GROUP BY is_dir, name
         ${after === null ? "" : "HAVING is_dir < ? OR (is_dir = ? AND name > ?)"}
         ORDER BY is_dir DESC, name LIMIT ?`,
        [
          prefix.length + 1,
          hostname,
          prefix,
          prefixEnd(prefix),
          ...(after === null ? [] : [after[0], after[0], after[1]]),
          page.limit + 1,
        ],
      ).map((row) =>
        z.object({ is_dir: int, name: text, files: int, bytes: int, row: int }).parse(row)
      );
      const more = rows.length > page.limit;
      const items: TreeEntry[] = rows.slice(0, page.limit).map((row) => {
        if (row.is_dir === 1) {
          return {
            kind: "directory",
            name: row.name,
            path: prefix + row.name,
            files: row.files,
            bytes: row.bytes,
          };
        }
        const file = fileOf(
          this.#all(`SELECT ${FILE_COLUMNS} FROM files f WHERE rowid = ?`, [row.row])[0],
        );
        return { kind: "file", name: row.name, file };
      });
      return pageOf(
        items,
        more,
        (entry) => encodeCursor("tree", [entry.kind === "directory" ? 1 : 0, entry.name]),
      );
    });
  }

  file(hostname: string, filepath: string): Promise<FileDetail | null> {
    return this.#run(() => {
      const [row] = this.#all(
        `SELECT ${FILE_COLUMNS} FROM files f WHERE hostname = ? AND filepath = ?`,
        [hostname, filepath],
      );
      if (!row) return null;
      const file = fileOf(row);
      const history: FileVersion[] = this.#all(
        `SELECT sha256, file_size, file_mtime, replaced_at, file_mode FROM file_history
         WHERE file_id = ? ORDER BY replaced_at DESC, rowid DESC`,
        [file.id],
      ).map((entry) => ({
        ...historyEntryOf(entry),
        file_mode: nullableInteger(entry, "file_mode"),
      }));
      const absences = this.#all(
        `SELECT deleted_at, restored_at FROM file_deletions WHERE file_id = ?
         ORDER BY deleted_at DESC, rowid DESC`,
        [file.id],
      ).map((entry) => ({
        deleted_at: textOf(entry, "deleted_at"),
        restored_at: textOf(entry, "restored_at"),
      }));
      return { file, deleted_at: nullableText(row, "deleted_at"), history, absences };
    });
  }

  search(filter: SearchFilter, page: PageRequest): Promise<Page<FileRecord>> {
    return this.#run(() => {
      const where = ["f.deleted_at IS NULL"];
      const params: SQLInputValue[] = [];
      if (filter.substring !== undefined) {
        const pattern = `*${globLiteral(filter.substring)}*`;
        if ([...filter.substring].length >= TRIGRAM && this.#selective(pattern)) {
          where.push("f.rowid IN (SELECT rowid FROM files_fts WHERE filepath GLOB ?)");
          params.push(pattern);
        }
        where.push("instr(f.filepath, ?) > 0");
        params.push(filter.substring);
      }
      if (filter.glob !== undefined) {
        const prefilter = filter.glob.prefilter;
        if (
          prefilter !== null && /[^*?[\]]{3}/.test(prefilter.replace(/\[[^\]]*\]/g, "?")) &&
          this.#selective(prefilter)
        ) {
          where.push("f.rowid IN (SELECT rowid FROM files_fts WHERE filepath GLOB ?)");
          params.push(prefilter);
        }
        where.push("pp_regexp(?, f.filepath)");
        params.push(filter.glob.regex);
      }
      if (filter.hostname !== undefined) {
        where.push("f.hostname = ?");
        params.push(filter.hostname);
      }
      if (filter.path_prefix !== undefined) {
        where.push("f.filepath >= ? AND f.filepath < ?");
        params.push(filter.path_prefix, prefixEnd(filter.path_prefix));
      }
      // The filters that compare one column with one value.
      const comparisons = [
        ["f.sha256 = ?", filter.digest],
        ["f.file_size >= ?", filter.min_size],
        ["f.file_size <= ?", filter.max_size],
        ["f.file_mtime >= ?", filter.mtime_from],
        ["f.file_mtime < ?", filter.mtime_to],
        ["f.updated_at >= ?", filter.reported_since],
      ] as const;
      for (const [clause, value] of comparisons) {
        if (value === undefined) continue;
        where.push(clause);
        params.push(value);
      }
      return this.#filePage("search", where, params, page);
    });
  }

  /**
   * Whether the path index narrows `pattern` to few files. A broad pattern (thousands of
   * matches) is answered faster by walking the files in page order and testing each path,
   * which finds a first page at once, than by collecting and sorting every match.
   */
  #selective(pattern: string): boolean {
    const [row] = this.#all(
      `SELECT count(*) AS n FROM (SELECT rowid FROM files_fts WHERE filepath GLOB ? LIMIT ?)`,
      [pattern, SELECTIVE_MATCHES],
    );
    return int.parse(row?.n ?? 0) < SELECTIVE_MATCHES;
  }

  /** Live files by (hostname, filepath) under `where`. */
  #filePage(
    query: string,
    where: string[],
    params: SQLInputValue[],
    page: PageRequest,
  ): Page<FileRecord> {
    if (page.cursor !== null) {
      const [hostname, filepath] = decodeCursor(query, page.cursor, hostKey);
      where.push("(f.hostname, f.filepath) > (?, ?)");
      params.push(hostname, filepath);
    }
    const rows = this.#all(
      `SELECT ${FILE_COLUMNS} FROM files f WHERE ${where.join(" AND ")}
       ORDER BY f.hostname, f.filepath LIMIT ?`,
      [...params, page.limit + 1],
    ).map(fileOf);
    return pageOf(
      rows.slice(0, page.limit),
      rows.length > page.limit,
      (file) => encodeCursor(query, [file.hostname, file.filepath]),
    );
  }

  locations(digest: Digest, page: PageRequest): Promise<Page<FileRecord>> {
    return this.#run(() => {
      const epoch = this.#all("SELECT epoch_file_id FROM blobs WHERE digest = ?", [digest])[0]
        ?.epoch_file_id ?? null;
      const where = ["f.sha256 = ?", "f.deleted_at IS NULL"];
      const params: SQLInputValue[] = [epoch, digest];
      if (page.cursor !== null) {
        const [first, createdAt, id] = decodeCursor(
          "locations",
          page.cursor,
          z.tuple([z.union([z.literal(0), z.literal(1)]), text, text]),
        );
        where.push("((f.id IS ?) < ? OR ((f.id IS ?) = ? AND (f.created_at, f.id) > (?, ?)))");
        params.push(epoch, first, epoch, first, createdAt, id);
      }
      const rows = this.#all(
        `SELECT ${FILE_COLUMNS}, (f.id IS ?) AS first FROM files f WHERE ${where.join(" AND ")}
         ORDER BY first DESC, f.created_at, f.id LIMIT ?`,
        [...params, page.limit + 1],
      );
      const items = rows.slice(0, page.limit).map((row) => ({
        file: fileOf(row),
        first: int.parse(row.first),
      }));
      const result = pageOf(
        items,
        rows.length > page.limit,
        (item) => encodeCursor("locations", [item.first, item.file.created_at, item.file.id]),
      );
      return { items: result.items.map((item) => item.file), next_cursor: result.next_cursor };
    });
  }

  #groups(filter: DuplicateFilter): { sql: string; params: SQLInputValue[] } {
    const where = ["deleted_at IS NULL"];
    const params: SQLInputValue[] = [];
    if (filter.min_size !== undefined) {
      where.push("file_size >= ?");
      params.push(filter.min_size);
    }
    if (filter.hostnames !== undefined) {
      where.push(`hostname IN (${filter.hostnames.map(() => "?").join(", ")})`);
      params.push(...filter.hostnames);
    }
    if (filter.path_prefix !== undefined) {
      where.push("filepath >= ? AND filepath < ?");
      params.push(filter.path_prefix, prefixEnd(filter.path_prefix));
    }
    return {
      sql: `SELECT sha256, max(file_size) AS file_size, count(*) AS count,
          count(DISTINCT hostname) AS hosts, max(file_size) * (count(*) - 1) AS reclaimable_bytes
        FROM files WHERE ${where.join(" AND ")} GROUP BY sha256 HAVING count(*) >= 2`,
      params,
    };
  }

  duplicates(filter: DuplicateFilter, page: PageRequest): Promise<Page<DuplicateGroup>> {
    return this.#run(() => {
      if (fleetWide(filter)) return this.#fleetDuplicates(filter.min_size ?? 0, page);
      const groups = this.#groups(filter);
      const params = [...groups.params];
      let keyset = "";
      if (page.cursor !== null) {
        const [reclaimable, digest] = decodeCursor("duplicates", page.cursor, z.tuple([int, text]));
        keyset = "WHERE reclaimable_bytes < ? OR (reclaimable_bytes = ? AND sha256 > ?)";
        params.push(reclaimable, reclaimable, digest);
      }
      const rows = this.#all(
        `SELECT * FROM (${groups.sql}) ${keyset} ORDER BY reclaimable_bytes DESC, sha256 LIMIT ?`,
        [...params, page.limit + 1],
      ).map((row) => duplicateGroupSchema.parse(row));
      return pageOf(
        rows.slice(0, page.limit),
        rows.length > page.limit,
        (group) => encodeCursor("duplicates", [group.reclaimable_bytes, group.sha256]),
      );
    });
  }

  /** The duplicate groups of every host and path, from the maintained `contents`. */
  #fleetDuplicates(minSize: number, page: PageRequest): Page<DuplicateGroup> {
    const params: SQLInputValue[] = [minSize];
    let keyset = "";
    if (page.cursor !== null) {
      const [reclaimable, digest] = decodeCursor("duplicates", page.cursor, z.tuple([int, text]));
      keyset = `AND (file_size * (live - 1) < ? OR (file_size * (live - 1) = ? AND sha256 > ?))`;
      params.push(reclaimable, reclaimable, digest);
    }
    const rows = this.#all(
      `SELECT c.sha256, c.file_size, c.live AS count, c.file_size * (c.live - 1) AS reclaimable_bytes,
         c.hosts
       FROM contents c INDEXED BY contents_by_reclaimable
       WHERE live >= 2 AND file_size >= ? ${keyset}
       ORDER BY file_size * (live - 1) DESC, sha256 LIMIT ?`,
      [...params, page.limit + 1],
    ).map((row) => duplicateGroupSchema.parse(row));
    return pageOf(
      rows.slice(0, page.limit),
      rows.length > page.limit,
      (group) => encodeCursor("duplicates", [group.reclaimable_bytes, group.sha256]),
    );
  }

  duplicateTotals(filter: DuplicateFilter): Promise<DuplicateTotals> {
    return this.#run(() => {
      if (fleetWide(filter)) {
        return z.object({ groups: int, files: int, reclaimable_bytes: int }).parse(
          this.#all(
            `SELECT count(*) AS groups, coalesce(sum(live), 0) AS files,
               coalesce(sum(file_size * (live - 1)), 0) AS reclaimable_bytes
             FROM contents INDEXED BY contents_by_reclaimable WHERE live >= 2 AND file_size >= ?`,
            [filter.min_size ?? 0],
          )[0],
        );
      }
      const groups = this.#groups(filter);
      return z.object({ groups: int, files: int, reclaimable_bytes: int }).parse(
        this.#all(
          `SELECT count(*) AS groups, coalesce(sum(count), 0) AS files,
             coalesce(sum(reclaimable_bytes), 0) AS reclaimable_bytes FROM (${groups.sql})`,
          groups.params,
        )[0],
      );
    });
  }

  changes(filter: ChangeFilter, page: PageRequest): Promise<Page<Change>> {
    return this.#run(() => {
      const host = filter.hostname === undefined ? "" : "AND f.hostname = ?";
      const hostParam = filter.hostname === undefined ? [] : [filter.hostname];
      const window = [filter.since, filter.until];
      const params: SQLInputValue[] = [];
      for (let branch = 0; branch < 5; branch++) params.push(...window, ...hostParam);
      let keyset = "";
      if (page.cursor !== null) {
        const key = decodeCursor("changes", page.cursor, z.tuple([text, text, text, text]));
        keyset = "WHERE (at, hostname, filepath, kind) > (?, ?, ?, ?)";
        params.push(...key);
      }
      const rows = this.#all(
        `SELECT * FROM (
           SELECT f.created_at AS at, 'added' AS kind, f.hostname, f.filepath,
             coalesce((SELECT h.sha256 FROM file_history h WHERE h.file_id = f.id
               ORDER BY h.replaced_at, h.rowid LIMIT 1), f.sha256) AS sha256,
             coalesce((SELECT h.file_size FROM file_history h WHERE h.file_id = f.id
               ORDER BY h.replaced_at, h.rowid LIMIT 1), f.file_size) AS file_size,
             NULL AS previous_sha256
           FROM files f WHERE f.created_at >= ? AND f.created_at < ? ${host}
           UNION ALL
           SELECT h.replaced_at, 'modified', f.hostname, f.filepath,
             coalesce((SELECT n.sha256 FROM file_history n WHERE n.file_id = h.file_id
               AND (n.replaced_at, n.rowid) > (h.replaced_at, h.rowid)
               ORDER BY n.replaced_at, n.rowid LIMIT 1), f.sha256),
             coalesce((SELECT n.file_size FROM file_history n WHERE n.file_id = h.file_id
               AND (n.replaced_at, n.rowid) > (h.replaced_at, h.rowid)
               ORDER BY n.replaced_at, n.rowid LIMIT 1), f.file_size),
             h.sha256
           FROM file_history h JOIN files f ON f.id = h.file_id
           WHERE h.replaced_at >= ? AND h.replaced_at < ? ${host}
             AND NOT EXISTS (SELECT 1 FROM file_deletions d WHERE d.file_id = h.file_id
               AND d.restored_at = h.replaced_at)
           UNION ALL
           SELECT f.deleted_at, 'deleted', f.hostname, f.filepath, f.sha256, f.file_size, NULL
           FROM files f WHERE f.deleted_at >= ? AND f.deleted_at < ? ${host}
           UNION ALL
           SELECT d.deleted_at, 'deleted', f.hostname, f.filepath,
             ${versionAt("sha256", "d.deleted_at")}, ${versionAt("file_size", "d.deleted_at")}, NULL
           FROM file_deletions d JOIN files f ON f.id = d.file_id
           WHERE d.deleted_at >= ? AND d.deleted_at < ? ${host}
           UNION ALL
           SELECT d.restored_at, 'added', f.hostname, f.filepath,
             ${versionAt("sha256", "d.restored_at")}, ${versionAt("file_size", "d.restored_at")},
             NULL
           FROM file_deletions d JOIN files f ON f.id = d.file_id
           WHERE d.restored_at >= ? AND d.restored_at < ? ${host}
         ) ${keyset} ORDER BY at, hostname, filepath, kind LIMIT ?`,
        [...params, page.limit + 1],
      ).map((row) => changeSchema.parse(row));
      return pageOf(
        rows.slice(0, page.limit),
        rows.length > page.limit,
        (change) =>
          encodeCursor("changes", [change.at, change.hostname, change.filepath, change.kind]),
      );
    });
  }

  atRisk(filter: AtRiskFilter, page: PageRequest): Promise<Page<FileRecord>> {
    return this.#run(() => {
      // Few at-risk files: gathered from the unstored contents and sorted (at 100,000 files,
      // 45 ms for 10,000 of them, so this is kept below SELECTIVE_MATCHES). Many: the files
      // walked in page order find a page at once (0.7 ms with 10% at risk).
      const [totals] = this.#all("SELECT at_risk_files FROM fleet_totals", []);
      const few = int.parse(totals?.at_risk_files ?? 0) < SELECTIVE_MATCHES;
      const where = [
        "f.deleted_at IS NULL",
        "f.file_size > 0",
        few
          ? `f.sha256 IN (SELECT sha256 FROM contents INDEXED BY contents_at_risk
            WHERE stored = 0 AND file_size > 0 AND live > 0)`
          : "NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = f.sha256)",
      ];
      const params: SQLInputValue[] = [];
      if (filter.hostname !== undefined) {
        where.push("f.hostname = ?");
        params.push(filter.hostname);
      }
      return this.#filePage("at_risk", where, params, page);
    });
  }

  singleHost(filter: SingleHostFilter, page: PageRequest): Promise<Page<SingleHostContent>> {
    return this.#run(() => {
      // From the maintained counts: a content on one host only has hosts = 1.
      const where = ["c.hosts = 1", "c.file_size >= ?"];
      const params: SQLInputValue[] = [filter.min_size ?? 0];
      if (page.cursor !== null) {
        const [size, digest] = decodeCursor("single_host", page.cursor, z.tuple([int, text]));
        where.push("(c.file_size < ? OR (c.file_size = ? AND c.sha256 > ?))");
        params.push(size, size, digest);
      }
      const columns = `c.sha256, c.file_size, c.live AS count,
        (c.stored OR c.file_size = 0) AS stored`;
      const rows = this.#all(
        filter.hostname === undefined
          ? `SELECT ${columns}, (SELECT f.hostname FROM files f WHERE f.sha256 = c.sha256
               AND f.deleted_at IS NULL LIMIT 1) AS hostname
             FROM contents c INDEXED BY contents_single_host WHERE ${where.join(" AND ")}
             ORDER BY c.file_size DESC, c.sha256 LIMIT ?`
          : `SELECT ${columns}, h.hostname FROM host_contents h
             JOIN contents c ON c.sha256 = h.sha256
             WHERE h.hostname = ? AND h.live > 0 AND ${where.join(" AND ")}
             ORDER BY c.file_size DESC, c.sha256 LIMIT ?`,
        [...(filter.hostname === undefined ? [] : [filter.hostname]), ...params, page.limit + 1],
      ).map((row) => {
        const parsed = singleHostSchema.parse(row);
        return { ...parsed, stored: parsed.stored === 1 };
      });
      return pageOf(
        rows.slice(0, page.limit),
        rows.length > page.limit,
        (content) => encodeCursor("single_host", [content.file_size, content.sha256]),
      );
    });
  }

  stats(hostname: string | null): Promise<InventoryStats> {
    return this.#run(() => {
      const totals = z.object({ hosts: int, files: int, logical_bytes: int }).parse(
        this.#all(
          `SELECT coalesce(sum(files > 0), 0) AS hosts, coalesce(sum(files), 0) AS files,
             coalesce(sum(logical_bytes), 0) AS logical_bytes
           FROM host_totals ${hostname === null ? "" : "WHERE hostname = ?"}`,
          hostname === null ? [] : [hostname],
        )[0],
      );
      // The fleet's content totals are one maintained row; a host's are its contents.
      const contents = contentTotalsSchema.parse(
        hostname === null
          ? this.#all(
            `SELECT digests AS distinct_digests, unique_bytes, stored_digests, stored_bytes,
               at_risk_files, at_risk_bytes FROM fleet_totals`,
            [],
          )[0]
          : this.#all(
            `SELECT count(*) AS distinct_digests, coalesce(sum(c.file_size), 0) AS unique_bytes,
               coalesce(sum(c.stored OR c.file_size = 0), 0) AS stored_digests,
               coalesce(sum(c.stored * c.file_size), 0) AS stored_bytes,
               coalesce(sum(CASE WHEN ${UNSTORED} THEN h.live ELSE 0 END), 0) AS at_risk_files,
               coalesce(sum(CASE WHEN ${UNSTORED} THEN h.live * c.file_size ELSE 0 END), 0)
                 AS at_risk_bytes
             FROM host_contents h JOIN contents c ON c.sha256 = h.sha256
             WHERE h.hostname = ? AND h.live > 0`,
            [hostname],
          )[0],
      );
      return {
        hostname,
        ...totals,
        distinct_digests: contents.distinct_digests,
        unique_bytes: contents.unique_bytes,
        dedup_saved_bytes: totals.logical_bytes - contents.unique_bytes,
        stored_digests: contents.stored_digests,
        stored_bytes: contents.stored_bytes,
        at_risk_files: contents.at_risk_files,
        at_risk_bytes: contents.at_risk_bytes,
      };
    });
  }

  snapshot(
    hostname: string,
    path: string,
    at: string | null,
    page: PageRequest,
  ): Promise<Page<SnapshotFile>> {
    return this.#run(() => {
      const prefix = directoryPrefix(path);
      const exact = path.replace(/\/+$/, "");
      const params: SQLInputValue[] = [hostname, exact, prefix, prefixEnd(prefix)];
      let where = "";
      if (at !== null) {
        where += ` AND f.created_at <= ? AND NOT EXISTS (SELECT 1 FROM file_deletions d
          WHERE d.file_id = f.id AND d.deleted_at <= ? AND d.restored_at > ?)`;
        params.push(at, at, at);
      } else {
        where += " AND f.deleted_at IS NULL";
      }
      if (page.cursor !== null) {
        where += " AND f.filepath > ?";
        params.push(decodeCursor("snapshot", page.cursor, z.tuple([text]))[0]);
      }
      // With `at`: the first history entry replaced after `at` is the version of that time;
      // without one, the current version, unless it was deleted by then.
      const version = at === null
        ? "NULL AS h_sha256, NULL AS h_size, NULL AS h_mtime, NULL AS h_mode"
        : `h.sha256 AS h_sha256, h.file_size AS h_size, h.file_mtime AS h_mtime,
          h.file_mode AS h_mode`;
      const join = at === null ? "" : `LEFT JOIN file_history h ON h.rowid = (
          SELECT x.rowid FROM file_history x WHERE x.file_id = f.id AND x.replaced_at > ?
          ORDER BY x.replaced_at, x.rowid LIMIT 1)`;
      const joinParams = at === null ? [] : [at];
      const rows = this.#all(
        `SELECT f.filepath, f.sha256, f.file_size, f.file_mode, f.file_mtime, f.deleted_at,
           ${version}
         FROM files f ${join}
         WHERE f.hostname = ? AND (f.filepath = ? OR (f.filepath >= ? AND f.filepath < ?))
           ${where}
         ORDER BY f.filepath LIMIT ?`,
        [...joinParams, ...params, page.limit + 1],
      ).map((row) => snapshotRowSchema.parse(row));
      const files: SnapshotFile[] = [];
      for (const row of rows.slice(0, page.limit)) {
        let file: Omit<SnapshotFile, "stored">;
        if (row.h_sha256 !== null) {
          file = {
            filepath: row.filepath,
            sha256: row.h_sha256,
            file_size: row.h_size ?? 0,
            file_mode: row.h_mode ?? row.file_mode,
            file_mtime: row.h_mtime ?? 0,
          };
        } else {
          if (at !== null && row.deleted_at !== null && row.deleted_at <= at) continue;
          file = {
            filepath: row.filepath,
            sha256: row.sha256,
            file_size: row.file_size,
            file_mode: row.file_mode,
            file_mtime: row.file_mtime,
          };
        }
        files.push({ ...file, stored: this.#stored(file.sha256) });
      }
      const more = rows.length > page.limit;
      const last = rows[Math.min(rows.length, page.limit) - 1];
      return {
        items: files,
        next_cursor: more && last ? encodeCursor("snapshot", [last.filepath]) : null,
      };
    });
  }

  #stored(digest: Digest): boolean {
    return digest === EMPTY_DIGEST ||
      this.#all("SELECT 1 AS x FROM blobs WHERE digest = ?", [digest]).length > 0;
  }
}

/** A content whose blob is not recorded and that has bytes (SQL over `contents c`). */
const UNSTORED = "c.stored = 0 AND c.file_size > 0";

const hostTotalsSchema = z.object({
  hostname: text,
  files: int,
  logical_bytes: int,
  distinct_digests: int,
  exclusive_bytes: int,
  first_report_at: text,
  last_report_at: text,
});

const contentTotalsSchema = z.object({
  distinct_digests: int,
  unique_bytes: int,
  stored_digests: int,
  stored_bytes: int,
  at_risk_files: int,
  at_risk_bytes: int,
});

const duplicateGroupSchema = z.object({
  sha256: digestSchema,
  file_size: int,
  count: int,
  hosts: int,
  reclaimable_bytes: int,
});

const changeSchema = z.object({
  at: text,
  kind: z.enum(["added", "modified", "deleted"]),
  hostname: text,
  filepath: text,
  sha256: digestSchema,
  file_size: int,
  previous_sha256: digestSchema.nullable(),
});

const singleHostSchema = z.object({
  sha256: digestSchema,
  file_size: int,
  hostname: text,
  count: int,
  stored: int,
});

const snapshotRowSchema = z.object({
  filepath: text,
  sha256: digestSchema,
  file_size: int,
  file_mode: int,
  file_mtime: num,
  deleted_at: text.nullable(),
  h_sha256: digestSchema.nullable(),
  h_size: int.nullable(),
  h_mtime: num.nullable(),
  h_mode: int.nullable(),
});

/** Whether a duplicate filter covers every host and path (the maintained counts answer it). */
function fleetWide(filter: DuplicateFilter): boolean {
  return filter.hostnames === undefined && filter.path_prefix === undefined;
}

/** SQL for a column of the content file `f` had at the time `at` (an SQL expression). */
function versionAt(column: "sha256" | "file_size", at: string): string {
  return `coalesce((SELECT x.${column} FROM file_history x WHERE x.file_id = f.id
    AND x.replaced_at > ${at} ORDER BY x.replaced_at, x.rowid LIMIT 1), f.${column})`;
}

function nullableInteger(row: Row, column: string): number | null {
  return row[column] === null ? null : integer(row, column);
}
