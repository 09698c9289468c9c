/**
 * Blob stores keep each distinct content once, addressed by its digest.
 *
 * Invariant: a blob is visible under a digest only if its bytes hash to it. `put`
 * streams to a private temporary place while hashing, verifies digest and size, makes
 * the bytes durable and only then publishes them atomically; a failed, truncated or
 * hostile upload never touches a blob already stored. Concurrent `put`s of one digest
 * all succeed and leave one blob. Absence is a value (`false` / `null`); failure throws
 * `AppError`. Every adapter passes `tests/blob_store_contract.ts`.
 *
 * This module is the interface and what adapters share; it imports no adapter. The
 * registry that knows every adapter is `open.ts`.
 */
import { bytesMismatch, type Digest, type DigestWriter } from "../digest.ts";
import { AppError, short } from "../errors.ts";

/** Inclusive byte range, as in an HTTP `Range` header; `end` defaults to the last byte. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface StoredBlob {
  /** The size of the whole blob. */
  size: number;
  /** The bytes served: the whole blob, or the range asked for. */
  body: ReadableStream<Uint8Array>;
  /** The inclusive range `body` covers. */
  range: { start: number; end: number };
}

export interface PutResult {
  /** False when the blob was already stored (nothing was rewritten). */
  created: boolean;
  size: number;
}

/** A small blob whose bytes are in memory (one blob of a small-blob batch). */
export interface BlobBytes {
  digest: Digest;
  bytes: Uint8Array;
}

/** One blob's result in `putMany`: stored (or already there), or why not. */
export type PutManyResult = PutResult | { error: AppError };

export interface BlobStore extends AsyncDisposable {
  readonly kind: string;
  has(digest: Digest): Promise<boolean>;
  /**
   * Stores `body` under `digest` when its bytes hash to it (else `digest_mismatch`),
   * and when `size` is given, only if exactly that many bytes arrive. Idempotent.
   */
  put(
    digest: Digest,
    size: number | undefined,
    body: ReadableStream<Uint8Array>,
  ): Promise<PutResult>;
  /**
   * Stores small in-memory blobs together, each verified like `put`: one result per blob,
   * in order; a blob whose bytes do not hash to its digest gets `digest_mismatch` and
   * does not fail the others. All are durable before it returns, made so together where
   * the store can (fs: one pack append and one sync for the whole call). A store-wide
   * failure (disk full, unreachable server) throws.
   */
  putMany(blobs: readonly BlobBytes[]): Promise<PutManyResult[]>;
  /**
   * Optional: publishes the file at `path` as blob `digest` without copying it, when the
   * store can (the fs store, on the same filesystem). The caller guarantees the file's
   * bytes were verified against `digest` and `size` and are durable, and never writes it
   * again. Null when the store cannot adopt it: then use `put`. Idempotent like `put`.
   */
  adopt?(digest: Digest, size: number, path: string): Promise<PutResult | null>;
  /** `invalid_input` when the range starts past the end of the blob. */
  get(digest: Digest, range?: ByteRange): Promise<StoredBlob | null>;
  delete(digest: Digest): Promise<void>;
  /** Throws `unavailable` when the store cannot be used. */
  ping(): Promise<void>;
}

export interface S3BlobStoreConfig {
  kind: "s3";
  bucket: string;
  region: string;
  /** Prepended to every key (default `files/`). */
  prefix: string;
  /** For S3-compatible stores: their endpoint URL. */
  endpoint?: string;
  /** Path-style URLs (`<endpoint>/<bucket>/<key>`), which most S3-compatible stores need. */
  forcePathStyle: boolean;
  /** A named profile of the shared AWS config files. */
  profile?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** With temporary explicit keys. */
  sessionToken?: string;
  /** Multipart part size (default 8 MiB, at least 5 MiB on S3); blobs up to it go in one put. */
  partBytes?: number;
  /** Parts of one upload sent at once (default 4): memory per upload is about (this + 1) parts. */
  partsInFlight?: number;
}

export type BlobStoreConfig = { kind: "fs"; root: string } | S3BlobStoreConfig;

/** Resolves an inclusive range against a blob's size; `null` means the whole blob. */
export function resolveRange(
  size: number,
  range: ByteRange | undefined,
): { start: number; end: number } | "unsatisfiable" {
  if (!range) return { start: 0, end: Math.max(size - 1, -1) };
  if (range.start >= size || range.start < 0) return "unsatisfiable";
  const end = Math.min(range.end ?? size - 1, size - 1);
  if (end < range.start) return "unsatisfiable";
  return { start: range.start, end };
}

/**
 * `putMany` for a store without a cheaper way: each blob through `put`, `concurrency` at a
 * time. A blob's own error (mismatch) is its result; a store-wide failure throws.
 */
export async function putEach(
  store: BlobStore,
  blobs: readonly BlobBytes[],
  concurrency: number,
): Promise<PutManyResult[]> {
  const results: PutManyResult[] = new Array(blobs.length);
  // Each blob is checked first; a digest twice in one call is then put once, and its
  // repeats are "already stored".
  const first = new Map<Digest, number>();
  blobs.forEach((blob, index) => {
    const error = bytesMismatch(blob.digest, blob.bytes);
    if (error) results[index] = { error };
    else if (!first.has(blob.digest)) first.set(blob.digest, index);
  });
  const todo = [...first.values()];
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < todo.length && !failure) {
      const index = todo[next++];
      const { digest, bytes } = blobs[index];
      try {
        results[index] = await store.put(digest, bytes.byteLength, streamOfBytes(bytes));
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  // Every put has ended before this returns or throws.
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  if (failure) throw failure.error;
  blobs.forEach((blob, index) => {
    const at = first.get(blob.digest);
    if (results[index] || at === undefined) return;
    results[index] = { created: false, size: blob.bytes.byteLength };
  });
  return results;
}

/** A stream of one in-memory chunk. */
export function streamOfBytes(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

/**
 * The next chunk of the body of blob `digest` being put, hashed into `hasher`; null at the
 * end. A body that fails midway is "the upload ended early" (`invalid_input`), except the
 * body's own `AppError` (a local read error at hand-off), kept as it is; more than the
 * declared `size` bytes are refused as soon as they arrive, before they are kept anywhere.
 */
export async function readPutChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  hasher: DigestWriter,
  digest: Digest,
  size: number | undefined,
): Promise<Uint8Array | null> {
  let read: ReadableStreamReadResult<Uint8Array>;
  try {
    read = await reader.read();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError(
      "invalid_input",
      `Cannot store blob "${short(digest)}": the upload ended early`,
      { cause: error },
    );
  }
  if (read.done) return null;
  hasher.update(read.value);
  if (size !== undefined && hasher.size > size) {
    throw new AppError(
      "invalid_input",
      `Cannot store blob "${short(digest)}": more than the declared ${size} bytes arrived`,
    );
  }
  return read.value;
}
