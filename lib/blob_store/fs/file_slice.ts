/** Streams `length` bytes of an open file from its current position, then closes it. */
import { AppError } from "../../errors.ts";
import { unavailable } from "./errors.ts";

const READ_CHUNK_BYTES = 256 * 1024;

export function fileSlice(file: Deno.FsFile, length: number): ReadableStream<Uint8Array> {
  let remaining = length;
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      file.close();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (remaining <= 0) {
        close();
        controller.close();
        return;
      }
      const chunk = new Uint8Array(Math.min(READ_CHUNK_BYTES, remaining));
      let n: number | null;
      try {
        n = await file.read(chunk);
      } catch (error) {
        close();
        controller.error(unavailable("read", error));
        return;
      }
      if (n === null) {
        close();
        controller.error(new AppError("internal", "Blob ended before its recorded size"));
        return;
      }
      remaining -= n;
      controller.enqueue(chunk.subarray(0, n));
      if (remaining <= 0) {
        close();
        controller.close();
      }
    },
    cancel() {
      close();
    },
  });
}
