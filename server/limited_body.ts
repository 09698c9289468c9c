/** Request bodies under a size limit: refused early from Content-Length, cut off while streaming. */
import { AppError } from "../lib/errors.ts";

function tooLarge(limit: number): AppError {
  return new AppError(
    "payload_too_large",
    `Request body is larger than the limit of ${limit} bytes`,
  );
}

/** Throws `payload_too_large` when the declared length is over the limit. */
export function checkDeclaredLength(request: Request, limit: number): void {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
}

/** The body as a stream that errors with `payload_too_large` past `limit` bytes. */
export function limitedStream(request: Request, limit: number): ReadableStream<Uint8Array> {
  checkDeclaredLength(request, limit);
  const body = request.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) controller.error(tooLarge(limit));
        else controller.enqueue(chunk);
      },
    }),
  );
}

/** Reads a small body whole (JSON requests only), never more than `limit` bytes. */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  checkDeclaredLength(request, limit);
  if (request.headers.has("content-length")) {
    // The declared length bounds the body (HTTP framing), so the runtime's native read
    // is safe here and much cheaper than a web stream for small bodies.
    try {
      return await request.bytes();
    } catch (error) {
      throw new AppError("invalid_input", "Request body ended early", { cause: error });
    }
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of limitedStream(request, limit)) {
      chunks.push(chunk);
      size += chunk.byteLength;
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError("invalid_input", "Request body ended early", { cause: error });
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
