/**
 * API keys: bearer secrets shown once, stored only as their SHA-256. A scope says what a
 * key may do; each scope includes the ones below it (admin > write > read).
 */
import { z } from "zod";

export const SCOPES = ["read", "write", "admin"] as const;
export const scopeSchema = z.enum(SCOPES);
export type Scope = z.infer<typeof scopeSchema>;

export function scopeAllows(granted: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(granted) >= SCOPES.indexOf(needed);
}

export const apiKeyCreateSchema = z.object({
  name: z.string().trim().min(1).max(100),
  description: z.string().max(1000).nullish().transform((d) => d ?? null),
  scope: scopeSchema.default("write"),
});
export type ApiKeyCreate = z.infer<typeof apiKeyCreateSchema>;

export interface ApiKeyRecord {
  id: string;
  name: string;
  description: string | null;
  scope: Scope;
  key_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** The wire form of a key's metadata: never the key, never its hash. */
export function apiKeyInfo(record: ApiKeyRecord) {
  return {
    _id: record.id,
    name: record.name,
    description: record.description,
    scope: record.scope,
    created_at: record.created_at,
    last_used_at: record.last_used_at,
    revoked_at: record.revoked_at,
    is_active: record.revoked_at === null,
  };
}
