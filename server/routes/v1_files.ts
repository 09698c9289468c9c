/**
 * /v1 file routes: batch registration (`POST /v1/files/batch`, up to `maxBatchFiles`
 * files in one store transaction, answered per file) and the deletion report
 * (`POST /v1/files/deleted`, a soft delete that keeps the files as history).
 *
 * A batch is partial by design: items that fail validation are answered `invalid` with
 * their issues and the valid ones are registered. Only a bad envelope (422) or one over
 * a cap (413) fails the whole request.
 */
import { Hono } from "hono";
import { z } from "zod";
import { type FileMetadata, fileMetadataSchema } from "../../lib/models/file.ts";
import { registerFiles, type Stores } from "../../lib/dedup.ts";
import { apiKeyAuth, type AuthEnv } from "../middleware/api_key_auth.ts";
import { readJson } from "../json_body.ts";
import type { Limits } from "../limits.ts";
import { AUTH_PROBLEMS, type DocumentedRoutes, problems } from "../openapi.ts";
import { parseBatch, tooManyItems } from "./v1_batch_body.ts";
import { validationError } from "../problem_response.ts";

const digestText = z.string().regex(/^[0-9a-f]{64}$/);
const envelopeSchema = z.object({ files: z.array(z.unknown()) });
const issueSchema = z.object({ path: z.string(), message: z.string() });

export const fileBatchResultSchema = z.discriminatedUnion("outcome", [
  z.object({
    index: z.number().int().min(0),
    outcome: z.enum(["created", "updated", "unchanged"]),
    _id: z.string(),
    sha256: digestText,
    upload_required: z.boolean().meta({
      description: "True when the server does not hold this file's blob yet",
    }),
  }),
  z.object({
    index: z.number().int().min(0),
    outcome: z.literal("invalid"),
    message: z.string(),
    errors: z.array(issueSchema),
  }),
]);
export type FileBatchResult = z.infer<typeof fileBatchResultSchema>;

export const fileBatchResponseSchema = z.object({
  results: z.array(fileBatchResultSchema).meta({ description: "One result per file, in order" }),
  missing: z.array(digestText).meta({
    description: "Digests of the registered files whose blobs the server still needs, each once",
  }),
  counts: z.object({
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    invalid: z.number().int(),
  }),
});

export const deletionResponseSchema = z.object({
  deleted: z.number().int().meta({ description: "Files marked deleted by this report" }),
  skipped: z.number().int().meta({
    description: "Paths not marked: unknown, already deleted or repeated",
  }),
});

export function fileBatchRequestSchema(limits: Limits) {
  return z.object({ files: z.array(fileMetadataSchema).max(limits.maxBatchFiles) });
}

export function deletionRequestSchema(limits: Limits) {
  return z.object({
    hostname: fileMetadataSchema.shape.hostname,
    filepaths: z.array(fileMetadataSchema.shape.filepath).max(limits.maxBatchItems),
  });
}

