/**
 * The /v1 wire contract: every request and response body, header value and framing the
 * /v1 routes take and give. The server validates with these schemas, the client parses
 * the answers with them, and the OpenAPI document is generated from them
 * (`server/routes/*_openapi.ts`). Schemas bounded by a configurable cap are functions of
 * that cap.
 */
import { z } from "zod";
import { digestSchema } from "../digest.ts";
import { scopeSchema } from "../models/api_key.ts";
import { hostLimitsSchema } from "../models/host_pattern.ts";
import { auditActionSchema } from "../models/audit.ts";
import { fileMetadataSchema } from "../models/file.ts";

export const API_VERSION = 1;

const count = z.number().int().min(0);
const byteCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// ---- GET /v1 ----

export const capabilitiesSchema = z.object({
  api: z.literal("putplace"),
  api_version: z.literal(API_VERSION),
  server_version: z.string(),
  features: z.array(z.string()).meta({
    description: "What this server supports, e.g. files.batch, blobs.batch, uploads.resumable",
  }),
  limits: z.object({
    json_bytes: count,
    upload_bytes: count,
    batch_files: count,
    batch_items: count,
    batch_bytes: count,
    blob_batch_bytes: count,
    blob_batch_blob_bytes: count,
    blob_batch_count: count,
  }),
  upload_expiry_seconds: count.nullable(),
  blob_batch_content_type: z.string(),
  openapi: z.string(),
});
export type Capabilities = z.infer<typeof capabilitiesSchema>;

// ---- POST /v1/files/batch ----

export function fileBatchRequestSchema(maxFiles: number) {
  return z.object({ files: z.array(fileMetadataSchema).max(maxFiles) });
}

/** The envelope of a file batch before its items are validated one by one. */
export const fileBatchEnvelopeSchema = z.object({ files: z.array(z.unknown()) });

export const issueSchema = z.object({ path: z.string(), message: z.string() });

export const fileBatchResultSchema = z.discriminatedUnion("outcome", [
  z.object({
    index: count,
    outcome: z.enum(["created", "updated", "unchanged"]),
    _id: z.string(),
    sha256: digestSchema,
    upload_required: z.boolean().meta({
      description: "True when the server does not hold this file's blob yet",
    }),
  }),
  z.object({
    index: count,
    outcome: z.literal("invalid"),
    message: z.string(),
    errors: z.array(issueSchema),
  }),
]);
export type FileBatchResult = z.infer<typeof fileBatchResultSchema>;

export const fileBatchResponseSchema = z.object({
  results: z.array(fileBatchResultSchema).meta({ description: "One result per file, in order" }),
  missing: z.array(digestSchema).meta({
    description: "Digests of the registered files whose blobs the server still needs, each once",
  }),
  counts: z.object({
    created: count,
    updated: count,
    unchanged: count,
    invalid: count,
  }),
});
export type FileBatchResponse = z.infer<typeof fileBatchResponseSchema>;

// ---- POST /v1/files/deleted ----

export function deletionRequestSchema(maxItems: number) {
  return z.object({
    hostname: fileMetadataSchema.shape.hostname,
    filepaths: z.array(fileMetadataSchema.shape.filepath).max(maxItems),
  });
}

export const deletionResponseSchema = z.object({
  deleted: count.meta({ description: "Files marked deleted by this report" }),
  skipped: count.meta({ description: "Paths not marked: unknown, already deleted or repeated" }),
});
export type DeletionResponse = z.infer<typeof deletionResponseSchema>;

// ---- POST /v1/blobs/missing ----

export function missingRequestSchema(maxItems: number) {
  return z.object({
    blobs: z.array(z.object({ digest: digestSchema, size: byteCount })).max(maxItems),
  });
}

export const missingResponseSchema = z.object({
  missing: z.array(digestSchema).meta({
    description: "The digests asked about that the server does not hold, each once, in order",
  }),
});

// ---- PUT /v1/blobs/{digest} ----

export const blobPutResponseSchema = z.object({
  digest: digestSchema,
  size: byteCount,
  status: z.enum(["stored", "already_stored"]),
});
export type BlobPutResponse = z.infer<typeof blobPutResponseSchema>;

// ---- POST /v1/blobs/batch (the body's framing is in blob_batch.ts) ----

