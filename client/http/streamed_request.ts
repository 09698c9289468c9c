/**
 * An HTTP request whose body is written chunk by chunk from reused buffers, for large
 * uploads. Deno's `fetch` sends a `ReadableStream` body slowly when the server reads at
 * disk speed and copies a buffer body whole (RSS); `node:http` streams at more than
 * 2 GB/s on loopback with flat memory (measured on Deno 2.9.6: 1 GiB in 1 MiB writes,
 * 2.4 GB/s, 47 MiB peak RSS, against 0.9 GB/s and 146 MiB for 8 MiB `fetch` bodies).
 *
 * With an injected `fetch` (tests, embedding), the same body goes out as a stream
 * through it instead.
 */
import http from "node:http";
import https from "node:https";

export interface StreamedBody {
  /** The exact byte count (sent as `Content-Length`). */
  length: number;
  /**
   * Writes the body through `send`, whose promise resolves when the chunk was handed
   * to the connection and its memory may be reused. Rejects to abort the request.
   */
  write(send: (chunk: Uint8Array) => Promise<void>): Promise<void>;
}

/** Sends the request over node:http(s); resolves with the response once headers arrive. */
export function streamedRequest(
  url: string,
  init: { method: string; headers: Headers; signal: AbortSignal },
  body: StreamedBody,
): Promise<Response> {
  const target = new URL(url);
  const transport = target.protocol === "https:" ? https : http;
  const headers: Record<string, string> = {};
  for (const [name, value] of init.headers) headers[name] = value;
  headers["content-length"] = String(body.length);
  return new Promise<Response>((resolve, reject) => {
    if (init.signal.aborted) {
      reject(init.signal.reason);
      return;
    }
    const request = transport.request(target, {
      method: init.method,
      headers,
      // One connection per request, closed after it: nothing pooled outlives the upload.
      agent: false,
    }, (response) => {
      const answerHeaders = new Headers();
      for (const [name, value] of Object.entries(response.headers)) {
        if (Array.isArray(value)) { for (const item of value) answerHeaders.append(name, item); }
        else if (value !== undefined) answerHeaders.set(name, value);
      }
      const status = response.statusCode ?? 502;
      const empty = status === 204 || status === 304 || init.method === "HEAD";
      if (empty) response.resume();
      resolve(
        new Response(empty ? null : ReadableStream.from<Uint8Array>(response), {
          status,
          statusText: response.statusMessage,
          headers: answerHeaders,
        }),
      );
    });
    const onAbort = () => request.destroy(asError(init.signal.reason));
    init.signal.addEventListener("abort", onAbort, { once: true });
    request.on("close", () => init.signal.removeEventListener("abort", onAbort));
    request.on("error", reject);
    const send = (chunk: Uint8Array) =>
      new Promise<void>((sent, failed) => {
        request.write(chunk, (error) => error ? failed(error) : sent());
      });
    body.write(send).then(
      () => request.end(),
      (error) => {
        request.destroy(asError(error));
        reject(error);
      },
    );
  });
}

/** The same body as a stream, for an injected `fetch`. */
export function streamOf(body: StreamedBody): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>(
    undefined,
    undefined,
    { highWaterMark: 1 },
  );
  const writer = writable.getWriter();
  body.write(async (chunk) => {
    // The chunk's memory is reused once this resolves: the stream gets a copy.
    await writer.write(chunk.slice());
  }).then(() => writer.close(), (error) => writer.abort(error)).catch(() => {});
  return readable;
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
