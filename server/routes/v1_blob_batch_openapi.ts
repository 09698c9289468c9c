/** The OpenAPI description of `POST /v1/blobs/batch` (route in v1_blob_batch.ts). */
import { BLOB_BATCH_CONTENT_TYPE } from "../../lib/wire/blob_batch.ts";
import { blobBatchResponseSchema } from "../../lib/wire/v1.ts";
import type { Limits } from "../limits.ts";
import { AUTH_PROBLEMS, type Operation, problems } from "../openapi.ts";

export function v1BlobBatchOperations(limits: Limits): Operation[] {
  return [{
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
  }];
}
