/** The OpenAPI description of `GET /v1/stats` (routes in v1_stats.ts). */
import { statsResponseSchema } from "../../lib/wire/v1.ts";
import { AUTH_PROBLEMS, type Operation, problems } from "../openapi.ts";

export function v1StatsOperations(): Operation[] {
  return [{
    method: "get",
    path: "/v1/stats",
    operationId: "getStats",
    summary: "Files, blobs, logical and stored bytes, bytes saved by dedup",
    scope: "read",
    responses: {
      200: { description: "Totals", content: { "application/json": statsResponseSchema } },
      ...problems(AUTH_PROBLEMS),
    },
  }];
}
