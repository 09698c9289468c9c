/** A file's metadata as a client would report it, for tests: the digest of `content`. */
import { digestOf } from "../lib/digest.ts";
import type { FileMetadata } from "../lib/models/file.ts";

export function fileAt(hostname: string, filepath: string, content = filepath): FileMetadata {
  return {
    hostname,
    filepath,
    ip_address: "10.0.0.1",
    sha256: digestOf(content),
    file_size: new TextEncoder().encode(content).byteLength,
    file_mode: 0o100644,
    file_uid: 1000,
    file_gid: 1000,
    file_mtime: 1_700_000_000.5,
    file_atime: 1_700_000_000.5,
    file_ctime: 1_700_000_000.5,
  };
}
