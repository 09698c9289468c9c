/**
 * The wire contract of the read side (`GET /v1/hosts`, `/v1/search`, `/v1/duplicates`, ...):
 * the query parameters each query accepts, validated here for the server routes and the web
 * UI alike, and the JSON they answer. The OpenAPI document is generated from these schemas.
 *
 * Query parameters arrive as strings (`queryInput` turns a URL's parameters into the object
 * these schemas parse); unknown parameters are refused, so a misspelt filter is a 400, never
 * silently ignored. Times are ISO 8601 (a date alone means its midnight UTC); `mtime_*` are
 * Unix seconds like `file_mtime`; sizes are bytes.
 */
import { z } from "zod";
import { AppError } from "../errors.ts";
import { fileMetadataSchema } from "../models/file.ts";
import { digestSchema } from "../digest.ts";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../metadata_store/inventory.ts";

export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE };

const noNul = (value: string) => !value.includes("\0");

export const hostnameParam = fileMetadataSchema.shape.hostname;

export const pathParam = z.string().min(1).max(4096).refine(noNul, {
  message: "Must not contain NUL characters",
});

const size = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const seconds = z.coerce.number().finite();

/** An ISO 8601 time with an offset, or a date (midnight UTC); normalized to `toISOString()`. */
export const timeParam = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).transform(
  (value) => new Date(value.length === 10 ? `${value}T00:00:00Z` : value).toISOString(),
);

const page = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).meta({
    description: `Items per page, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`,
  }),
  cursor: z.string().min(1).max(8192).optional().meta({
    description: "The next_cursor of the previous page (opaque)",
  }),
};

export const hostsQuerySchema = z.strictObject({ ...page });

export const treeQuerySchema = z.strictObject({
  path: pathParam.default("/").meta({ description: 'Directory ("/" for the root)' }),
  ...page,
});

export const fileQuerySchema = z.strictObject({
  path: pathParam.meta({ description: "Path of the file" }),
});

export const searchQuerySchema = z.strictObject({
  q: z.string().min(1).max(1024).refine(noNul).optional().meta({
    description: "Part of the path (case-sensitive)",
  }),
  glob: z.string().min(1).max(1024).optional().meta({
    description: '`*`, `?`, `**`, `[...]`; without "/" it matches the file name',
  }),
  host: hostnameParam.optional(),
  path_prefix: pathParam.optional().meta({ description: "Only files under this directory" }),
  digest: digestSchema.optional(),
  min_size: size.optional(),
  max_size: size.optional(),
  mtime_from: seconds.optional().meta({ description: "Unix seconds, inclusive" }),
  mtime_to: seconds.optional().meta({ description: "Unix seconds, exclusive" }),
  reported_since: timeParam.optional().meta({
    description: "Files registered or changed at or after this time",
  }),
  ...page,
}).refine((q) => q.min_size === undefined || q.max_size === undefined || q.min_size <= q.max_size, {
  path: ["max_size"],
  message: "Must not be less than min_size",
}).refine(
  (q) => q.mtime_from === undefined || q.mtime_to === undefined || q.mtime_from <= q.mtime_to,
  { path: ["mtime_to"], message: "Must not be before mtime_from" },
);

export const locationsQuerySchema = z.strictObject({ ...page });

export const DUPLICATE_FORMATS = ["json", "jsonl", "csv"] as const;

export const duplicatesQuerySchema = z.strictObject({
  host: z.array(hostnameParam).max(100).optional().meta({
    description: "Count only locations on these hosts (repeat the parameter)",
  }),
  path_prefix: pathParam.optional(),
  min_size: size.default(1).meta({ description: "Smallest file size (default 1: no empty files)" }),
  format: z.enum(DUPLICATE_FORMATS).optional().meta({
    description: "json (default), jsonl (one group per line) or csv; or ask with Accept",
  }),
  ...page,
});

export const changesQuerySchema = z.strictObject({
  host: hostnameParam.optional(),
  since: timeParam,
  until: timeParam.optional().meta({ description: "Exclusive; default: no end" }),
  ...page,
}).refine((q) => q.until === undefined || q.since <= q.until, {
  path: ["until"],
  message: "Must not be before since",
});

export const atRiskQuerySchema = z.strictObject({ host: hostnameParam.optional(), ...page });

export const singleHostQuerySchema = z.strictObject({
  host: hostnameParam.optional(),
  min_size: size.default(1),
  ...page,
});

export const statsQuerySchema = z.strictObject({ host: hostnameParam.optional() });

export const snapshotQuerySchema = z.strictObject({
  path: pathParam.default("/").meta({ description: "A file or a directory" }),
  at: timeParam.optional().meta({ description: "The time to look at (default now)" }),
  ...page,
});

