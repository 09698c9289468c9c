/**
 * The domain operations of PutPlace, free of HTTP: register files, store blobs, find
 * files by digest. The blob index is the dedup truth; it only ever records a blob after
 * the blob store has durably published verified bytes.
 */
import { bytesMismatch, type Digest, EMPTY_DIGEST, verifyStream } from "./digest.ts";
import { AppError, short } from "./errors.ts";
import { publishBlobOutcome } from "./store_channels.ts";
import type { FileMetadata, FileRecord, UpsertOutcome } from "./models/file.ts";
import type {
  BlobBytes,
  BlobStore,
  ByteRange,
  PutManyResult,
  PutResult,
  StoredBlob,
} from "./blob_store/mod.ts";
import type { AuditRecord } from "./models/audit.ts";
import type { MetadataStore } from "./metadata_store/mod.ts";

export interface Stores {
  metadata: MetadataStore;
  blobs: BlobStore;
}

export interface Registration {
  file: FileRecord;
  outcome: UpsertOutcome;
  /** True when the server does not hold the blob yet (never for empty files). */
  uploadRequired: boolean;
}

/** True for the digests whose blob never needs uploading (the empty blob). */
function alwaysStored(digest: Digest): boolean {
  return digest === EMPTY_DIGEST;
}

export async function registerFiles(
  stores: Stores,
  files: readonly FileMetadata[],
  now = new Date(),
): Promise<Registration[]> {
  const results = await stores.metadata.files.upsertMany(files, now);
  const candidates = [
    ...new Set(
      results.map((r) => r.file.sha256).filter((d) => !alwaysStored(d)),
    ),
  ];
  const missing = new Set(await stores.metadata.blobs.missing(candidates));
  return results.map(({ file, outcome }) => ({
    file,
    outcome,
    uploadRequired: file.file_size > 0 && missing.has(file.sha256),
  }));
}

export async function registerFile(
  stores: Stores,
  file: FileMetadata,
  now = new Date(),
): Promise<Registration> {
  const [registration] = await registerFiles(stores, [file], now);
  return registration;
}

/** Of these digests, those the server still needs, each once. */
export async function missingBlobs(stores: Stores, digests: readonly Digest[]): Promise<Digest[]> {
  return await stores.metadata.blobs.missing(digests.filter((d) => !alwaysStored(d)));
}

export async function isStored(stores: Stores, digest: Digest): Promise<boolean> {
  return alwaysStored(digest) || await stores.metadata.blobs.has(digest);
}

/**
 * Stores the bytes of `body` as blob `digest`. Already stored: the bytes are still read
 * and verified (a mismatch is still `digest_mismatch`) but nothing is rewritten.
 * `epochFile` is the file whose upload this is, recorded when the blob is new.
 */
export async function storeBlob(
  stores: Stores,
  digest: Digest,
  body: ReadableStream<Uint8Array>,
  options: { size?: number; epochFile?: FileRecord | null } = {},
): Promise<PutResult> {
  const stored = alwaysStored(digest) ||
    (await stores.metadata.blobs.has(digest) && await stores.blobs.has(digest));
  if (stored) {
    return announced({ created: false, size: await verifyStream(digest, options.size, body) });
  }
  // Not stored, or indexed but lost from the blob store: (re)write, then index.
  const result = await stores.blobs.put(digest, options.size, body);
  await stores.metadata.blobs.record(
    { digest, size: result.size, epoch_file_id: options.epochFile?.id ?? null },
    new Date(),
  );
  return announced(result);
}

/** Tells the metrics whether an upload stored new content or met content already held. */
function announced<T extends { created: boolean; size: number }>(result: T): T {
  publishBlobOutcome({ outcome: result.created ? "stored" : "deduplicated", bytes: result.size });
  return result;
}

/**
 * The file a classic upload names: registered at (hostname, filepath) with `digest`;
 * `not_found` otherwise. Its uploaded bytes are stored with `storeBlob(..., { size:
 * file.file_size, epochFile: file })`: the registered size bounds the body.
 */
export async function uploadTarget(
  stores: Stores,
  where: { hostname: string; filepath: string; digest: Digest },
): Promise<FileRecord> {
  const { hostname, filepath, digest } = where;
  const file = await stores.metadata.files.get(hostname, filepath);
  if (!file || file.sha256 !== digest) {
    throw new AppError(
      "not_found",
      `No file "${filepath}" on host "${hostname}" is registered with digest "${short(digest)}"`,
    );
  }
  return file;
}

