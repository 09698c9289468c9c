/**
 * The one typed row mapper of the SQLite metadata store: rows become records through
 * checked field reads, never casts, so a row that does not have the shape the schema
 * promises (a hand edit, a newer or older ppserver) fails loudly as `internal` instead of
 * travelling on with the wrong type. Checked reads rather than zod: every registration
 * reads a row, and these cost next to nothing.
 */
import type { SQLOutputValue } from "node:sqlite";
import { type Digest, isDigest } from "../../digest.ts";
import { AppError } from "../../errors.ts";
import type { FileHistoryEntry, FileRecord } from "../../models/file.ts";
import { type ApiKeyRecord, type Scope, SCOPES } from "../../models/api_key.ts";
import { type HostLimits, hostLimitsSchema } from "../../models/host_pattern.ts";
import type { BlobRecord } from "../mod.ts";
import { auditActionSchema, type AuditRecord } from "../../models/audit.ts";

export type Row = Record<string, SQLOutputValue>;

/** A files row as a record; `deleted_at` stays inside the store (see `isDeleted`). */
export function fileOf(row: Row): FileRecord {
  return {
    id: text(row, "id"),
    hostname: text(row, "hostname"),
    filepath: text(row, "filepath"),
    ip_address: text(row, "ip_address"),
    sha256: digest(row, "sha256"),
    file_size: integer(row, "file_size"),
    file_mode: integer(row, "file_mode"),
    file_uid: integer(row, "file_uid"),
    file_gid: integer(row, "file_gid"),
    file_mtime: real(row, "file_mtime"),
    file_atime: real(row, "file_atime"),
    file_ctime: real(row, "file_ctime"),
    created_at: text(row, "created_at"),
    updated_at: text(row, "updated_at"),
  };
}

/** Whether a files row is soft-deleted. */
export function isDeleted(row: Row): boolean {
  return nullableText(row, "deleted_at") !== null;
}

export function historyEntryOf(row: Row): FileHistoryEntry {
  return {
    sha256: digest(row, "sha256"),
    file_size: integer(row, "file_size"),
    file_mtime: real(row, "file_mtime"),
    replaced_at: text(row, "replaced_at"),
  };
}

export function blobOf(row: Row): BlobRecord {
  return {
    digest: digest(row, "digest"),
    size: integer(row, "size"),
    stored_at: text(row, "stored_at"),
    epoch_file_id: nullableText(row, "epoch_file_id"),
  };
}

export function apiKeyOf(row: Row): ApiKeyRecord {
  return {
    id: text(row, "id"),
    name: text(row, "name"),
    description: nullableText(row, "description"),
    scope: scope(row, "scope"),
    key_hash: text(row, "key_hash"),
    created_at: text(row, "created_at"),
    last_used_at: nullableText(row, "last_used_at"),
    revoked_at: nullableText(row, "revoked_at"),
    hosts: hostLimits(row, "hosts"),
  };
}

/** A key's host limits: a JSON array of patterns, or NULL for any host. */
function hostLimits(row: Row, column: string): HostLimits {
  const value = nullableText(row, column);
  if (value === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw malformed(column, "a JSON array of host patterns");
  }
  const parsed = hostLimitsSchema.safeParse(json);
  if (!parsed.success) throw malformed(column, "a JSON array of host patterns");
  return parsed.data;
}

/** An audit_log row as a record. */
export function auditOf(row: Row): AuditRecord {
  const action = auditActionSchema.safeParse(row.action);
  if (!action.success) throw malformed("action", "an audit action");
  return {
    id: text(row, "id"),
    at: text(row, "at"),
    action: action.data,
    subject: text(row, "subject"),
    key_id: text(row, "key_id"),
    key_name: text(row, "key_name"),
    files_removed: integer(row, "files_removed"),
    detail: text(row, "detail"),
  };
}

/** An integer column (a count, a size) as a number. */
export function integer(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "bigint" && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  throw malformed(column, "an integer");
}

/** An integer column that may pass 2^53 (a sum of sizes), exactly. */
export function bigInteger(row: Row, column: string): bigint {
  const value = row[column];
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  throw malformed(column, "an integer");
}

export function real(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === "number") return value;
  throw malformed(column, "a number");
}

export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value === "string") return value;
  throw malformed(column, "text");
}

export function nullableText(row: Row, column: string): string | null {
  const value = row[column];
  if (value === null || typeof value === "string") return value;
  throw malformed(column, "text or null");
}

export function digest(row: Row, column: string): Digest {
  const value = row[column];
  if (isDigest(value)) return value;
  throw malformed(column, "a digest");
}

function scope(row: Row, column: string): Scope {
  const value = row[column];
  const found = SCOPES.find((scope) => scope === value);
  if (found) return found;
  throw malformed(column, "a scope");
}

function malformed(column: string, expected: string): AppError {
  return new AppError(
    "internal",
    `The metadata database is malformed: column "${column}" is not ${expected}`,
  );
}