export const blobBatchOutcomeSchema = z.enum([
  "stored",
  "already_stored",
  "digest_mismatch",
  "too_large",
  "failed",
]);
export type BlobBatchOutcome = z.infer<typeof blobBatchOutcomeSchema>;

export const blobBatchResultSchema = z.object({
  index: count,
  digest: digestSchema,
  size: byteCount,
  outcome: blobBatchOutcomeSchema,
  message: z.string().optional().meta({ description: "Why the blob was not stored" }),
});
export type BlobBatchResult = z.infer<typeof blobBatchResultSchema>;

export const blobBatchResponseSchema = z.object({
  results: z.array(blobBatchResultSchema).meta({ description: "One result per blob, in order" }),
  counts: z.record(blobBatchOutcomeSchema, count),
});
export type BlobBatchResponse = z.infer<typeof blobBatchResponseSchema>;

// ---- /v1/uploads (resumable) ----

export const createUploadRequestSchema = z.object({ digest: digestSchema, size: byteCount });

/** `Upload-Offset` as a client sends it. */
export const uploadOffsetHeaderSchema = z.string().regex(/^\d{1,16}$/, {
  message: "Expected a non-negative integer",
}).transform(Number);

/** The URL path of a resumable upload. */
export const uploadLocationSchema = z.string().regex(/^\/v1\/uploads\/[^/?#]+$/).meta({
  description: "The upload's URL path",
});

export const uploadStatusSchema = z.object({
  id: z.string(),
  location: uploadLocationSchema,
  digest: digestSchema,
  size: byteCount,
  offset: byteCount.meta({ description: "Bytes durably received" }),
  created_at: z.string(),
  expires_at: z.string().meta({ description: "Removed then unless appended to before" }),
});
export type UploadStatusBody = z.infer<typeof uploadStatusSchema>;

export const uploadAlreadyStoredSchema = z.object({
  status: z.literal("already_stored"),
  digest: digestSchema,
  size: byteCount,
});

/** The answer to `POST /v1/uploads`: 200 already stored, or 201 with the new upload. */
export const createUploadResponseSchema = z.union([uploadAlreadyStoredSchema, uploadStatusSchema]);

export const appendResponseSchema = z.discriminatedUnion("complete", [
  uploadStatusSchema.extend({ complete: z.literal(false) }),
  z.object({
    complete: z.literal(true),
    digest: digestSchema,
    size: byteCount,
    offset: byteCount,
    status: z.enum(["stored", "already_stored"]),
  }),
]);
export type AppendResponse = z.infer<typeof appendResponseSchema>;

// ---- GET /v1/stats ----

export const statsResponseSchema = z.object({
  files: count.meta({ description: "Live (not deleted) files" }),
  distinct_digests: count.meta({ description: "Distinct digests among the live files" }),
  stored_blobs: count.meta({ description: "Blobs the server holds" }),
  stored_bytes: count.meta({ description: "Bytes of the blobs the server holds" }),
  logical_bytes: count.meta({ description: "Sum of the live files' sizes" }),
  dedup_saved_bytes: count.meta({
    description: "Logical bytes minus the bytes of each distinct digest counted once",
  }),
});
export type StatsResponse = z.infer<typeof statsResponseSchema>;

// ---- GET /v1/whoami ----

export const whoamiResponseSchema = z.object({
  id: z.string(),
  name: z.string(),
  scope: scopeSchema,
  hosts: hostLimitsSchema.default(null).meta({
    description: "The hosts this key may write; null: any",
  }),
});
export type WhoamiResponse = z.infer<typeof whoamiResponseSchema>;

// ---- admin removal: DELETE /v1/hosts/{hostname}, DELETE /v1/blobs/{digest}, GET /v1/audit ----

export const auditRecordSchema = z.object({
  id: z.string(),
  at: z.string(),
  action: auditActionSchema,
  subject: z.string().meta({ description: "The host removed or the digest purged" }),
  key_id: z.string(),
  key_name: z.string(),
  files_removed: count,
  detail: z.string(),
});

export const auditQuerySchema = z.object({
  limit: z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.number().int().min(1).max(1000))
    .optional().transform((limit) => limit ?? 100),
});

export const auditListResponseSchema = z.object({
  records: z.array(auditRecordSchema).meta({ description: "Newest first" }),
});
