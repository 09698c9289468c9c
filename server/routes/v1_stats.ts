/** `GET /v1/stats`: what the fleet holds and how much dedup saves. */
import { Hono } from "hono";
import { dedupStats } from "../../lib/dedup.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import type { DocumentedRoutes } from "../openapi.ts";
import type { RouteDeps } from "./route_deps.ts";
import { v1StatsOperations } from "./v1_stats_openapi.ts";

export function v1StatsRoutes({ stores, guards }: RouteDeps): DocumentedRoutes {
  const routes = new Hono<AuthEnv>();
  routes.get("/v1/stats", guards.read, async (c) => c.json(await dedupStats(stores)));
  return { routes, features: ["stats"], operations: v1StatsOperations() };
}
