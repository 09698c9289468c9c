/** `GET /v1/stats`: what the fleet holds and how much dedup saves. */
import { Hono } from "hono";
import { z } from "zod";
import { dedupStats, type Stores } from "../../lib/dedup.ts";
import { apiKeyAuth, type AuthEnv } from "../middleware/api_key_auth.ts";
import { AUTH_PROBLEMS, type DocumentedRoutes, problems } from "../openapi.ts";

const count = z.number().int().min(0);

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

export function v1StatsRoutes(stores: Stores): DocumentedRoutes {
  const read = apiKeyAuth({ apiKeys: stores.metadata.apiKeys, scope: "read" });
  const routes = new Hono<AuthEnv>();
  routes.get("/v1/stats", read, async (c) => c.json(await dedupStats(stores)));
  return {
    routes,
    features: ["stats"],
    operations: [{
      method: "get",
      path: "/v1/stats",
      operationId: "getStats",
      summary: "Files, blobs, logical and stored bytes, bytes saved by dedup",
      scope: "read",
      responses: {
        200: { description: "Totals", content: { "application/json": statsResponseSchema } },
        ...problems(AUTH_PROBLEMS),
      },
    }],
  };
}
