/**
 * Admin removal (admin keys only), each answered with the audit record it wrote:
 * `DELETE /v1/hosts/{hostname}` removes a decommissioned host's records,
 * `DELETE /v1/blobs/{digest}` purges a content (its blob and every record of it, e.g. a
 * leaked secret), `GET /v1/audit` lists the audit records, newest first.
 */
import { Hono } from "hono";
import { auditRecords, purgeBlob, removeHost } from "../../lib/dedup.ts";
import { parseDigest } from "../../lib/digest.ts";
import { auditQuerySchema } from "../../lib/wire/v1.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import type { DocumentedRoutes } from "../openapi.ts";
import { validationError } from "../problem_response.ts";
import type { RouteDeps } from "./route_deps.ts";
import { v1AdminOperations } from "./v1_admin_openapi.ts";
import { fileMetadataSchema } from "../../lib/models/file.ts";

export function v1AdminRoutes({ stores, guards }: RouteDeps): DocumentedRoutes {
  const routes = new Hono<AuthEnv>();
  const actor = (key: { id: string; name: string }) => ({ id: key.id, name: key.name });

  routes.delete("/v1/hosts/:hostname", guards.admin, async (c) => {
    const hostname = fileMetadataSchema.shape.hostname.safeParse(c.req.param("hostname"));
    if (!hostname.success) throw validationError(hostname.error, "host name");
    return c.json(await removeHost(stores, hostname.data, actor(c.get("apiKey"))));
  });

  routes.delete("/v1/blobs/:digest", guards.admin, async (c) => {
    const digest = parseDigest(c.req.param("digest"));
    return c.json(await purgeBlob(stores, digest, actor(c.get("apiKey"))));
  });

  routes.get("/v1/audit", guards.admin, async (c) => {
    const query = auditQuerySchema.safeParse(c.req.query());
    if (!query.success) throw validationError(query.error, "audit query");
    return c.json({ records: await auditRecords(stores, query.data.limit) });
  });

  return { routes, features: ["admin.removal", "audit"], operations: v1AdminOperations() };
}
