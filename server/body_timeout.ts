/**
 * Slow-body protection: a request body that stops arriving for `timeoutMs` while the
 * application waits for it fails with 408, like nginx's `client_body_timeout` (the time
 * between two reads, not the whole transfer, so a 64 GiB upload at any steady pace is fine).
 * Only a read the application is waiting on is timed: a handler busy with its store is not.
 */
import { AppError } from "../lib/errors.ts";

export interface TimedBodyOptions {
  timeoutMs: number;
  /** Called once when the body stalled (the connection is then closed after the response). */
  onStall: () => void;
  /** Called with each chunk's size as the application reads it. */
  onBytes: (n: number) => void;
}

export function timedBody(
  body: ReadableStream<Uint8Array>,
  options: TimedBodyOptions,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() =>
          reject(
            new AppError(
              "invalid_input",
              `The request body stopped arriving: no bytes for ${options.timeoutMs / 1000} s`,
              { status: 408 },
            ),
          ), options.timeoutMs);
      });
      try {
        const { done, value } = await Promise.race([reader.read(), stalled]);
        if (done) {
          controller.close();
        } else {
          options.onBytes(value.byteLength);
          controller.enqueue(value);
        }
      } catch (error) {
        if (error instanceof AppError && error.status === 408) {
          options.onStall();
          reader.cancel(error).catch(() => {});
        }
        controller.error(error);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