/** The size of blob `digest` when the server holds it, else null. */
export async function storedSize(stores: Stores, digest: Digest): Promise<number | null> {
  if (alwaysStored(digest)) return 0;
  return (await stores.metadata.blobs.get(digest))?.size ?? null;
}

/** The bytes of blob `digest` (a range of them, when given); null when not held. */
export async function readBlob(
  stores: Stores,
  digest: Digest,
  range?: ByteRange,
): Promise<StoredBlob | null> {
  return await stores.blobs.get(digest, range);
}

/**
 * Marks files of one host deleted (they stay as history); the number marked. Paths that
 * are unknown, already deleted or repeated are skipped.
 */
export async function reportDeleted(
  stores: Stores,
  hostname: string,
  filepaths: readonly string[],
  now = new Date(),
): Promise<number> {
  return await stores.metadata.files.markDeleted(hostname, filepaths, now);
}

/** How many live files of a digest `registeredOnHost` looks at. */
const HOST_CHECK_FILES = 1000;

/**
 * True when a live file with blob `digest` is on a host `allows` accepts (among the first
 * thousand such files): a host-bound key uploads only blobs its hosts registered.
 */
export async function registeredOnHost(
  stores: Stores,
  digest: Digest,
  allows: (hostname: string) => boolean,
): Promise<boolean> {
  const files = await stores.metadata.files.findByDigest(digest, HOST_CHECK_FILES);
  return files.some((file) => allows(file.hostname));
}

/**
 * The file to show for a digest: the epoch file while it is live and still holds this
 * digest, else the oldest live file that does; null when none does.
 */
export async function firstFileWithDigest(
  stores: Stores,
  digest: Digest,
): Promise<FileRecord | null> {
  const files = stores.metadata.files;
  const epochId = (await stores.metadata.blobs.get(digest))?.epoch_file_id;
  const epoch = epochId ? await files.getById(epochId) : null;
  // getById also finds soft-deleted files, so liveness is checked by path.
  const live = epoch ? await files.get(epoch.hostname, epoch.filepath) : null;
  if (live && live.id === epochId && live.sha256 === digest) return live;
  const [oldest] = await files.findByDigest(digest, 1);
  return oldest ?? null;
}

/**
 * Stores a blob uploaded by digest alone (the /v1 blob routes name no file): the epoch
 * file recorded is the oldest live file registered with the digest, when there is one.
 */
export async function storeBlobByDigest(
  stores: Stores,
  digest: Digest,
  body: ReadableStream<Uint8Array>,
  options: { size?: number } = {},
): Promise<PutResult> {
  const [oldest] = await stores.metadata.files.findByDigest(digest, 1);
  return await storeBlob(stores, digest, body, { size: options.size, epochFile: oldest ?? null });
}

/**
 * Stores small in-memory blobs uploaded by digest alone (a /v1 small-blob batch) together:
 * one result per blob, in order (see `BlobStore.putMany`). Each new blob is indexed, after
 * it is durable, with the oldest live file registered with its digest as its epoch file.
 */
export async function storeBlobs(
  stores: Stores,
  blobs: readonly BlobBytes[],
  now = new Date(),
): Promise<PutManyResult[]> {
  const toStore = blobs.filter((blob) => !alwaysStored(blob.digest));
  const stored = await stores.blobs.putMany(toStore);
  const unindexed = new Set(await stores.metadata.blobs.missing(toStore.map((b) => b.digest)));
  const toRecord = new Map<Digest, number>();
  stored.forEach((result, i) => {
    const digest = toStore[i].digest;
    if (!("error" in result) && unindexed.has(digest)) toRecord.set(digest, result.size);
  });
  await Promise.all([...toRecord].map(([digest, size]) => indexBlob(stores, digest, size, now)));
  let next = 0;
  return blobs.map((blob): PutManyResult => {
    if (!alwaysStored(blob.digest)) {
      const result = stored[next++];
      return "error" in result ? result : announced(result);
    }
    const error = bytesMismatch(blob.digest, blob.bytes);
    return error ? { error } : announced({ created: false, size: blob.bytes.byteLength });
  });
}

