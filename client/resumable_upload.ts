/**
 * A large blob sent through a /v1 resumable upload: `POST /v1/uploads`, then `PATCH` with
 * the rest of the bytes from the server's offset. When an append fails (the connection
 * dropped, a 5xx, a timeout), the client asks the server how much it holds (`HEAD`, with
 * the usual retries) and continues from there. Failures without progress are bounded by
 * the retry policy; any progress resets the count.
 *
 * The bytes are verified as they go (the part already sent is read and hashed again, not
 * sent), so a file that changed fails with a `conflict` AppError and the upload is
 * abandoned; the server verifies the digest too before the blob becomes visible.
 */
import type { Digest } from "../lib/digest.ts";
import { AppError } from "../lib/errors.ts";
import { trackedBody } from "./api_client.ts";
import { backoffDelay, type RetryPolicy, sleep } from "./retry.ts";
import { type HashedFile, openVerifiedBody } from "./upload_body.ts";
import type { V1Client } from "./v1_client.ts";

export interface ResumableOptions {
  retry: RetryPolicy;
  signal?: AbortSignal;
  onBytes?: (count: number) => void;
  /** An append failed and the upload goes on from `offset`. */
  onResume?: (event: { digest: Digest; offset: number; reason: string }) => void;
}

/** Answers "stored", or "already_stored" when the server had the blob before. */
export async function resumableUpload(
  v1: V1Client,
  file: HashedFile,
  options: ResumableOptions,
): Promise<"stored" | "already_stored"> {
  const { signal } = options;
  const created = await v1.createUpload(file.digest, file.size, signal);
  if (created === null) return "already_stored";
  const { location } = created;
  let offset = created.offset;
  let failures = 0;
  let done = false;
  try {
    for (;;) {
      const source = await openVerifiedBody(file, { offset, onBytes: options.onBytes });
      const watched = trackedBody(source, () => {});
      let reason: string;
      try {
        const answer = await v1.appendUpload(
          location,
          offset,
          file.size - offset,
          watched.body,
          signal,
        );
        if (answer.complete) {
          done = true;
          return "stored";
        }
        if (answer.offset > offset) failures = 0;
        offset = answer.offset;
        continue;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const bodyFailure = watched.failure();
        if (bodyFailure !== undefined) throw bodyFailure;
        if (
          error instanceof AppError &&
          (error.code === "unauthorized" || error.code === "forbidden" ||
            error.code === "digest_mismatch" || error.code === "payload_too_large")
        ) throw error;
        if (++failures > options.retry.retries) throw error;
        reason = error instanceof Error ? error.message : String(error);
      } finally {
        await watched.release();
      }
      await sleep(backoffDelay(failures, options.retry), signal);
      const previous = offset;
      try {
        offset = await v1.uploadOffset(location, signal);
      } catch (error) {
        if (error instanceof AppError && error.code === "not_found") {
          throw new AppError(
            "unavailable",
            `Upload of blob "${file.digest.slice(0, 12)}..." was lost by the server (${reason})`,
            { cause: error },
          );
        }
        throw error;
      }
      if (offset > previous) failures = 0;
      options.onResume?.({ digest: file.digest, offset, reason });
    }
  } finally {
    if (!done) {
      // Best effort: free the server's partial bytes now rather than at expiry.
      await v1.abandonUpload(location, AbortSignal.timeout(2_000));
    }
  }
}
