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
 */
import type { Digest } from "../digest.ts";
import type { FileHistoryEntry, FileMetadata, FileRecord, UpsertOutcome } from "../models/file.ts";
import type { ApiKeyRecord, Scope } from "../models/api_key.ts";
import { openSqliteMetadataStore } from "./sqlite.ts";

export interface FileIndex {
  /** Registers or updates the files, in one transaction; one result per input, in order. */
  upsertMany(
    files: readonly FileMetadata[],
    now: Date,
  ): Promise<{ file: FileRecord; outcome: UpsertOutcome }[]>;
  get(hostname: string, filepath: string): Promise<FileRecord | null>;
  getById(id: string): Promise<FileRecord | null>;
  /** Files whose current digest is `digest`, oldest first. */
  findByDigest(digest: Digest, limit: number): Promise<FileRecord[]>;
  /** Earlier digests of one file, newest first. */
  history(hostname: string, filepath: string): Promise<FileHistoryEntry[]>;
  count(): Promise<number>;
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
}

export interface ApiKeyStore {
  create(
    key: { name: string; description: string | null; scope: Scope; key_hash: string },
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

export interface MetadataStore extends AsyncDisposable {
  readonly kind: string;
  readonly files: FileIndex;
  readonly blobs: BlobIndex;
  readonly apiKeys: ApiKeyStore;
  /** Throws `unavailable` when the store cannot be reached. */
  ping(): Promise<void>;
}

export type MetadataStoreConfig = { kind: "sqlite"; path: string };

export async function openMetadataStore(config: MetadataStoreConfig): Promise<MetadataStore> {
  switch (config.kind) {
    case "sqlite":
      return await openSqliteMetadataStore(config.path);
  }
}
