/** Request size limits, configurable (see config.ts). */
export interface Limits {
  /** Largest JSON request body. */
  maxJsonBytes: number;
  /** Largest blob upload. */
  maxUploadBytes: number;
  /** Most files in one batch registration (`POST /v1/files/batch`). */
  maxBatchFiles: number;
  /** Most digests in a missing-blob query, or paths in a deletion report. */
  maxBatchItems: number;
  /** Largest JSON body of the /v1 batch routes (files, missing blobs, deleted files). */
  maxBatchBytes: number;
  /** Largest small-blob batch request (`POST /v1/blobs/batch`), framing included. */
  maxBlobBatchBytes: number;
  /** Largest single blob inside a small-blob batch. */
  maxBlobBatchBlobBytes: number;
  /** Most blobs in one small-blob batch. */
  maxBlobBatchCount: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxJsonBytes: 1024 * 1024,
  maxUploadBytes: 64 * 1024 ** 3,
  maxBatchFiles: 1000,
  maxBatchItems: 10_000,
  maxBatchBytes: 4 * 1024 * 1024,
  maxBlobBatchBytes: 16 * 1024 * 1024,
  maxBlobBatchBlobBytes: 1024 * 1024,
  maxBlobBatchCount: 10_000,
};