export function v1FileRoutes(stores: Stores, limits: Limits): DocumentedRoutes {
  const batchSchema = fileBatchRequestSchema(limits);
  const deletionSchema = deletionRequestSchema(limits);
  const write = apiKeyAuth({ apiKeys: stores.metadata.apiKeys, scope: "write" });
  const routes = new Hono<AuthEnv>();

  routes.post("/v1/files/batch", write, async (c) => {
    const value = await readJson(c, z.unknown(), limits.maxBatchBytes, "file batch");
    const items = validateBatch(batchSchema, value);
    const valid = items.filter((item): item is { index: number; file: FileMetadata } =>
      "file" in item
    );
    const registrations = valid.length > 0
      ? await registerFiles(stores, valid.map((item) => item.file))
      : [];
    // A path listed twice ends with its last entry; only that one can still need bytes.
    const pathKey = (file: FileMetadata) => `${file.hostname}\0${file.filepath}`;
    const last = new Map(valid.map((item, i) => [pathKey(item.file), i]));
    const missing = new Set<string>();
    let next = 0;
    const results = items.map((item): FileBatchResult => {
      if (!("file" in item)) return item.result;
      const i = next++;
      const { file, outcome, uploadRequired } = registrations[i];
      const needed = uploadRequired && last.get(pathKey(file)) === i;
      if (needed) missing.add(file.sha256);
      return {
        index: item.index,
        outcome,
        _id: file.id,
        sha256: file.sha256,
        upload_required: needed,
      };
    });
    const counts = { created: 0, updated: 0, unchanged: 0, invalid: 0 };
    for (const result of results) counts[result.outcome]++;
    return c.json({ results, missing: [...missing], counts });
  });

  routes.post("/v1/files/deleted", write, async (c) => {
    const value = await readJson(c, z.unknown(), limits.maxBatchBytes, "deletion report");
    const { hostname, filepaths } = parseBatch(deletionSchema, value, "deletion report");
    const deleted = await stores.metadata.files.markDeleted(hostname, filepaths, new Date());
    return c.json({ deleted, skipped: filepaths.length - deleted });
  });

  return {
    routes,
    features: ["files.batch", "files.deleted"],
    operations: [
      {
        method: "post",
        path: "/v1/files/batch",
        operationId: "registerFileBatch",
        summary: "Register many files in one transaction",
        description:
          `Registers up to ${limits.maxBatchFiles} files (body up to ${limits.maxBatchBytes} ` +
          "bytes) in one store transaction. Each file is answered in order; files that fail " +
          "validation are answered `invalid` and the others are still registered. `missing` " +
          "lists the digests whose blobs the server still needs, each once.",
        scope: "write",
        requestBody: { content: { "application/json": batchSchema } },
        responses: {
          200: {
            description: "Per-file results",
            content: { "application/json": fileBatchResponseSchema },
          },
          ...problems({
            ...AUTH_PROBLEMS,
            413: "Body over the byte cap or more files than the cap",
            422: "Malformed JSON or an envelope that is not `{files: [...]}`",
          }),
        },
      },
      {
        method: "post",
        path: "/v1/files/deleted",
        operationId: "reportDeletedFiles",
        summary: "Report files gone from a host (soft delete)",
        description: `Marks up to ${limits.maxBatchItems} files of one host deleted. They stay ` +
          "on the server as history but are no longer listed; registering one again brings it back.",
        scope: "write",
        requestBody: { content: { "application/json": deletionSchema } },
        responses: {
          200: {
            description: "How many files were marked",
            content: { "application/json": deletionResponseSchema },
          },
          ...problems({
            ...AUTH_PROBLEMS,
            413: "Body over the byte cap or more paths than the cap",
            422: "Invalid report",
          }),
        },
      },
    ],
  };
}

type BatchItem =
  | { index: number; file: FileMetadata }
  | { index: number; result: Extract<FileBatchResult, { outcome: "invalid" }> };

/**
 * Validates a batch with the envelope schema; issues inside one item make only that
 * item invalid, any other issue fails the whole batch.
 */
function validateBatch(
  schema: ReturnType<typeof fileBatchRequestSchema>,
  value: unknown,
): BatchItem[] {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data.files.map((file, index) => ({ index, file }));
  const tooMany = tooManyItems(parsed.error, "file batch");
  if (tooMany) throw tooMany;
  const byItem = new Map<number, z.core.$ZodIssue[]>();
  for (const issue of parsed.error.issues) {
    const [top, index] = issue.path;
    if (top !== "files" || typeof index !== "number") {
      throw validationError(parsed.error, "file batch");
    }
    byItem.set(index, [...(byItem.get(index) ?? []), issue]);
  }
  // Only item issues: the envelope itself is sound.
  return envelopeSchema.parse(value).files.map((item, index): BatchItem => {
    const issues = byItem.get(index);
    if (!issues) return { index, file: fileMetadataSchema.parse(item) };
    const errors = issues.slice(0, 20).map((issue) => ({
      path: issue.path.slice(2).join("."),
      message: issue.message,
    }));
    const first = errors[0];
    return {
      index,
      result: {
        index,
        outcome: "invalid",
        message: `Invalid file${first.path ? ` at "${first.path}"` : ""}: ${first.message}`,
        errors,
      },
    };
  });
}
