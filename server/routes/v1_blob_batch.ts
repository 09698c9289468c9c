/**
 * Small-blob batch upload, `POST /v1/blobs/batch`: many small blobs in one request in the
 * `application/vnd.putplace.blob-batch` framing. Each blob is verified against its digest
 * and stored through the blob store; the stores run concurrently so their fsyncs are
 * committed together by the filesystem journal (group commit) instead of one sequential
 * fsync round per tiny file. The answer comes only after every blob is durable, with one
 * result per blob.
 */
import { Hono } from "hono";
import { z } from "zod";
import { storeBlobByDigest, type Stores } from "../../lib/dedup.ts";
import { AppError, isAppError } from "../../lib/errors.ts";
import { apiKeyAuth, type AuthEnv } from "../middleware/api_key_auth.ts";
import { limitedStream } from "../limited_body.ts";
import type { Limits } from "../limits.ts";
import { BLOB_BATCH_CONTENT_TYPE, type Frame, readFrames } from "../blob_batch_framing.ts";
import { AUTH_PROBLEMS, type DocumentedRoutes, problems } from "../openapi.ts";

/** Blob stores in flight at once within one batch. */
const CONCURRENT_STORES = 64;

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
    const inFlight = new Set<Promise<void>>();
    try {
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
          continue;
        }
        if (inFlight.size >= CONCURRENT_STORES) await Promise.race(inFlight);
        const task = store(stores, frame).then((result) => {
          results[frame.index] = result;
        });
        inFlight.add(task);
        task.finally(() => inFlight.delete(task));
      }
    } finally {
      // Never answer (or fail) while stores are still writing.
      await Promise.all(inFlight);
    }
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
        "request (blobs already stored stay stored).",
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

async function store(
  stores: Stores,
  frame: Extract<Frame, { bytes: Uint8Array }>,
): Promise<BlobBatchResult> {
  try {
    const { created } = await storeBlobByDigest(stores, frame.digest, streamOf(frame.bytes), {
      size: frame.size,
    });
    return resultOf(frame, created ? "stored" : "already_stored");
  } catch (error) {
    if (isAppError(error) && error.code === "digest_mismatch") {
      return resultOf(frame, "digest_mismatch", { message: error.message });
    }
    // AppError messages never carry internals; anything else is reported generically.
    const message = isAppError(error) && error.code !== "internal"
      ? error.message
      : "Internal error: the blob could not be stored";
    return resultOf(frame, "failed", { message });
  }
}

function resultOf(
  frame: Frame,
  outcome: Outcome,
  extra: { message?: string } = {},
): BlobBatchResult {
  return { index: frame.index, digest: frame.digest, size: frame.size, outcome, ...extra };
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}
