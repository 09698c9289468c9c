/**
 * Metadata stores index files, the blobs known to be stored, and API keys.
 *
 * Invariants every adapter keeps (proven by `tests/metadata_store_contract.ts`):
 * - a file is keyed by (hostname, filepath); registering it again with the same
 *   metadata changes nothing, a new digest is kept as history;
 * - the blob index is the dedup truth; recording a blob twice keeps the first record
 *   (and so the epoch file) and is not an error, also under concurrent writers;
 * - API keys are found by the SHA-256 of the key only; the key itself is never stored.
 * Absence is a value (`null` / `false`); failure throws `AppError`.
 *
 * This module is the interface; it imports no adapter. The registry that knows every
 * adapter is `open.ts`.
 */
import type { Digest } from "../digest.ts";
import type { FileHistoryEntry, FileMetadata, FileRecord, UpsertOutcome } from "../models/file.ts";
import type { ApiKeyRecord, Scope } from "../models/api_key.ts";
import type { HostLimits } from "../models/host_pattern.ts";
import type { AuditRecord, NewAuditRecord } from "../models/audit.ts";
import type { InventoryQueries } from "./inventory.ts";

export type * from "./inventory.ts";

export interface FileIndex {
  /**
   * Registers or updates the files; one result per input, in order. Each file's change is
   * atomic; SQLite also applies the whole call in one transaction, MongoDB per file.
   * Registering a deleted file brings it back (outcome "updated", no longer deleted).
   */
  upsertMany(
    files: readonly FileMetadata[],
    now: Date,
  ): Promise<{ file: FileRecord; outcome: UpsertOutcome }[]>;
  /** The live file at (hostname, filepath); null when unknown or deleted. */
  get(hostname: string, filepath: string): Promise<FileRecord | null>;
  /** The file with this id, deleted or not (ids stay valid references, e.g. epoch files). */
  getById(id: string): Promise<FileRecord | null>;
  /** Live files whose current digest is `digest`, oldest first. */
  findByDigest(digest: Digest, limit: number): Promise<FileRecord[]>;
  /** Earlier digests of one file, newest first. */
  history(hostname: string, filepath: string): Promise<FileHistoryEntry[]>;
  /**
   * Soft delete: each live file of `hostname` at one of `filepaths` is marked deleted at
   * `now` (its record and history stay; `get`, `findByDigest`, `count` and `stats` leave it
   * out); atomic per file (SQLite: per call). Unknown and already deleted paths are
   * skipped. Returns how many files were marked. For the /v1 deletion report.
   */
  markDeleted(hostname: string, filepaths: readonly string[], now: Date): Promise<number>;
  /**
   * Notes that a scan of `hostname` ran to its end at `now` (every root walked, its
   * deletions reported): the read side's "last complete scan". A later time replaces it.
   */
  recordCompleteScan(hostname: string, now: Date): Promise<void>;
  /**
   * Removes every record of a host, live or deleted, with its history (an admin removing
   * a decommissioned host); the number of files removed.
   */
  removeHost(hostname: string): Promise<number>;
  /**
   * Removes every file record whose digest is `digest` (any host, live or deleted) and
   * every history entry naming it (an admin purging a content); the files removed.
   */
  removeDigest(digest: Digest): Promise<number>;
  /** Number of live files. */
  count(): Promise<number>;
  /** Totals over the live files (`GET /v1/stats`). */
  stats(): Promise<FileStats>;
}

export interface FileStats {
  /** Live files. */
  files: number;
  /** Distinct digests among the live files. */
  distinct_digests: number;
  /** Sum of the live files' sizes (a bigint: fleets pass 2^53 bytes). */
  logical_bytes: bigint;
  /** Sum of the sizes of the distinct digests among the live files (each counted once). */
  unique_bytes: bigint;
}

export interface BlobRecord {
  digest: Digest;
  size: number;
  stored_at: string;
  /** The file whose upload put this blob on the server, when known. */
  epoch_file_id: string | null;
}

export interface BlobIndex {
  has(digest: Digest): Promise<boolean>;
  get(digest: Digest): Promise<BlobRecord | null>;
  /** Of the given digests, those not recorded, each once, in input order. */
  missing(digests: readonly Digest[]): Promise<Digest[]>;
  /** Records a stored blob; false when it was already recorded (the first record stays). */
  record(blob: Omit<BlobRecord, "stored_at">, now: Date): Promise<boolean>;
  remove(digest: Digest): Promise<void>;
  /** How many blobs are recorded and the sum of their sizes. */
  stats(): Promise<{ blobs: number; bytes: bigint }>;
}

/** What a new API key is made of; `hosts` absent or null: any host. */
export interface NewApiKey {
  name: string;
  description: string | null;
  scope: Scope;
  key_hash: string;
  hosts?: HostLimits;
}

export interface ApiKeyStore {
  create(
    key: NewApiKey,
    now: Date,
  ): Promise<ApiKeyRecord>;
  findByHash(keyHash: string): Promise<ApiKeyRecord | null>;
  get(id: string): Promise<ApiKeyRecord | null>;
  list(): Promise<ApiKeyRecord[]>;
  /** False when there is no such key. Revoking twice keeps the first time. */
  revoke(id: string, now: Date): Promise<boolean>;
  /** False when there is no such key. */
  delete(id: string): Promise<boolean>;
  touch(id: string, now: Date): Promise<void>;
  count(): Promise<number>;
}

/** What admins removed, append-only (`lib/models/audit.ts`). */
export interface AuditLog {
  record(entry: NewAuditRecord, now: Date): Promise<AuditRecord>;
  /** The newest `limit` records, newest first. */
  list(limit: number): Promise<AuditRecord[]>;
}

export interface MetadataStore extends AsyncDisposable {
  readonly kind: string;
  readonly files: FileIndex;
  readonly blobs: BlobIndex;
  readonly apiKeys: ApiKeyStore;
  readonly audit: AuditLog;
  /** The read side: hosts, trees, search, duplicates, changes, protection, stats. */
  readonly inventory: InventoryQueries;
  /** Throws `unavailable` when the store cannot be reached. */
  ping(): Promise<void>;
}

export interface MongoMetadataStoreConfig {
  kind: "mongodb";
  /** `mongodb://` or `mongodb+srv://` connection string. */
  url: string;
  /** Database name (default `putplace`). */
  database: string;
  /** Files collection (default `file_metadata`, the earlier system's). */
  filesCollection: string;
  /** How long to wait for a server before an operation fails (default 10 000). */
  serverSelectionTimeoutMs: number;
}

export type MetadataStoreConfig = { kind: "sqlite"; path: string } | MongoMetadataStoreConfig;