export type HostsQuery = z.output<typeof hostsQuerySchema>;
export type TreeQuery = z.output<typeof treeQuerySchema>;
export type FileQuery = z.output<typeof fileQuerySchema>;
export type SearchQuery = z.output<typeof searchQuerySchema>;
export type LocationsQuery = z.output<typeof locationsQuerySchema>;
export type DuplicatesQuery = z.output<typeof duplicatesQuerySchema>;
export type ChangesQuery = z.output<typeof changesQuerySchema>;
export type AtRiskQuery = z.output<typeof atRiskQuerySchema>;
export type SingleHostQuery = z.output<typeof singleHostQuerySchema>;
export type StatsQuery = z.output<typeof statsQuerySchema>;
export type SnapshotQuery = z.output<typeof snapshotQuerySchema>;

/** Parameters that may be given several times (they always parse as arrays). */
const REPEATABLE = new Set(["host"]);

/**
 * A URL's query parameters as the object the schemas parse: a parameter given once is a
 * string, one given several times an array (refused unless the schema takes an array).
 */
export function queryInput(
  params: URLSearchParams,
  repeatable: ReadonlySet<string> = new Set(),
): Record<string, string | string[]> {
  const input: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    input[key] = repeatable.has(key) || values.length > 1 ? values : values[0];
  }
  return input;
}

/** Parses query input; a bad parameter is `invalid_input` (400) naming it. */
export function parseQuery<T extends z.ZodType>(
  schema: T,
  input: unknown,
): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = issue?.path.join(".") ?? "";
  const detail = issue?.code === "unrecognized_keys"
    ? `unknown parameter${issue.keys.length > 1 ? "s" : ""} ${
      issue.keys.map((k) => `"${k}"`).join(", ")
    }`
    : `"${name}": ${issue?.message ?? "invalid"}`;
  throw new AppError("invalid_input", `Invalid query parameter ${detail}`, { cause: parsed.error });
}

/** The query of the duplicates route: `host` may repeat. */
export function duplicatesInput(params: URLSearchParams): Record<string, string | string[]> {
  return queryInput(params, REPEATABLE);
}

// ---- answers ----

const count = z.number().int().min(0);
const time = z.string().meta({ description: "ISO 8601" });

export const fileRecordSchema = z.object({
  id: z.string(),
  hostname: z.string(),
  filepath: z.string(),
  ip_address: z.string(),
  sha256: digestSchema,
  file_size: count,
  file_mode: count,
  file_uid: count,
  file_gid: count,
  file_mtime: z.number(),
  file_atime: z.number(),
  file_ctime: z.number(),
  created_at: time,
  updated_at: time,
});

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    next_cursor: z.string().nullable().meta({ description: "Null on the last page" }),
  });
}

export const hostSummarySchema = z.object({
  hostname: z.string(),
  files: count,
  logical_bytes: count,
  distinct_digests: count,
  exclusive_bytes: count.meta({ description: "Bytes of the contents no other host holds" }),
  first_report_at: time,
  last_report_at: time,
  last_complete_scan_at: time.nullable(),
});

export const treeEntrySchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("directory"),
    name: z.string(),
    path: z.string(),
    files: count,
    bytes: count,
  }),
  z.object({ kind: z.literal("file"), name: z.string(), file: fileRecordSchema }),
]);

export const historyEntrySchema = z.object({
  sha256: digestSchema,
  file_size: count,
  file_mtime: z.number(),
  replaced_at: time,
});

export const fileDetailSchema = z.object({
  file: fileRecordSchema,
  deleted_at: time.nullable(),
  history: z.array(historyEntrySchema.extend({
    file_mode: count.nullable().meta({ description: "Null when recorded before modes were" }),
  })).meta({ description: "Earlier digests, newest first" }),
  absences: z.array(z.object({ deleted_at: time, restored_at: time })).meta({
    description: "Deletions that were undone (the file registered again), newest first",
  }),
});

export const duplicateGroupSchema = z.object({
  sha256: digestSchema,
  file_size: count,
  count: count,
  hosts: count,
  reclaimable_bytes: count,
});

export const duplicateTotalsSchema = z.object({
  groups: count,
  files: count,
  reclaimable_bytes: count,
});

export const duplicatesPageSchema = pageSchema(duplicateGroupSchema).extend({
  totals: duplicateTotalsSchema,
});

export const changeSchema = z.object({
  at: time,
  kind: z.enum(["added", "modified", "deleted"]),
  hostname: z.string(),
  filepath: z.string(),
  sha256: digestSchema,
  file_size: count,
  previous_sha256: digestSchema.nullable(),
});

export const singleHostContentSchema = z.object({
  sha256: digestSchema,
  file_size: count,
  hostname: z.string(),
  count: count,
  stored: z.boolean(),
});

export const inventoryStatsSchema = z.object({
  hostname: z.string().nullable(),
  hosts: count,
  files: count,
  distinct_digests: count,
  logical_bytes: count,
  unique_bytes: count,
  dedup_saved_bytes: count,
  stored_digests: count,
  stored_bytes: count,
  at_risk_files: count,
  at_risk_bytes: count,
});

export const snapshotFileSchema = z.object({
  filepath: z.string(),
  sha256: digestSchema,
  file_size: count,
  file_mode: count,
  file_mtime: z.number(),
  stored: z.boolean(),
});
