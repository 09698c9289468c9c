/**
 * The /v1 API as a whole: its resources, `GET /v1` (capabilities, for client discovery:
 * a client falls back to the classic routes when this is 404) and `GET /v1/openapi.json`
 * (generated from the zod schemas the routes validate with). Both are open without a key:
 * they describe the server, nothing in it.
 */
import { answerMethodNotAllowed } from "../method_not_allowed.ts";
import { Hono } from "hono";
import { z } from "zod";
import type { Stores } from "../../lib/dedup.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import type { Limits } from "../limits.ts";
import type { ResumableUploads } from "../resumable_uploads.ts";
import { BLOB_BATCH_CONTENT_TYPE } from "../blob_batch_framing.ts";
import { type DocumentedRoutes, openApiDocument, type Operation } from "../openapi.ts";
import { v1FileRoutes } from "./v1_files.ts";
import { v1BlobRoutes } from "./v1_blobs.ts";
import { v1BlobBatchRoutes } from "./v1_blob_batch.ts";
import { v1StatsRoutes } from "./v1_stats.ts";
import { v1UploadRoutes } from "./v1_uploads.ts";

export const API_VERSION = 1;

export interface V1Deps {
  stores: Stores;
  limits: Limits;
  version: string;
  /** Resumable uploads; without them the /v1/uploads routes are absent (and not announced). */
  uploads?: ResumableUploads;
}

const count = z.number().int().min(0);

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

export function v1Routes(deps: V1Deps): Hono<AuthEnv> {
  const { stores, limits, uploads } = deps;
  const resources: DocumentedRoutes[] = [
    v1FileRoutes(stores, limits),
    v1BlobRoutes(stores, limits),
    v1BlobBatchRoutes(stores, limits),
    ...(uploads ? [v1UploadRoutes(stores, limits, uploads)] : []),
    v1StatsRoutes(stores),
  ];
  const capabilities: Capabilities = {
    api: "putplace",
    api_version: API_VERSION,
    server_version: deps.version,
    features: resources.flatMap((r) => r.features),
    limits: {
      json_bytes: limits.maxJsonBytes,
      upload_bytes: limits.maxUploadBytes,
      batch_files: limits.maxBatchFiles,
      batch_items: limits.maxBatchItems,
      batch_bytes: limits.maxBatchBytes,
      blob_batch_bytes: limits.maxBlobBatchBytes,
      blob_batch_blob_bytes: limits.maxBlobBatchBlobBytes,
      blob_batch_count: limits.maxBlobBatchCount,
    },
    upload_expiry_seconds: uploads?.expirySeconds ?? null,
    blob_batch_content_type: BLOB_BATCH_CONTENT_TYPE,
    openapi: "/v1/openapi.json",
  };
  const operations: Operation[] = [
    {
      method: "get",
      path: "/v1",
      operationId: "getCapabilities",
      summary: "What this server supports: API version, features, limits",
      description: "A client that gets 404 here falls back to the classic routes.",
      scope: null,
      responses: {
        200: { description: "Capabilities", content: { "application/json": capabilitiesSchema } },
      },
    },
    {
      method: "get",
      path: "/v1/openapi.json",
      operationId: "getOpenApi",
      summary: "This description",
      scope: null,
      responses: {
        200: {
          description: "OpenAPI 3.1 document",
          content: { "application/json": z.record(z.string(), z.unknown()) },
        },
      },
    },
    ...resources.flatMap((r) => r.operations),
  ];
  let document: Record<string, unknown> | undefined;

  const app = new Hono<AuthEnv>();
  app.get("/v1", (c) => c.json(capabilities));
  app.get("/v1/openapi.json", (c) =>
    c.json(
      document ??= openApiDocument(operations, {
        version: deps.version,
        description: "PutPlace /v1 API: batch registration, missing-blob queries, small-blob " +
          "batches, resumable uploads, ranged downloads, deletion reports and stats. Errors " +
          "are application/problem+json.",
      }),
    ));
  for (const resource of resources) app.route("/", resource.routes);
  answerMethodNotAllowed(app, operations);
  return app;
}
