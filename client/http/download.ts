/**
 * Downloading a blob (`GET /v1/blobs/{digest}`) into a sink, verifying the digest while
 * writing. A download can start at an offset (the sink already holds the first bytes,
 * whose hash is given) and asks for the rest with `Range` and `If-Range`; when the
 * connection drops the next attempt continues from the bytes written so far. The digest
 * is checked at the end: bytes that do not hash to it are a `digest_mismatch` AppError.
 */
import { createHash, type Hash } from "node:crypto";
import type { Digest } from "../../lib/digest.ts";
import { AppError, short } from "../../lib/errors.ts";
import { chunksOf } from "../../lib/body_chunks.ts";
import type { Transport } from "./transport.ts";

/** The reused buffer the response body is read into. */
const READ_BUFFER_BYTES = 1024 * 1024;

export interface DownloadSink {
  /** Takes the bytes, which are only valid until it resolves (their buffer is reused). */
  write(bytes: Uint8Array): Promise<void>;
  /** Drops everything written (the server sent the whole blob after all). */
  restart(): Promise<void>;
}

export interface DownloadOptions {
  /** Bytes the sink already holds, and their hash so far. */
  offset?: number;
  hash?: Hash;
  /** The blob's size when known: a sink that holds all of it needs no request. */
  size?: number;
  signal?: AbortSignal;
  onBytes?: (count: number) => void;
  /** The blob's size, once the answer tells it (progress). */
  onSize?: (size: number) => void;
}

/** Downloads the blob into the sink; answers its size once verified. */
export async function downloadBlob(
  transport: Transport,
  digest: Digest,
  sink: DownloadSink,
  options: DownloadOptions = {},
): Promise<number> {
  let hash = options.hash ?? createHash("sha256");
  let written = options.offset ?? 0;
  let size: number | null = options.size ?? null;
  let touch = () => {};
  const label = `GET /v1/blobs/${short(digest)}`;
  if (size === null || written < size) {
    await transport.send(label, (progress) => {
      touch = progress;
      const headers: Record<string, string> = {};
      if (written > 0) {
        headers.range = `bytes=${written}-`;
        headers["if-range"] = `"${digest}"`;
      }
      return { url: `${transport.baseUrl}/v1/blobs/${digest}`, init: { headers } };
    }, {
      signal: options.signal,
      accept: async (response) => {
        if (response.status === 206) {
          const range = response.headers.get("content-range")?.match(/^bytes (\d+)-(\d+)\/(\d+)$/);
          if (!range || Number(range[1]) !== written) {
            await response.body?.cancel();
            throw new AppError(
              "internal",
              `The server's answer to ${label} is not the range asked for (from byte ${written})`,
            );
          }
          size = Number(range[3]);
        } else {
          // The whole blob: start over.
          if (written > 0) {
            await sink.restart();
            hash = createHash("sha256");
            written = 0;
          }
          size = Number(response.headers.get("content-length") ?? Number.NaN);
        }
        if (Number.isSafeInteger(size)) options.onSize?.(size);
        if (!response.body) return;
        const chunks = chunksOf(response.body, READ_BUFFER_BYTES);
        try {
          for (let chunk = await chunks.next(); chunk !== null; chunk = await chunks.next()) {
            touch();
            hash.update(chunk);
            try {
              await sink.write(chunk);
            } catch (error) {
              throw new AppError("internal", `Cannot write the download: ${describe(error)}`, {
                cause: error,
              });
            }
            written += chunk.byteLength;
            options.onBytes?.(chunk.byteLength);
          }
        } catch (error) {
          await chunks.cancel();
          throw error;
        } finally {
          chunks.release();
        }
      },
    });
  }
  if (size !== null && Number.isSafeInteger(size) && written !== size) {
    throw new AppError(
      "unavailable",
      `${label} ended after ${written} of ${size} bytes`,
    );
  }
  const actual = hash.digest("hex");
  if (actual !== digest) {
    throw new AppError(
      "digest_mismatch",
      `The bytes downloaded for "${short(digest)}" hash to "${short(actual)}"`,
    );
  }
  return written;
}

function describe(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "the file is gone";
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return error instanceof Error ? error.name : "write failed";
}

/** `HEAD /v1/blobs/{digest}`: the blob's size (a `not_found` AppError when not held). */
export async function blobSize(
  transport: Transport,
  digest: Digest,
  signal?: AbortSignal,
): Promise<number> {
  const label = `HEAD /v1/blobs/${short(digest)}`;
  return await transport.send(label, () => ({
    url: `${transport.baseUrl}/v1/blobs/${digest}`,
    init: { method: "HEAD" },
  }), {
    signal,
    accept: (response) => {
      const size = Number(response.headers.get("content-length"));
      if (!Number.isSafeInteger(size) || size < 0) {
        return Promise.reject(
          new AppError("internal", `The server's answer to ${label} has no Content-Length`),
        );
      }
      return Promise.resolve(size);
    },
  });
}
