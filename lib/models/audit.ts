/**
 * Audit records: what an admin removed, when, with which key. Written by every removal
 * (`removeHost` and `purgeBlob` in `lib/dedup.ts`) before it answers, kept by the metadata
 * store, listed by `GET /v1/audit`; never changed or removed through the API.
 */
import { z } from "zod";

export const AUDIT_ACTIONS = ["host_removed", "blob_purged"] as const;
export const auditActionSchema = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof auditActionSchema>;

export interface AuditRecord {
  id: string;
  /** ISO 8601 time of the removal. */
  at: string;
  action: AuditAction;
  /** The host name removed, or the digest purged. */
  subject: string;
  /** The API key that asked (id and name; the name as it was then). */
  key_id: string;
  key_name: string;
  /** File records removed. */
  files_removed: number;
  /** What else happened, in words (the blob deleted, bytes left in a pack). */
  detail: string;
}

export type NewAuditRecord = Omit<AuditRecord, "id" | "at">;
