/**
 * Small-blob batch upload, `POST /v1/blobs/batch`: many small blobs in one request in the
 * `application/vnd.putplace.blob-batch` framing. Each blob is verified against its digest;
 * the blobs are stored together (`storeBlobs`: on the fs store, one pack append and one
 * sync for the whole batch, group-committed with concurrent batches) instead of one fsync
 * round per tiny file. The answer comes only after every blob is durable, with one result
 * per blob.
 */
import { Hono } from "hono";
import { z } from "zod";
import { storeBlobs, type Stores } from "../../lib/dedup.ts";
import type { PutManyResult } from "../../lib/blob_store/mod.ts";
import { AppError } from "../../lib/errors.ts";
import { apiKeyAuth, type AuthEnv } from "../middleware/api_key_auth.ts";
import { limitedStream } from "../limited_body.ts";
import type { Limits } from "../limits.ts";
import { BLOB_BATCH_CONTENT_TYPE, type Frame, readFrames } from "../blob_batch_framing.ts";
import { AUTH_PROBLEMS, type DocumentedRoutes, problems } from "../openapi.ts";

export const blobBatchOutcomes = [
  "stored",
  "already_stored",
  "digest_mismatch",
  "too_large",
  "failed",
] as const;
type Outcome = typeof blobBatchOutcomes[number];

export const blobBatchResultSchema = z.object({
  index: z.number().int().min(0),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().min(0),
  outcome: z.enum(blobBatchOutcomes),
  message: z.string().optional().meta({ description: "Why the blob was not stored" }),
});
type BlobBatchResult = z.infer<typeof blobBatchResultSchema>;

export const blobBatchResponseSchema = z.object({
  results: z.array(blobBatchResultSchema).meta({ description: "One result per blob, in order" }),
  counts: z.record(z.enum(blobBatchOutcomes), z.number().int()),
});

export function v1BlobBatchRoutes(stores: Stores, limits: Limits): DocumentedRoutes {
  const write = apiKeyAuth({ apiKeys: stores.metadata.apiKeys, scope: "write" });
  const routes = new Hono<AuthEnv>();

  routes.post("/v1/blobs/batch", write, async (c) => {
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
    const stored = await storeBlobs(stores, blobs);
    blobs.forEach((frame, i) => {
      results[frame.index] = resultOfStore(frame, stored[i]);
    });
    const counts: Record<Outcome, number> = {
      stored: 0,
      already_stored: 0,
      digest_mismatch: 0,
      too_large: 0,
      failed: 0,
    };
    for (const result of results) counts[result.outcome]++;
    return c.json({ results, counts });
  });

  return {
    routes,
    features: ["blobs.batch"],
    operations: [{
      method: "post",
      path: "/v1/blobs/batch",
      operationId: "uploadBlobBatch",
      summary: "Upload many small blobs in one request (group commit)",
      description: `Body: for each blob a header line \`<digest> <size>\\n\` then exactly size ` +
        `bytes. At most ${limits.maxBlobBatchCount} blobs of at most ` +
        `${limits.maxBlobBatchBlobBytes} bytes each, ${limits.maxBlobBatchBytes} bytes in all. ` +
        "Every blob is verified against its digest; all are durable before the answer. A " +
        "blob over the per-blob cap is skipped (`too_large`); broken framing fails the " +
        "request and stores none of its blobs.",
      scope: "write",
      requestBody: {
        content: {
          [BLOB_BATCH_CONTENT_TYPE]: { binary: "Frames: `<digest> <size>\\n` then the bytes" },
        },
      },
      responses: {
        200: {
          description: "Per-blob results",
          content: { "application/json": blobBatchResponseSchema },
        },
        ...problems({
          400: "Wrong content type, broken framing or a body that ended early",
          ...AUTH_PROBLEMS,
          413: "Body over the request cap or more blobs than the count cap",
        }),
      },
    }],
  };
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
  outcome: Outcome,
  extra: { message?: string } = {},
): BlobBatchResult {
  return { index: frame.index, digest: frame.digest, size: frame.size, outcome, ...extra };
}
