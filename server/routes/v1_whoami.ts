/**
 * `GET /v1/whoami`: the API key presented, as the server sees it (id, name, scope, hosts),
 * so that a client can check its key once at start, before any work, and say what is
 * wrong with a refused one: missing, unknown, or revoked (the scope it then compares with
 * what it needs itself). Read-only; any valid key may ask about itself.
 *
 * It looks the key up itself instead of behind `apiKeyAuth`, whose one "Invalid API key"
 * for every refusal is what other routes keep; the key is compared the same way (hash,
 * constant time) and never logged.
 */
import { Hono } from "hono";
import { constantTimeEqual, hashApiKey } from "../../lib/auth.ts";
import { AppError } from "../../lib/errors.ts";
import { type AuthEnv, presentedKey } from "../middleware/api_key_auth.ts";
import type { DocumentedRoutes } from "../openapi.ts";
import { v1WhoamiOperations } from "./v1_whoami_openapi.ts";
import type { RouteDeps } from "./route_deps.ts";

export function v1WhoamiRoutes({ stores }: RouteDeps): DocumentedRoutes {
  const { apiKeys } = stores.metadata;
  const routes = new Hono<AuthEnv>();
  routes.get("/v1/whoami", async (c) => {
    const key = presentedKey(c.req.header("x-api-key"), c.req.header("authorization"));
    if (key === null) {
      throw new AppError("unauthorized", "Not authenticated: send an X-API-Key header");
    }
    const keyHash = hashApiKey(key);
    const record = await apiKeys.findByHash(keyHash);
    if (!record || !constantTimeEqual(record.key_hash, keyHash)) {
      throw new AppError("unauthorized", "Unknown API key: this server has no such key");
    }
    if (record.revoked_at !== null) {
      throw new AppError(
        "unauthorized",
        `API key "${record.name}" was revoked at ${record.revoked_at}`,
      );
    }
    return c.json({ id: record.id, name: record.name, scope: record.scope, hosts: record.hosts });
  });
  return {
    routes,
    features: ["whoami"],
    operations: v1WhoamiOperations(),
  };
}
