/**
 * `POST /v1/hosts/{hostname}/complete-scan`: a client says a scan of this host ran to its
 * end (every root walked, its deletions reported). The read side shows it as the host's
 * last complete scan. Write scope: the scanning machine's key sends it.
 */
import { Hono } from "hono";
import { hostnameParam, parseQuery } from "../../lib/wire/queries.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import { AUTH_PROBLEMS, type DocumentedRoutes, problems } from "../openapi.ts";
import type { RouteDeps } from "./route_deps.ts";
import { requireHosts } from "../host_limits.ts";

export function v1CompleteScanRoutes({ stores, guards }: RouteDeps): DocumentedRoutes {
  const routes = new Hono<AuthEnv>();
  routes.post("/v1/hosts/:hostname/complete-scan", guards.write, async (c) => {
    const hostname = parseQuery(hostnameParam, c.req.param("hostname"));
    requireHosts(c.get("apiKey"), [hostname]);
    await stores.metadata.files.recordCompleteScan(hostname, new Date());
    return c.body(null, 204);
  });
  return {
    routes,
    features: ["hosts.complete_scan"],
    operations: [{
      method: "post",
      path: "/v1/hosts/{hostname}/complete-scan",
      operationId: "recordCompleteScan",
      summary: "Record that a scan of this host ran to its end",
      scope: "write",
      parameters: [{
        name: "hostname",
        in: "path",
        description: "The host that was scanned",
        schema: hostnameParam,
      }],
      responses: {
        204: { description: "Recorded" },
        ...problems({ 400: "Invalid host name", ...AUTH_PROBLEMS }),
      },
    }],
  };
}
