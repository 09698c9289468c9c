/**
 * Classic API key management (admin keys only): create (the key is shown once), list
 * (never the key or its hash), revoke, delete.
 */
import { Hono } from "hono";
import { issueApiKey } from "../../lib/auth.ts";
import { AppError } from "../../lib/errors.ts";
import { apiKeyCreateSchema, apiKeyInfo } from "../../lib/wire/classic.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import { readJson } from "../json_body.ts";
import type { RouteDeps } from "./route_deps.ts";

export function apiKeyRoutes({ stores, limits, guards }: RouteDeps): Hono<AuthEnv> {
  const apiKeys = stores.metadata.apiKeys;
  const app = new Hono<AuthEnv>();
  app.use("/api_keys", guards.admin);
  app.use("/api_keys/*", guards.admin);

  app.post("/api_keys", async (c) => {
    const input = await readJson(c, apiKeyCreateSchema, limits.maxJsonBytes, "API key");
    const { key, record } = await issueApiKey(apiKeys, input);
    return c.json({ api_key: key, ...apiKeyInfo(record) }, 201);
  });

  app.get("/api_keys", async (c) => c.json((await apiKeys.list()).map(apiKeyInfo)));

  app.put("/api_keys/:id/revoke", async (c) => {
    const id = c.req.param("id");
    if (!await apiKeys.revoke(id, new Date())) throw notFound(id);
    return c.json({ message: `API key ${id} revoked successfully` });
  });

  app.delete("/api_keys/:id", async (c) => {
    const id = c.req.param("id");
    if (id === c.get("apiKey").id) {
      throw new AppError("conflict", "An API key cannot delete itself; revoke it from another key");
    }
    if (!await apiKeys.delete(id)) throw notFound(id);
    return c.json({ message: `API key ${id} deleted successfully` });
  });

  return app;
}

function notFound(id: string): AppError {
  return new AppError("not_found", `No API key with id "${id.slice(0, 64)}"`);
}
