/**
 * Blob stores keep each distinct content once, addressed by its digest.
 *
 * Invariant: a blob is visible under a digest only if its bytes hash to it. `put`
 * streams to a private temporary place while hashing, verifies digest and size, makes
 * the bytes durable and only then publishes them atomically; a failed, truncated or
 * hostile upload never touches a blob already stored. Concurrent `put`s of one digest
 * all succeed and leave one blob. Absence is a value (`false` / `null`); failure throws
 * `AppError`. Every adapter passes `tests/blob_store_contract.ts`.
 */
import type { Digest } from "../digest.ts";
import { openFsBlobStore } from "./fs.ts";
import type { S3BlobStoreConfig } from "./s3.ts";

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

export type BlobStoreConfig = { kind: "fs"; root: string } | S3BlobStoreConfig;

export async function openBlobStore(config: BlobStoreConfig): Promise<BlobStore> {
  switch (config.kind) {
    case "fs":
      return await openFsBlobStore(config.root);
    case "s3": {
      // Loaded only when selected: the SDK is large and the filesystem is the default.
      const { openS3BlobStore } = await import("./s3.ts");
      return await openS3BlobStore(config);
    }
  }
}

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
