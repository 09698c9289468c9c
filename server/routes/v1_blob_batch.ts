/**
 * Small-blob batch upload, `POST /v1/blobs/batch`: many small blobs in one request in the
 * `application/vnd.putplace.blob-batch` framing. Each blob is verified against its digest;
 * the blobs are stored together (`storeBlobs`: on the fs store, one pack append and one
 * sync for the whole batch, group-committed with concurrent batches) instead of one fsync
 * round per tiny file. The answer comes only after every blob is durable, with one result
 * per blob.
 */
import { Hono } from "hono";
import { storeBlobs } from "../../lib/dedup.ts";
import type { PutManyResult } from "../../lib/blob_store/mod.ts";
import { AppError } from "../../lib/errors.ts";
import { BLOB_BATCH_CONTENT_TYPE, type Frame, readFrames } from "../../lib/wire/blob_batch.ts";
import type { BlobBatchOutcome, BlobBatchResult } from "../../lib/wire/v1.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import { limitedStream } from "../limited_body.ts";
import { requireDigestsOfHosts } from "../host_limits.ts";
import type { DocumentedRoutes } from "../openapi.ts";
import type { RouteDeps } from "./route_deps.ts";
import { v1BlobBatchOperations } from "./v1_blob_batch_openapi.ts";

export function v1BlobBatchRoutes({ stores, limits, guards }: RouteDeps): DocumentedRoutes {
  const routes = new Hono<AuthEnv>();

  routes.post("/v1/blobs/batch", guards.write, async (c) => {
    const contentType = c.req.header("content-type")?.split(";")[0].trim().toLowerCase();
    if (contentType !== BLOB_BATCH_CONTENT_TYPE) {
      throw new AppError(
        "invalid_input",
        `A blob batch is sent as "${BLOB_BATCH_CONTENT_TYPE}", not "${contentType ?? "(none)"}"`,
      );
    }
    const body = limitedStream(c.req.raw, limits.maxBlobBatchBytes);
    const results: BlobBatchResult[] = [];
    const blobs: Extract<Frame, { bytes: Uint8Array }>[] = [];
    for await (
      const frame of readFrames(body, {
        maxBlobBytes: limits.maxBlobBatchBlobBytes,
        maxCount: limits.maxBlobBatchCount,
      })
    ) {
      if ("tooLarge" in frame) {
        results[frame.index] = resultOf(frame, "too_large", {
          message: `Blob of ${frame.size} bytes is over the batch cap of ` +
            `${limits.maxBlobBatchBlobBytes} bytes; upload it alone`,
        });
      } else blobs.push(frame);
    }
    await requireDigestsOfHosts(stores, c.get("apiKey"), blobs.map((blob) => blob.digest));
    const stored = await storeBlobs(stores, blobs);
    blobs.forEach((frame, i) => {
      results[frame.index] = resultOfStore(frame, stored[i]);
    });
    const counts: Record<BlobBatchOutcome, number> = {
      stored: 0,
      already_stored: 0,
      digest_mismatch: 0,
      too_large: 0,
      failed: 0,
    };
    for (const result of results) counts[result.outcome]++;
    return c.json({ results, counts });
  });

  return { routes, features: ["blobs.batch"], operations: v1BlobBatchOperations(limits) };
}

function resultOfStore(frame: Frame, result: PutManyResult): BlobBatchResult {
  if (!("error" in result)) return resultOf(frame, result.created ? "stored" : "already_stored");
  const { error } = result;
  return resultOf(frame, error.code === "digest_mismatch" ? "digest_mismatch" : "failed", {
    message: error.message,
  });
}

function resultOf(
  frame: Frame,
  outcome: BlobBatchOutcome,
  extra: { message?: string } = {},
): BlobBatchResult {
  return { index: frame.index, digest: frame.digest, size: frame.size, outcome, ...extra };
}
