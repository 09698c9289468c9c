/**
 * The /v1 API as a whole: its resources, `GET /v1` (capabilities, for client discovery:
 * a client falls back to the classic routes when this is 404) and `GET /v1/openapi.json`
 * (generated from the zod schemas the routes validate with). Both are open without a key:
 * they describe the server, nothing in it.
 */
import { answerMethodNotAllowed } from "../method_not_allowed.ts";
import { Hono } from "hono";
import { API_VERSION, type Capabilities } from "../../lib/wire/v1.ts";
import { BLOB_BATCH_CONTENT_TYPE } from "../../lib/wire/blob_batch.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import type { ResumableUploads } from "../resumable_uploads.ts";
import { type DocumentedRoutes, openApiDocument, type Operation } from "../openapi.ts";
import type { RouteDeps } from "./route_deps.ts";
import { v1ApiOperations } from "./v1_api_openapi.ts";
import { v1FileRoutes } from "./v1_files.ts";
import { v1BlobRoutes } from "./v1_blobs.ts";
import { v1BlobBatchRoutes } from "./v1_blob_batch.ts";
import { v1StatsRoutes } from "./v1_stats.ts";
import { v1AdminRoutes } from "./v1_admin.ts";
import { v1InventoryRoutes } from "./v1_inventory.ts";
import { v1CompleteScanRoutes } from "./v1_complete_scans.ts";
import { v1UploadRoutes } from "./v1_uploads.ts";
import { v1WhoamiRoutes } from "./v1_whoami.ts";

export interface V1Deps extends RouteDeps {
  version: string;
  /** Resumable uploads; without them the /v1/uploads routes are absent (and not announced). */
  uploads?: ResumableUploads;
}

export function v1Routes(deps: V1Deps): Hono<AuthEnv> {
  const { limits, uploads } = deps;
  const resources: DocumentedRoutes[] = [
    v1FileRoutes(deps),
    v1BlobRoutes(deps),
    v1BlobBatchRoutes(deps),
    ...(uploads ? [v1UploadRoutes(deps, uploads)] : []),
    v1StatsRoutes(deps),
    v1AdminRoutes(deps),
    v1WhoamiRoutes(deps),
    v1InventoryRoutes(deps),
    v1CompleteScanRoutes(deps),
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
    ...v1ApiOperations(),
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
          "batches, resumable uploads, ranged downloads, deletion reports, stats and the " +
          "inventory's read side (hosts, trees, search, duplicates, changes). Errors " +
          "are application/problem+json.",
      }),
    ));
  for (const resource of resources) app.route("/", resource.routes);
  answerMethodNotAllowed(app, operations);
  return app;
}
