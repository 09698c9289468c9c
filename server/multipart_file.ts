/**
 * Streams one file field out of a multipart/form-data body without buffering it:
 * classic clients upload blobs as multipart field `file`. Built on busboy, which parses
 * incrementally with backpressure.
 */
// @ts-types="@types/busboy"
import busboy from "busboy";
import { Readable } from "node:stream";
import { AppError } from "../lib/errors.ts";

/** Resolves with the bytes of field `field` as a stream, as soon as its part starts. */
export function multipartFile(
  body: ReadableStream<Uint8Array>,
  contentType: string,
  field: string,
): Promise<ReadableStream<Uint8Array>> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": contentType },
      limits: { fieldSize: 64 * 1024, fields: 100, parts: 200 },
    });
  } catch (error) {
    return Promise.reject(
      new AppError("invalid_input", "Malformed multipart body: missing boundary", {
        status: 422,
        cause: error,
      }),
    );
  }
  const source = Readable.fromWeb(body as Parameters<typeof Readable.fromWeb>[0]);
  return new Promise((resolve, reject) => {
    let file: Readable | undefined;
    const fail = (error: unknown) => {
      const appError = error instanceof AppError ? error : new AppError(
        "invalid_input",
        "Malformed or truncated multipart body",
        { cause: error },
      );
      if (file) file.destroy(appError);
      else reject(appError);
      source.destroy();
    };
    parser.on("file", (name, stream) => {
      if (name !== field || file) {
        stream.resume();
        return;
      }
      file = stream;
      resolve(Readable.toWeb(stream) as ReadableStream<Uint8Array>);
    });
    parser.on("error", fail);
    parser.on("close", () => {
      if (!file) {
        reject(
          new AppError("invalid_input", `Multipart body has no file field "${field}"`, {
            status: 422,
          }),
        );
      }
    });
    source.on("error", fail);
    source.pipe(parser);
  });
}