/**
 * Publishes a file that already holds blob `digest` (verified and durable, see
 * `BlobStore.adopt`) without copying it, and indexes it like `storeBlobByDigest`. Null
 * when the blob store cannot adopt it: then store it with `storeBlobByDigest`.
 */
export async function adoptBlobByDigest(
  stores: Stores,
  digest: Digest,
  size: number,
  path: string,
): Promise<PutResult | null> {
  if (!stores.blobs.adopt) return null;
  if (await stores.metadata.blobs.has(digest) && await stores.blobs.has(digest)) {
    return announced({ created: false, size });
  }
  const result = await stores.blobs.adopt(digest, size, path);
  if (result === null) return null;
  await indexBlob(stores, digest, size, new Date());
  return announced(result);
}

/** Records a blob stored by digest alone, the oldest live file with it as its epoch file. */
async function indexBlob(stores: Stores, digest: Digest, size: number, now: Date): Promise<void> {
  const [oldest] = await stores.metadata.files.findByDigest(digest, 1);
  await stores.metadata.blobs.record({ digest, size, epoch_file_id: oldest?.id ?? null }, now);
}

export interface DedupStats {
  /** Live (not deleted) files. */
  files: number;
  /** Distinct digests among the live files. */
  distinct_digests: number;
  /** Blobs in the blob index and the bytes they hold. */
  stored_blobs: number;
  stored_bytes: bigint;
  /** Sum of the live files' sizes: what the fleet holds. Byte sums are exact past 2^53. */
  logical_bytes: bigint;
  /** Bytes dedup saves: the logical bytes minus each distinct digest's bytes counted once. */
  dedup_saved_bytes: bigint;
}

export async function dedupStats(stores: Stores): Promise<DedupStats> {
  const [files, blobs] = await Promise.all([
    stores.metadata.files.stats(),
    stores.metadata.blobs.stats(),
  ]);
  return {
    files: files.files,
    distinct_digests: files.distinct_digests,
    stored_blobs: blobs.blobs,
    stored_bytes: blobs.bytes,
    logical_bytes: files.logical_bytes,
    dedup_saved_bytes: files.logical_bytes - files.unique_bytes,
  };
}

/** Who asked for a removal: the API key's id and name, for the audit record. */
export interface Actor {
  id: string;
  name: string;
}

/**
 * Removes every record of a decommissioned host (live or deleted files and their history)
 * and writes an audit record; the blobs stay (other hosts may hold them; unreferenced
 * ones are for garbage collection).
 */
export async function removeHost(
  stores: Stores,
  hostname: string,
  by: Actor,
  now = new Date(),
): Promise<AuditRecord> {
  const removed = await stores.metadata.files.removeHost(hostname);
  return await stores.metadata.audit.record({
    action: "host_removed",
    subject: hostname,
    key_id: by.id,
    key_name: by.name,
    files_removed: removed,
    detail: `Removed ${removed} file record${removed === 1 ? "" : "s"} of host "${hostname}"`,
  }, now);
}

/**
 * Purges a content (a leaked secret): the blob is dropped from the index first (so no one
 * is told it is stored), then from the blob store, then every file record with it and the
 * history entries naming it; an audit record says what was done.
 */
export async function purgeBlob(
  stores: Stores,
  digest: Digest,
  by: Actor,
  now = new Date(),
): Promise<AuditRecord> {
  const indexed = await stores.metadata.blobs.has(digest);
  await stores.metadata.blobs.remove(digest);
  await stores.blobs.delete(digest);
  const removed = await stores.metadata.files.removeDigest(digest);
  return await stores.metadata.audit.record({
    action: "blob_purged",
    subject: digest,
    key_id: by.id,
    key_name: by.name,
    files_removed: removed,
    detail: `${indexed ? "Deleted the blob" : "The blob was not stored"}; removed ${removed} ` +
      `file record${removed === 1 ? "" : "s"} and the history naming it (bytes inside a pack ` +
      "file are reclaimed when packs are compacted)",
  }, now);
}

/** The newest `limit` audit records, newest first. */
export async function auditRecords(stores: Stores, limit: number): Promise<AuditRecord[]> {
  return await stores.metadata.audit.list(limit);
}
