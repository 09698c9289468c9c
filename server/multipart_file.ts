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
  /** Stops reading the request: its reader gave up, or the body is broken. */
  const stop = () => {
    source.unpipe(parser);
    source.destroy();
  };
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
      stop();
    };
    parser.on("file", (name, stream) => {
      if (name !== field || file) {
        // Drained and dropped; busboy errors it when the body is cut off, which without a
        // listener would be an uncaught error that ends the process.
        stream.on("error", () => {});
        stream.resume();
        return;
      }
      file = stream;
      resolve(webStreamOf(stream, stop));
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

/**
 * A busboy file stream as a web stream, with backpressure. Unlike `Readable.toWeb`, it
 * ignores data that busboy still emits after the reader cancelled (which would otherwise
 * throw outside any request and end the process) and stops reading the request instead.
 */
function webStreamOf(file: Readable, stop: () => void): ReadableStream<Uint8Array> {
  let finished = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      file.pause();
      file.on("data", (chunk: Uint8Array) => {
        if (finished) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) file.pause();
      });
      file.on("end", () => {
        if (finished) return;
        finished = true;
        controller.close();
      });
      file.on("error", (error) => {
        if (finished) return;
        finished = true;
        controller.error(error);
      });
    },
    pull() {
      file.resume();
    },
    cancel() {
      finished = true;
      file.resume(); // discard whatever busboy still has
      stop();
    },
  }, { highWaterMark: 4 });
}
