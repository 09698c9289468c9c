/**
 * API keys: bearer secrets shown once, stored only as their SHA-256. A scope says what a
 * key may do; each scope includes the ones below it (admin > write > read).
 */
import { z } from "zod";
import type { HostLimits } from "./host_pattern.ts";

export const SCOPES = ["read", "write", "admin"] as const;
export const scopeSchema = z.enum(SCOPES);
export type Scope = z.infer<typeof scopeSchema>;

export function scopeAllows(granted: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(granted) >= SCOPES.indexOf(needed);
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  description: string | null;
  scope: Scope;
  key_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  /** The hosts a write key may write files of (`host_pattern.ts`); null for any host. */
  hosts: HostLimits;
}
