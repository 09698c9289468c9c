/**
 * The read side of a metadata store: the questions the inventory exists for (which hosts,
 * what is in this directory, where does this content live, what is duplicated, what changed,
 * what is at risk), answered by every adapter with the same results (proven by
 * `tests/inventory_contract.ts` on SQLite and on MongoDB/FerretDB).
 *
 * Every list is a page: at most `limit` items in a stable order and an opaque `next_cursor`
 * (null on the last page). Orders are keysets on unique keys, so a file inserted between two
 * pages never makes another file appear twice or go missing; only the ordering of duplicate
 * groups, single-host contents and hosts depends on counts that inserts change (a group whose
 * count changes between pages may move across the cursor).
 *
 * Times are ISO 8601 strings (as in records); ranges are half-open `[from, to)`.
 * Filters arrive validated (`lib/inventory.ts`); a cursor from another query, or not from a
 * store at all, is `invalid_input`.
 */
import type { Digest } from "../digest.ts";
import type { FileHistoryEntry, FileRecord } from "../models/file.ts";

/** The largest page any inventory query returns. */
export const MAX_PAGE_SIZE = 1000;
/** The page size when none is asked for. */
export const DEFAULT_PAGE_SIZE = 100;

export interface PageRequest {
  /** 1 to `MAX_PAGE_SIZE`. */
  limit: number;
  cursor: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface HostSummary {
  hostname: string;
  /** Live files. */
  files: number;
  /** Sum of the live files' sizes. */
  logical_bytes: number;
  /** Distinct digests among its live files. */
  distinct_digests: number;
  /** Sum of the sizes of the distinct contents that no other host holds. */
  exclusive_bytes: number;
  /** When its first file was registered. */
  first_report_at: string;
  /** When one of its files last changed (registered, updated or deleted). */
  last_report_at: string;
  /** When a scan of it last ran to its end and reported its deletions; null when unknown. */
  last_complete_scan_at: string | null;
}

export interface DirectoryEntry {
  kind: "directory";
  name: string;
  /** Full path of the directory, without a trailing slash. */
  path: string;
  /** Live files anywhere below it, and their bytes. */
  files: number;
  bytes: number;
}

export interface FileEntry {
  kind: "file";
  name: string;
  file: FileRecord;
}

/** Directories first, then files, each by name (byte order). */
export type TreeEntry = DirectoryEntry | FileEntry;

/** An earlier content of a file, with the mode it had (null when recorded before modes were). */
export interface FileVersion extends FileHistoryEntry {
  file_mode: number | null;
}

/** A time a file was away: deleted, then registered again. */
export interface Absence {
  deleted_at: string;
  restored_at: string;
}

/** One file, live or deleted, with every digest it had and the times it was away. */
export interface FileDetail {
  file: FileRecord;
  /** When it was deleted; null while it is live. */
  deleted_at: string | null;
  /** Earlier digests, newest first. */
  history: FileVersion[];
  /** Deletions that were undone, newest first. */
  absences: Absence[];
}

export interface SearchFilter {
  /** Part of the path, byte for byte (case-sensitive). */
  substring?: string;
  /** A compiled path pattern (see `lib/path_glob.ts`). */
  glob?: { regex: string; prefilter: string | null };
  hostname?: string;
  /** Files under this directory (ends with "/"). */
  path_prefix?: string;
  digest?: Digest;
  min_size?: number;
  max_size?: number;
  /** Unix seconds, `[from, to)`. */
  mtime_from?: number;
  mtime_to?: number;
  /** Files registered or changed at or after this time. */
  reported_since?: string;
}

export interface DuplicateFilter {
  /** Count only locations on these hosts. */
  hostnames?: string[];
  /** Count only locations under this directory (ends with "/"). */
  path_prefix?: string;
  min_size?: number;
}

export interface DuplicateGroup {
  sha256: Digest;
  file_size: number;
  /** Live locations (within the filter). */
  count: number;
  /** Distinct hosts among them. */
  hosts: number;
  /** file_size x (count - 1). */
  reclaimable_bytes: number;
}

export interface DuplicateTotals {
  groups: number;
  files: number;
  reclaimable_bytes: number;
}

export interface ChangeFilter {
  hostname?: string;
  since: string;
  until: string;
}

export interface Change {
  at: string;
  kind: "added" | "modified" | "deleted";
  hostname: string;
  filepath: string;
  /** The digest after the change; for a deletion, the digest it had. */
  sha256: Digest;
  file_size: number;
  /** For "modified": the digest before. */
  previous_sha256: Digest | null;
}

export interface AtRiskFilter {
  hostname?: string;
}

export interface SingleHostFilter {
  hostname?: string;
  min_size?: number;
}

/** A content that lives on exactly one host. */
export interface SingleHostContent {
  sha256: Digest;
  file_size: number;
  hostname: string;
  /** Its live files on that host. */
  count: number;
  /** Whether the server holds its blob. */
  stored: boolean;
}

export interface InventoryStats {
  /** Null for the whole fleet. */
  hostname: string | null;
  hosts: number;
  files: number;
  distinct_digests: number;
  logical_bytes: number;
  /** Each distinct content counted once. */
  unique_bytes: number;
  /** logical_bytes - unique_bytes. */
  dedup_saved_bytes: number;
  /** Of the distinct contents, those whose blob the server holds, and their bytes. */
  stored_digests: number;
  stored_bytes: number;
  /** Live non-empty files whose blob the server does not hold, and their bytes. */
  at_risk_files: number;
  at_risk_bytes: number;
}

/** A file as it was at a time, for restore. */
export interface SnapshotFile {
  filepath: string;
  sha256: Digest;
  file_size: number;
  file_mode: number;
  file_mtime: number;
  /** Whether the server holds its blob (always true for empty files). */
  stored: boolean;
}

export interface InventoryQueries {
  /** Hosts by name. */
  hosts(page: PageRequest): Promise<Page<HostSummary>>;
  /** Children of `directory` ("/" or a path without a trailing slash) on a host. */
  tree(hostname: string, directory: string, page: PageRequest): Promise<Page<TreeEntry>>;
  /** One file with its history; deleted files too. Null when never registered. */
  file(hostname: string, filepath: string): Promise<FileDetail | null>;
  /** Live files matching every given filter, by (hostname, filepath). */
  search(filter: SearchFilter, page: PageRequest): Promise<Page<FileRecord>>;
  /** Live files with this digest: the epoch file first, then by registration. */
  locations(digest: Digest, page: PageRequest): Promise<Page<FileRecord>>;
  /** Duplicate groups by reclaimable bytes (largest first), then digest. */
  duplicates(filter: DuplicateFilter, page: PageRequest): Promise<Page<DuplicateGroup>>;
  /** Totals over every duplicate group of the filter. */
  duplicateTotals(filter: DuplicateFilter): Promise<DuplicateTotals>;
  /** Changes in `[since, until)` by (at, hostname, filepath, kind). */
  changes(filter: ChangeFilter, page: PageRequest): Promise<Page<Change>>;
  /** Live non-empty files whose blob is not stored, by (hostname, filepath). */
  atRisk(filter: AtRiskFilter, page: PageRequest): Promise<Page<FileRecord>>;
  /** Contents whose live files are all on one host, by size (largest first), then digest. */
  singleHost(filter: SingleHostFilter, page: PageRequest): Promise<Page<SingleHostContent>>;
  /** Totals for one host, or the fleet when `hostname` is null. */
  stats(hostname: string | null): Promise<InventoryStats>;
  /**
   * The files at `path` (one file, or every file below a directory) on a host as they were
   * at `at` (now when null), by filepath.
   */
  snapshot(
    hostname: string,
    path: string,
    at: string | null,
    page: PageRequest,
  ): Promise<Page<SnapshotFile>>;
}
