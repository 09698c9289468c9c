/**
 * The small-blob batch framing of `POST /v1/blobs/batch`, shared by the server (which
 * reads it, see server/blob_batch_framing.ts) and the client (which writes it): for each
 * blob a header line `<digest> <size>\n` (ASCII, the digest as 64 lowercase hex, the size
 * in decimal) followed by exactly `size` bytes.
 */
export const BLOB_BATCH_CONTENT_TYPE = "application/vnd.putplace.blob-batch";

/** The header line of one frame. */
export function frameHeader(digest: string, size: number): string {
  return `${digest} ${size}\n`;
}

/** Encodes blobs in the framing, as one body. */
export function encodeFrames(
  blobs: readonly { digest: string; bytes: Uint8Array }[],
): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  const parts = blobs.flatMap((
    b,
  ) => [encoder.encode(frameHeader(b.digest, b.bytes.byteLength)), b.bytes]);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
