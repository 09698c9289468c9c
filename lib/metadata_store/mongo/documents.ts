/**
 * The documents of the MongoDB metadata store and how they map to records.
 *
 * Documents are parsed with zod on the way in (they may have been written by the earlier
 * Python system, by hand, or by an older ppserver), never cast. What the earlier system
 * wrote reads as follows:
 * - `_id` ObjectIds become their 24-hex string; new documents get real ObjectIds made from
 *   `newId()` so ids look alike everywhere.
 * - Dates are BSON dates (the earlier system's too); records carry ISO 8601 strings.
 * - A file without `updated_at` was last updated when its content was uploaded, else when
 *   it was created; one with a `deleted_at` date (the earlier system also set
 *   `status: "deleted"`) is deleted.
 * - An API key without `scope` could do everything in the earlier system: it reads as
 *   `admin`. One with `is_active: false` and no `revoked_at` reads as revoked at its last
 *   use (or creation), the earliest time it is known to have been revoked by.
 */
import { type Document, Long, ObjectId } from "mongodb";
import { z } from "zod";
import { AppError } from "../../errors.ts";
import { isId } from "../../ids.ts";
import { digestSchema } from "../../digest.ts";
import type { FileHistoryEntry, FileRecord } from "../../models/file.ts";
import { type ApiKeyRecord, scopeSchema } from "../../models/api_key.ts";
import { hostLimitsSchema } from "../../models/host_pattern.ts";
import { auditActionSchema, type AuditRecord } from "../../models/audit.ts";
import type { Absence, BlobRecord, FileVersion } from "../mod.ts";

/** An `_id` as stored: an ObjectId (ours and the earlier system's) or, rarely, a string. */
export type DocumentId = ObjectId | string;

/** A document whose `_id` is either kind: the collections of files and API keys hold these. */
export type IdDocument = Document & { _id: DocumentId };

/** The `_id` values a record id may be stored as. Empty for a string that is no id. */
export function storedIds(id: string): DocumentId[] {
  return isId(id) ? [new ObjectId(id), id] : [];
}

/** A fresh `_id` for a record id from `newId()`. */
export function objectIdOf(id: string): ObjectId {
  return new ObjectId(id);
}

const rawIdSchema = z.union([z.instanceof(ObjectId), z.string()]);
const idSchema = rawIdSchema.transform(idOf);

function idOf(id: DocumentId): string {
  return typeof id === "string" ? id : id.toHexString();
}

const dateSchema = z.union([z.date(), z.iso.datetime({ offset: true })]).transform((value, ctx) => {
  const date = typeof value === "string" ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: "custom", message: "Invalid date" });
    return z.NEVER;
  }
  return date.toISOString();
});

const optionalDate = dateSchema.nullish().transform((value) => value ?? null);
const number = z.number().finite();
const statNumber = number.nullish().transform((value) => value ?? 0);

const fileDocumentSchema = z.object({
  _id: rawIdSchema,
  hostname: z.string(),
  filepath: z.string(),
  ip_address: z.string().nullish().transform((value) => value ?? ""),
  sha256: digestSchema,
  file_size: number,
  file_mode: statNumber,
  file_uid: statNumber,
  file_gid: statNumber,
  file_mtime: statNumber,
  file_atime: statNumber,
  file_ctime: statNumber,
  created_at: dateSchema,
  updated_at: optionalDate,
  file_uploaded_at: optionalDate,
  deleted_at: optionalDate,
  revision: z.number().int().nullish().transform((value) => value ?? null),
});

/** A file document read for an update: the record, whether it is deleted, its revision. */
export interface StoredFile {
  file: FileRecord;
  deleted: boolean;
  /** When it was deleted (ISO 8601); null while live. */
  deletedAt: string | null;
  /** Compare-and-set token: null for documents never updated by ppserver. */
  revision: number | null;
  /** The `_id` exactly as stored, for updates. */
  rawId: DocumentId;
}

export function storedFileOf(document: unknown): StoredFile {
  const parsed = parse(fileDocumentSchema, document, "file");
  const file: FileRecord = {
    id: idOf(parsed._id),
    hostname: parsed.hostname,
    filepath: parsed.filepath,
    ip_address: parsed.ip_address,
    sha256: parsed.sha256,
    file_size: parsed.file_size,
    file_mode: parsed.file_mode,
    file_uid: parsed.file_uid,
    file_gid: parsed.file_gid,
    file_mtime: parsed.file_mtime,
    file_atime: parsed.file_atime,
    file_ctime: parsed.file_ctime,
    created_at: parsed.created_at,
    updated_at: parsed.updated_at ?? parsed.file_uploaded_at ?? parsed.created_at,
  };
  return {
    file,
    deleted: parsed.deleted_at !== null,
    deletedAt: parsed.deleted_at,
    revision: parsed.revision,
    rawId: parsed._id,
  };
}

