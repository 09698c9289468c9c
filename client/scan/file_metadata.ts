/**
 * The metadata a client reports for one file (the classic `POST /put_file` body, also
 * each item of a /v1 batch): its absolute path, this host, its digest and its stat.
 */
import type { Digest } from "../../lib/digest.ts";
import { type FileMetadata, fileMetadataSchema } from "../../lib/models/file.ts";

export interface HostIdentity {
  hostname: string;
  ip: string;
}

/** The file's metadata, or why it cannot be reported (checked with the shared schema). */
export function fileMetadataOf(
  path: string,
  digest: Digest,
  size: number,
  info: Deno.FileInfo,
  host: HostIdentity,
): { ok: true; metadata: FileMetadata } | { ok: false; message: string } {
  const parsed = fileMetadataSchema.safeParse(
    {
      filepath: path,
      hostname: host.hostname,
      ip_address: host.ip,
      sha256: digest,
      file_size: size,
      file_mode: info.mode ?? 0,
      file_uid: info.uid ?? 0,
      file_gid: info.gid ?? 0,
      file_mtime: seconds(info.mtime),
      file_atime: seconds(info.atime),
      file_ctime: seconds(info.ctime),
    } satisfies FileMetadata,
  );
  if (parsed.success) return { ok: true, metadata: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, message: `cannot be reported: "${issue.path.join(".")}" ${issue.message}` };
}

function seconds(date: Date | null): number {
  return date ? date.getTime() / 1000 : 0;
}
