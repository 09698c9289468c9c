/** `GET /v1/stats`: what the fleet holds and how much dedup saves. */
import { Hono } from "hono";
import { dedupStats } from "../../lib/dedup.ts";
import { exactJson } from "../../lib/wire/exact_json.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import type { DocumentedRoutes } from "../openapi.ts";
import type { RouteDeps } from "./route_deps.ts";
import { v1StatsOperations } from "./v1_stats_openapi.ts";

export function v1StatsRoutes({ stores, guards }: RouteDeps): DocumentedRoutes {
  const routes = new Hono<AuthEnv>();
  // Byte sums are bigints, exact past 2^53 (8 PiB): c.json() cannot write them.
  routes.get(
    "/v1/stats",
    guards.read,
    async (c) =>
      c.body(exactJson(await dedupStats(stores)), 200, { "content-type": "application/json" }),
  );
  return { routes, features: ["stats"], operations: v1StatsOperations() };
}