export function fileOf(document: unknown): FileRecord {
  return storedFileOf(document).file;
}

const historyEntrySchema = z.object({
  sha256: digestSchema,
  file_size: number,
  file_mtime: number,
  replaced_at: dateSchema,
});

const historyDocumentSchema = z.object({
  history: z.array(historyEntrySchema).nullish().transform((value) => value ?? []),
});

/** Earlier digests of a file, newest first (later entries first among equal times). */
export function historyOf(document: unknown): FileHistoryEntry[] {
  const { history } = parse(historyDocumentSchema, document, "file history");
  return newestFirst(history, (entry) => entry.replaced_at);
}

const versionsDocumentSchema = z.object({
  history: z.array(historyEntrySchema.extend({
    file_mode: number.nullish().transform((value) => value ?? null),
  })).nullish().transform((value) => value ?? []),
  absences: z.array(z.object({ deleted_at: dateSchema, restored_at: dateSchema })).nullish()
    .transform((value) => value ?? []),
});

/** A file's earlier contents with their modes, and the times it was away; newest first. */
export function versionsOf(document: unknown): { history: FileVersion[]; absences: Absence[] } {
  const parsed = parse(versionsDocumentSchema, document, "file history");
  return {
    history: newestFirst(parsed.history, (entry) => entry.replaced_at),
    absences: newestFirst(parsed.absences, (entry) => entry.deleted_at),
  };
}

function newestFirst<T>(items: T[], time: (item: T) => string): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) =>
      time(a.item) < time(b.item) ? 1 : time(a.item) > time(b.item) ? -1 : b.index - a.index
    )
    .map(({ item }) => item);
}

const blobDocumentSchema = z.object({
  _id: digestSchema,
  size: number,
  stored_at: dateSchema,
  epoch_file_id: z.string().nullish().transform((value) => value ?? null),
});

export function blobOf(document: unknown): BlobRecord {
  const parsed = parse(blobDocumentSchema, document, "blob");
  return {
    digest: parsed._id,
    size: parsed.size,
    stored_at: parsed.stored_at,
    epoch_file_id: parsed.epoch_file_id,
  };
}

const apiKeyDocumentSchema = z.object({
  _id: idSchema,
  name: z.string(),
  description: z.string().nullish().transform((value) => value ?? null),
  scope: scopeSchema.nullish().transform((value) => value ?? "admin"),
  key_hash: z.string(),
  created_at: dateSchema,
  last_used_at: optionalDate,
  revoked_at: optionalDate,
  is_active: z.boolean().nullish(),
  hosts: hostLimitsSchema.optional().transform((value) => value ?? null),
});

const auditDocumentSchema = z.object({
  _id: idSchema,
  at: dateSchema,
  action: auditActionSchema,
  subject: z.string(),
  key_id: z.string(),
  key_name: z.string(),
  files_removed: z.number().int().min(0),
  detail: z.string(),
});

export function auditOf(document: unknown): AuditRecord {
  const { _id, ...rest } = parse(auditDocumentSchema, document, "audit record");
  return { id: _id, ...rest };
}

export function apiKeyOf(document: unknown): ApiKeyRecord {
  const parsed = parse(apiKeyDocumentSchema, document, "API key");
  const revokedAt = parsed.revoked_at ??
    (parsed.is_active === false ? parsed.last_used_at ?? parsed.created_at : null);
  return {
    id: parsed._id,
    name: parsed.name,
    description: parsed.description,
    scope: parsed.scope,
    key_hash: parsed.key_hash,
    created_at: parsed.created_at,
    last_used_at: parsed.last_used_at,
    revoked_at: revokedAt,
    hosts: parsed.hosts,
  };
}

/**
 * A sum of sizes from an aggregation, exactly: an int64 (read as bigint or Long) past 2^53
 * stays exact; a double (a sum with a double in it) is taken as it is.
 */
export function exactTotal(value: unknown): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (value instanceof Long) return value.toBigInt();
  throw new AppError("internal", "MongoDB returned a total that is not an integer");
}

function parse<T extends z.ZodType>(schema: T, document: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(document);
  if (parsed.success) return parsed.data;
  const id = typeof document === "object" && document !== null && "_id" in document
    ? String(document._id)
    : "?";
  const issue = parsed.error.issues[0];
  throw new AppError(
    "internal",
    `The ${what} document "${id}" in MongoDB is malformed: ${
      issue?.path.join(".") || "document"
    }: ${issue?.message ?? "invalid"}`,
  );
}
