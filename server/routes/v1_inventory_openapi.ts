/** The OpenAPI description of the /v1 read routes (routes in v1_inventory.ts). */
import type { z } from "zod";
import { digestSchema } from "../../lib/digest.ts";
import {
  atRiskQuerySchema,
  changeSchema,
  changesQuerySchema,
  duplicateGroupSchema,
  duplicatesPageSchema,
  duplicatesQuerySchema,
  fileDetailSchema,
  fileQuerySchema,
  fileRecordSchema,
  hostnameParam,
  hostsQuerySchema,
  hostSummarySchema,
  inventoryStatsSchema,
  locationsQuerySchema,
  pageSchema,
  searchQuerySchema,
  singleHostContentSchema,
  singleHostQuerySchema,
  snapshotFileSchema,
  snapshotQuerySchema,
  statsQuerySchema,
  treeEntrySchema,
  treeQuerySchema,
} from "../../lib/wire/queries.ts";
import { AUTH_PROBLEMS, type Operation, type Parameter, problems } from "../openapi.ts";

export const JSONL = "application/jsonl";
export const CSV_COLUMNS = ["sha256", "file_size", "count", "hosts", "reclaimable_bytes"] as const;

const BAD_QUERY = { 400: "A query parameter is invalid (the problem names it)" };

const hostParam: Parameter = {
  name: "hostname",
  in: "path",
  description: "The host",
  schema: hostnameParam,
};

/** The query parameters of an object schema, one Parameter each. */
function queryParameters(schema: z.ZodObject): Parameter[] {
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: "query" as const,
    required: !field.safeParse(undefined).success,
    description: String(field.meta()?.description ?? name),
    schema: field,
  }));
}

function ok(description: string, schema: z.ZodType) {
  return { 200: { description, content: { "application/json": schema } } };
}

function get(
  path: string,
  operationId: string,
  summary: string,
  schema: z.ZodObject,
  answer: z.ZodType,
  extra: Partial<Operation> = {},
): Operation {
  return {
    method: "get",
    path,
    operationId,
    summary,
    scope: "read",
    description: "Keys of scope read or admin; a write-only key gets 403.",
    parameters: [...(path.includes("{hostname}") ? [hostParam] : []), ...queryParameters(schema)],
    responses: {
      ...ok(summary, answer),
      ...problems({ ...BAD_QUERY, ...AUTH_PROBLEMS }),
    },
    ...extra,
  };
}

export function v1InventoryOperations(): Operation[] {
  return OPERATIONS;
}

const OPERATIONS: Operation[] = [
  get(
    "/v1/hosts",
    "listHosts",
    "Hosts with their files, bytes and report times",
    hostsQuerySchema,
    pageSchema(hostSummarySchema),
  ),
  get(
    "/v1/hosts/{hostname}/tree",
    "listTree",
    "The children of a directory: sub-directories with totals, then files",
    treeQuerySchema,
    pageSchema(treeEntrySchema),
  ),
  {
    ...get(
      "/v1/hosts/{hostname}/file",
      "getFileHistory",
      "One file (deleted too) with its history",
      fileQuerySchema,
      fileDetailSchema,
    ),
    responses: {
      ...ok("The file", fileDetailSchema),
      ...problems({ ...BAD_QUERY, ...AUTH_PROBLEMS, 404: "No such file on that host" }),
    },
  },
  get(
    "/v1/hosts/{hostname}/snapshot",
    "getSnapshot",
    "The files under a path as they were at a time (for restore)",
    snapshotQuerySchema,
    pageSchema(snapshotFileSchema),
  ),
  get(
    "/v1/search",
    "searchFiles",
    "Live files by path substring or glob, host, digest, size, mtime, report time",
    searchQuerySchema,
    pageSchema(fileRecordSchema),
  ),
  get(
    "/v1/locations/{digest}",
    "listLocations",
    "Every live file with this digest, the epoch file first",
    locationsQuerySchema,
    pageSchema(fileRecordSchema),
    {
      parameters: [
        { name: "digest", in: "path", description: "The digest", schema: digestSchema },
        ...queryParameters(locationsQuerySchema),
      ],
    },
  ),
  {
    ...get(
      "/v1/duplicates",
      "listDuplicates",
      "Duplicate groups by reclaimable bytes, with totals",
      duplicatesQuerySchema,
      duplicatesPageSchema,
    ),
    responses: {
      200: {
        description: "A page with totals (json), or every group from the cursor on (jsonl, csv)",
        content: {
          "application/json": duplicatesPageSchema,
          [JSONL]: duplicateGroupSchema,
          "text/csv": { binary: `Header ${CSV_COLUMNS.join(",")}, one group per line` },
        },
      },
      ...problems({ ...BAD_QUERY, ...AUTH_PROBLEMS }),
    },
  },
  get(
    "/v1/changes",
    "listChanges",
    "Files added, modified and deleted in a time window",
    changesQuerySchema,
    pageSchema(changeSchema),
  ),
  get(
    "/v1/protection/at-risk",
    "listAtRisk",
    "Live files whose blob the server does not hold",
    atRiskQuerySchema,
    pageSchema(fileRecordSchema),
  ),
  get(
    "/v1/protection/single-host",
    "listSingleHost",
    "Contents that live on exactly one host, largest first",
    singleHostQuerySchema,
    pageSchema(singleHostContentSchema),
  ),
  get(
    "/v1/inventory/stats",
    "getInventoryStats",
    "Files, logical, unique and stored bytes, savings and risk, per host or fleet",
    statsQuerySchema,
    inventoryStatsSchema,
  ),
];
