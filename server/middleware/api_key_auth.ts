/**
 * API key authentication: `X-API-Key: <key>` (or `Authorization: Bearer <key>`).
 * The key is hashed and looked up by hash; the stored hash is compared in constant time.
 * Keys are never logged. `last_used_at` is written at most once a minute per key.
 */
import type { MiddlewareHandler } from "hono";
import { constantTimeEqual, hashApiKey } from "../../lib/auth.ts";
import { AppError } from "../../lib/errors.ts";
import { type ApiKeyRecord, type Scope, scopeAllows } from "../../lib/models/api_key.ts";
import type { ApiKeyStore } from "../../lib/metadata_store/mod.ts";

export type AuthEnv = { Variables: { apiKey: ApiKeyRecord } };

const TOUCH_INTERVAL_MS = 60_000;

export interface ApiKeyAuthOptions {
  apiKeys: ApiKeyStore;
  /** The least scope a key needs for the routes behind this middleware. */
  scope: Scope;
}

export function apiKeyAuth(options: ApiKeyAuthOptions): MiddlewareHandler<AuthEnv> {
  if (!options.apiKeys) throw new TypeError("apiKeyAuth needs an ApiKeyStore");
  const lastTouched = new Map<string, number>();
  return async (c, next) => {
    const key = presentedKey(c.req.header("x-api-key"), c.req.header("authorization"));
    if (key === null) {
      throw new AppError("unauthorized", "Not authenticated: send an X-API-Key header");
    }
    const keyHash = hashApiKey(key);
    const record = await options.apiKeys.findByHash(keyHash);
    if (!record || !constantTimeEqual(record.key_hash, keyHash) || record.revoked_at !== null) {
      throw new AppError("unauthorized", "Invalid API key");
    }
    if (!scopeAllows(record.scope, options.scope)) {
      throw new AppError(
        "forbidden",
        `This API key has scope "${record.scope}"; this request needs "${options.scope}"`,
      );
    }
    const now = Date.now();
    if (now - (lastTouched.get(record.id) ?? 0) > TOUCH_INTERVAL_MS) {
      lastTouched.set(record.id, now);
      await options.apiKeys.touch(record.id, new Date(now));
    }
    c.set("apiKey", record);
    await next();
  };
}

function presentedKey(
  header: string | undefined,
  authorization: string | undefined,
): string | null {
  if (header !== undefined && header.trim() !== "") return header.trim();
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
  return bearer ? bearer[1] : null;
}
