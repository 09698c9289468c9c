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
import { registerFiles, reportDeleted } from "../../lib/dedup.ts";
import {
  deletionRequestSchema,
  fileBatchEnvelopeSchema,
  fileBatchRequestSchema,
  type FileBatchResult,
} from "../../lib/wire/v1.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import { readJson } from "../json_body.ts";
import { requireHosts } from "../host_limits.ts";
import type { DocumentedRoutes } from "../openapi.ts";
import { parseBatch, tooManyItems } from "./v1_batch_body.ts";
import { validationError } from "../problem_response.ts";
import type { RouteDeps } from "./route_deps.ts";
import { v1FileOperations } from "./v1_files_openapi.ts";

export function v1FileRoutes({ stores, limits, guards }: RouteDeps): DocumentedRoutes {
  const batchSchema = fileBatchRequestSchema(limits.maxBatchFiles);
  const deletionSchema = deletionRequestSchema(limits.maxBatchItems);
  const routes = new Hono<AuthEnv>();

  routes.post("/v1/files/batch", guards.write, async (c) => {
    const value = await readJson(c, z.unknown(), limits.maxBatchBytes, "file batch");
    const items = validateBatch(batchSchema, value);
    const valid = items.filter((item): item is { index: number; file: FileMetadata } =>
      "file" in item
    );
    requireHosts(c.get("apiKey"), valid.map((item) => item.file.hostname));
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

  routes.post("/v1/files/deleted", guards.write, async (c) => {
    const value = await readJson(c, z.unknown(), limits.maxBatchBytes, "deletion report");
    const { hostname, filepaths } = parseBatch(deletionSchema, value, "deletion report");
    requireHosts(c.get("apiKey"), [hostname]);
    const deleted = await reportDeleted(stores, hostname, filepaths);
    return c.json({ deleted, skipped: filepaths.length - deleted });
  });

  return {
    routes,
    features: ["files.batch", "files.deleted"],
    operations: v1FileOperations(limits),
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
  return fileBatchEnvelopeSchema.parse(value).files.map((item, index): BatchItem => {
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
