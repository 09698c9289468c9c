/**
 * Downloads of blobs that are checked on the way out: the bytes are hashed as they stream
 * and the last piece is held back until the digest and size match, so a blob damaged at
 * rest reaches the browser as a failed (short) download, never as a complete wrong file.
 */
import { type Digest, DigestWriter } from "../../lib/digest.ts";

export function verifiedBlobStream(
  body: ReadableStream<Uint8Array>,
  expected: Digest,
  size: number,
): ReadableStream<Uint8Array> {
  const hasher = new DigestWriter();
  let held: Uint8Array | null = null;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        hasher.update(chunk);
        if (held !== null) controller.enqueue(held);
        held = chunk;
      },
      flush(controller) {
        // Throws AppError("digest_mismatch") when the bytes are not blob `expected`.
        hasher.verify(expected, size);
        if (held !== null) controller.enqueue(held);
      },
    }),
  );
}

/** A file name safe for Content-Disposition: the last path part, no quotes or controls. */
export function downloadName(name: string | undefined, digest: Digest): string {
  const base = (name ?? "").split("/").pop() ?? "";
  // deno-lint-ignore no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f"\\]/g, "_").slice(0, 200);
  return clean === "" || clean === "." || clean === ".." ? digest : clean;
}

/** `attachment` with an ASCII fallback and the UTF-8 name (RFC 6266). */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
