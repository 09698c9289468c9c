/** Files and bytes for tests: a file's metadata as a client reports it, deterministic bytes. */
import { digestOf } from "../lib/digest.ts";
import type { FileMetadata } from "../lib/models/file.ts";

/** A file at (hostname, filepath) whose bytes are `content` (by default its path). */
export function fileAt(
  hostname: string,
  filepath: string,
  content: string | Uint8Array = filepath,
): FileMetadata {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  return {
    hostname,
    filepath,
    ip_address: "10.0.0.1",
    sha256: digestOf(bytes),
    file_size: bytes.byteLength,
    file_mode: 0o100644,
    file_uid: 1000,
    file_gid: 1000,
    file_mtime: 1_700_000_000.5,
    file_atime: 1_700_000_000.5,
    file_ctime: 1_700_000_000.5,
  };
}

/** Bytes of a given length whose content depends on `seed`. */
export function bytesOf(length: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
