/**
 * API key authentication: `X-API-Key: <key>` (or `Authorization: Bearer <key>`).
 * The key is hashed and looked up by hash; the stored hash is compared in constant time.
 * Keys are never logged. `createApp` builds one guard per scope over one `KeyUsage`, so a
 * key's `last_used_at` is written at most once a minute whichever routes it calls.
 */
import type { MiddlewareHandler } from "hono";
import { constantTimeEqual, hashApiKey } from "../../lib/auth.ts";
import { AppError } from "../../lib/errors.ts";
import { type ApiKeyRecord, type Scope, scopeAllows, SCOPES } from "../../lib/models/api_key.ts";
import type { ApiKeyStore } from "../../lib/metadata_store/mod.ts";
import type { KeyUsage } from "./key_usage.ts";

export type AuthEnv = { Variables: { apiKey: ApiKeyRecord } };
export type KeyGuard = MiddlewareHandler<AuthEnv>;
/**
 * One middleware per scope: `guards.write` lets keys of scope write or admin through.
 * `guards.reader` lets only read and admin keys through: the read side of the inventory is
 * closed to write-only keys (scanning machines), so a stolen scanner key does not reveal
 * the fleet.
 */
export type KeyGuards = Readonly<Record<Scope, KeyGuard> & { reader: KeyGuard }>;

export interface ApiKeyAuthOptions {
  apiKeys: ApiKeyStore;
  /** The least scope a key needs for the routes behind this middleware. */
  scope: Scope;
  /** When given, only keys of exactly these scopes pass (instead of `scope` and above). */
  only?: readonly Scope[];
  usage: KeyUsage;
}

export function apiKeyAuth(options: ApiKeyAuthOptions): KeyGuard {
  if (!options.apiKeys) throw new TypeError("apiKeyAuth needs an ApiKeyStore");
  if (!SCOPES.includes(options.scope)) throw new TypeError(`Unknown scope "${options.scope}"`);
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
    const only = options.only;
    if (only ? !only.includes(record.scope) : !scopeAllows(record.scope, options.scope)) {
      const needed = only ? `one of ${only.map((s) => `"${s}"`).join(", ")}` : `"${options.scope}"`;
      throw new AppError(
        "forbidden",
        `This API key has scope "${record.scope}"; this request needs ${needed}`,
      );
    }
    options.usage.note(record.id);
    c.set("apiKey", record);
    await next();
  };
}

/** The guards of every scope, sharing one store and one usage recorder. */
export function keyGuards(apiKeys: ApiKeyStore, usage: KeyUsage): KeyGuards {
  return Object.freeze({
    read: apiKeyAuth({ apiKeys, scope: "read", usage }),
    write: apiKeyAuth({ apiKeys, scope: "write", usage }),
    admin: apiKeyAuth({ apiKeys, scope: "admin", usage }),
    reader: apiKeyAuth({ apiKeys, scope: "read", only: ["read", "admin"], usage }),
  });
}

export function presentedKey(
  header: string | undefined,
  authorization: string | undefined,
): string | null {
  if (header !== undefined && header.trim() !== "") return header.trim();
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
  return bearer ? bearer[1] : null;
}
