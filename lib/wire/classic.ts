/**
 * The classic wire contract (DESIGN.md section 5), kept field for field so clients written
 * for the earlier Python server work against ppserver unchanged, and ppclient works
 * against that server. Two kinds of answer schema: what ppserver sends (`*ResponseSchema`,
 * validated in the API tests) and the part every classic server sends that a client acts
 * on (`*AnswerSchema`, lenient about the rest).
 */
import { z } from "zod";
import { digestSchema } from "../digest.ts";
import { fileMetadataSchema, type FileRecord } from "../models/file.ts";
import { type ApiKeyRecord, scopeSchema } from "../models/api_key.ts";
import { hostLimitsSchema } from "../models/host_pattern.ts";

// ---- POST /put_file, GET /get_file/{sha256} ----

/** The `POST /put_file` body: a file as a client reports it. */
export const putFileRequestSchema = fileMetadataSchema;

/** A file as the classic API shows it: `_id` and the server-managed fields. */
export const fileWireSchema = fileMetadataSchema.extend({
  _id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  has_file_content: z.boolean(),
});
export type FileWire = z.infer<typeof fileWireSchema>;

export function fileWire(file: FileRecord, hasContent: boolean): FileWire {
  const { id, ...rest } = file;
  return { _id: id, ...rest, has_file_content: hasContent };
}

/** The `POST /put_file` answer of ppserver. */
export const putFileResponseSchema = fileWireSchema.extend({
  upload_required: z.boolean(),
  upload_url: z.string().nullable(),
});

/** What every classic server answers to `POST /put_file` that a client acts on. */
export const putFileAnswerSchema = z.object({
  sha256: digestSchema,
  upload_required: z.boolean(),
  upload_url: z.string().nullable().optional(),
});
export type PutFileAnswer = z.infer<typeof putFileAnswerSchema>;

// ---- POST /upload_file/{sha256} ----

export const uploadQuerySchema = z.object({
  hostname: fileMetadataSchema.shape.hostname,
  filepath: fileMetadataSchema.shape.filepath,
});

export const uploadResponseSchema = z.object({
  message: z.string(),
  sha256: digestSchema,
  size: z.number().int().min(0),
  hostname: z.string(),
  filepath: z.string(),
  status: z.literal("uploaded"),
});

/** What every classic server answers to an upload that a client acts on. */
export const uploadAnswerSchema = z.object({
  sha256: digestSchema,
  size: z.number().int().min(0).optional(),
  status: z.string().optional(),
});
export type UploadAnswer = z.infer<typeof uploadAnswerSchema>;

// ---- /api_keys ----

export const apiKeyCreateSchema = z.object({
  name: z.string().trim().min(1).max(100),
  description: z.string().max(1000).nullish().transform((d) => d ?? null),
  scope: scopeSchema.default("write"),
  hosts: hostLimitsSchema.optional().transform((h) => h ?? null).meta({
    description: "Host names or globs (* and ?) a write key may write files of; absent: any",
  }),
}).refine((key) => key.hosts === null || key.scope === "write", {
  path: ["hosts"],
  message: "Only a write key can be limited to hosts (read keys write nothing, admin keys all)",
});
export type ApiKeyCreate = z.infer<typeof apiKeyCreateSchema>;

/** A key's metadata on the wire: never the key, never its hash. */
export const apiKeyInfoSchema = z.object({
  _id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  scope: scopeSchema,
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  is_active: z.boolean(),
  hosts: hostLimitsSchema.meta({ description: "The hosts this key may write; null: any" }),
});
export type ApiKeyInfo = z.infer<typeof apiKeyInfoSchema>;

export function apiKeyInfo(record: ApiKeyRecord): ApiKeyInfo {
  return {
    _id: record.id,
    name: record.name,
    description: record.description,
    scope: record.scope,
    created_at: record.created_at,
    last_used_at: record.last_used_at,
    revoked_at: record.revoked_at,
    is_active: record.revoked_at === null,
    hosts: record.hosts,
  };
}

/** The answer to `POST /api_keys`: the key itself, shown this once. */
export const apiKeyCreatedSchema = apiKeyInfoSchema.extend({ api_key: z.string() });

export const messageSchema = z.object({ message: z.string() });

// ---- errors ----

/** A classic (FastAPI) error body: `detail` is a string or a list of issues. */
export const classicErrorSchema = z.object({
  detail: z.union([
    z.string(),
    z.array(z.object({ msg: z.string() }).loose()).transform((issues) =>
      issues.map((i) => i.msg).join("; ")
    ),
  ]),
});
