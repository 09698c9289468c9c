/**
 * A file: one path on one host, with its stat metadata and the digest of its bytes.
 * `FileMetadata` is what a client reports (the classic `POST /put_file` body);
 * `FileRecord` is what the metadata store keeps.
 */
import { z } from "zod";
import { type Digest, EMPTY_DIGEST, isDigest } from "../digest.ts";

const unixSeconds = z.number().finite();
const nonNegativeInt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const digestSchema = z.string().refine(isDigest, {
  message: "Expected a digest: 64 lowercase hex characters",
}).transform((value) => value as Digest);

/**
 * Unknown keys (server-managed fields such as `has_file_content`) are stripped. A file of
 * 0 bytes must have the empty digest and only it.
 */
export const fileMetadataSchema = z.object({
  filepath: z.string().min(1).max(4096).refine((p) => !p.includes("\0"), {
    message: "Must not contain NUL characters",
  }),
  hostname: z.string().min(1).max(255).refine((h) => !h.includes("\0"), {
    message: "Must not contain NUL characters",
  }),
  ip_address: z.string().max(64).default(""),
  sha256: digestSchema,
  file_size: nonNegativeInt,
  file_mode: nonNegativeInt.default(0),
  file_uid: nonNegativeInt.default(0),
  file_gid: nonNegativeInt.default(0),
  file_mtime: unixSeconds.default(0),
  file_atime: unixSeconds.default(0),
  file_ctime: unixSeconds.default(0),
}).refine((file) => (file.file_size === 0) === (file.sha256 === EMPTY_DIGEST), {
  // Else a client could get `upload_required: false` for bytes the server never received.
  path: ["sha256"],
  message:
    `Does not match file_size: a file has 0 bytes exactly when its digest is "${EMPTY_DIGEST}"`,
});

export type FileMetadata = z.infer<typeof fileMetadataSchema>;

/** What a client reports about a file at its (hostname, filepath), the key aside. */
export const REPORTED_FIELDS = [
  "ip_address",
  "sha256",
  "file_size",
  "file_mode",
  "file_uid",
  "file_gid",
  "file_mtime",
  "file_atime",
  "file_ctime",
] as const;

/** True when a new report says nothing new: registering it again changes nothing. */
export function sameReport(stored: FileMetadata, report: FileMetadata): boolean {
  return REPORTED_FIELDS.every((field) => stored[field] === report[field]);
}

export interface FileRecord extends FileMetadata {
  id: string;
  /** ISO 8601 timestamps kept by the server. */
  created_at: string;
  updated_at: string;
}

/** One earlier digest of a (hostname, filepath), kept when a rescan sees new bytes. */
export interface FileHistoryEntry {
  sha256: Digest;
  file_size: number;
  file_mtime: number;
  /** When this digest stopped being the current one. */
  replaced_at: string;
}

export type UpsertOutcome = "created" | "updated" | "unchanged";

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

/** The classic `POST /put_file` answer. */
export const putFileResponseSchema = fileWireSchema.extend({
  upload_required: z.boolean(),
  upload_url: z.string().nullable(),
});
