/**
 * A file: one path on one host, with its stat metadata and the digest of its bytes.
 * `FileMetadata` is what a client reports (the classic `POST /put_file` body);
 * `FileRecord` is what the metadata store keeps.
 */
import { z } from "zod";
import { type Digest, digestSchema, EMPTY_DIGEST } from "../digest.ts";

const unixSeconds = z.number().finite();
const nonNegativeInt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

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
