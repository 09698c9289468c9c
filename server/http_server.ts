/**
 * The HTTP server of `ppserver serve`: Deno.serve on a loopback port behind the connection
 * guard (`connection_guard.ts` says why), each request's body timed (`body_timeout.ts`),
 * each finished request reported once (the access log and metrics listen), and a drain
 * that lets requests in flight finish.
 */
import { type ConnectionGuard, openConnectionGuard } from "./connection_guard.ts";
import { timedBody } from "./body_timeout.ts";
import { type RequestRecord, requestRecords } from "./request_record.ts";
import type { RateLimiter } from "./rate_limits.ts";

export interface ConnectionLimits {
  maxConnections: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  /** A request body, or a response write, that makes no progress this long fails. */
  bodyTimeoutMs: number;
}

export interface HttpServerOptions {
  hostname: string;
  port: number;
  /** Share the port with other processes (SO_REUSEPORT; Linux, needs --unstable-net). */
  reusePort?: boolean;
  tls?: { cert: string; key: string };
  limits: ConnectionLimits;
  handler: (request: Request) => Response | Promise<Response>;
  /** Per-key request and byte rates, checked before the handler. */
  rateLimiter?: RateLimiter | null;
  /** Each request, once its response has been sent (or the client went away). */
  onRequestDone?: (record: RequestRecord) => void;
  /** In-flight requests, up and down. */
  onInFlight?: (delta: 1 | -1) => void;
  log: (
    level: "error" | "warn" | "debug",
    message: string,
    fields?: Record<string, unknown>,
  ) => void;
}

export interface HttpServer {
  readonly addr: Deno.NetAddr;
  readonly scheme: "http" | "https";
  /**
   * Stops accepting, lets requests in flight finish (closing each connection once its
   * request ends) for up to `timeoutMs`, then closes what is left. True when all finished.
   */
  drain(timeoutMs: number): Promise<boolean>;
}

export function startHttpServer(options: HttpServerOptions): HttpServer {
  let guard: ConnectionGuard | null = null;
  let inFlight = 0;
  let whenIdle: PromiseWithResolvers<void> | null = null;

  const handle = async (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
    const started = performance.now();
    const relay = guard?.connectionOf(info.remoteAddr.port);
    relay?.requestStarted();
    inFlight++;
    options.onInFlight?.(1);
    const url = new URL(request.url);
    const record: RequestRecord = {
      time: new Date(),
      method: request.method,
      path: url.pathname,
      route: null,
      status: 0,
      bytesIn: 0,
      bytesOut: 0,
      durationMs: 0,
      remote: relay ? relay.remoteAddr.hostname : info.remoteAddr.hostname,
      keyId: null,
    };
    let response: Response | undefined;
    try {
      const limited = options.rateLimiter?.admit(request);
      if (limited) {
        record.status = limited.status;
        return limited;
      }
      // Paced outside the body timeout: waiting for the byte rate is not a stalled client.
      const timedOnly = request.body && timedBody(request.body, {
        timeoutMs: options.limits.bodyTimeoutMs,
        onStall: () => relay?.closeAfterRequest(),
        onBytes: (n) => record.bytesIn += n,
      });
      const body = timedOnly && options.rateLimiter
        ? options.rateLimiter.pace(request, timedOnly)
        : timedOnly;
      const timed = body ? new Request(request, { body, duplex: "half" } as RequestInit) : request;
      requestRecords.set(timed, record);
      response = await options.handler(timed);
      record.status = response.status;
      const length = Number(response.headers.get("content-length") ?? NaN);
      if (request.method === "HEAD" || response.body === null) {
        record.bytesOut = 0;
      } else if (Number.isSafeInteger(length)) {
        record.bytesOut = length;
      } else {
        response = new Response(counted(response.body, (n) => record.bytesOut += n), response);
      }
      return response;
    } finally {
      info.completed.catch(() => {}).finally(() => {
        relay?.requestEnded();
        record.durationMs = performance.now() - started;
        if (record.status === 0) record.status = 499;
        inFlight--;
        options.onInFlight?.(-1);
        if (inFlight === 0) whenIdle?.resolve();
        options.onRequestDone?.(record);
      });
    }
  };

  // Restarted if it ever ends with an error (an accept error of its own ends it), so that
  // nothing ends ppserver but a signal. It is reached only through the guard.
  let inner: Deno.HttpServer<Deno.NetAddr>;
  let draining = false;
  const serveInner = () => {
    inner = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handle);
    inner.finished.catch((error) => {
      options.log("error", "The HTTP server stopped; restarting it", {
        error: error instanceof Error ? error.message : String(error),
      });
      restartInner();
    });
  };
  // Restarts are at most one per 100 ms; one asked for sooner is deferred, never dropped.
  let lastRestart = -Infinity;
  let restartPending = false;
  const restartInner = () => {
    if (draining || restartPending) return;
    const wait = lastRestart + 100 - performance.now();
    if (wait > 0) {
      restartPending = true;
      setTimeout(() => {
        restartPending = false;
        restartInner();
      }, wait);
      return;
    }
    lastRestart = performance.now();
    try {
      serveInner();
    } catch (error) {
      options.log("error", "Cannot restart the HTTP server; trying again", {
        error: error instanceof Error ? error.message : String(error),
      });
      restartPending = true;
      setTimeout(() => {
        restartPending = false;
        restartInner();
      }, 250);
    }
  };
  serveInner();
  try {
    guard = openConnectionGuard({
      hostname: options.hostname,
      port: options.port,
      reusePort: options.reusePort,
      tls: options.tls,
      upstreamPort: () => inner.addr.port,
      onUpstreamGone: () => {
        options.log("error", "The HTTP server refused a connection; restarting it");
        restartInner();
      },
      maxConnections: options.limits.maxConnections,
      headersTimeoutMs: options.limits.headersTimeoutMs,
      idleTimeoutMs: options.limits.idleTimeoutMs,
      sendTimeoutMs: options.limits.bodyTimeoutMs,
      log: options.log,
    });
  } catch (error) {
    inner!.shutdown();
    throw error;
  }
  const opened = guard;

  return {
    addr: opened.addr,
    scheme: options.tls ? "https" : "http",
    async drain(timeoutMs) {
      draining = true;
      opened.drain();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const finished = await Promise.race([
        opened.drained.then(async () => {
          if (inFlight > 0) {
            whenIdle = Promise.withResolvers<void>();
            await whenIdle.promise;
          }
          return true as const;
        }),
        deadline,
      ]);
      clearTimeout(timer);
      opened.close();
      await Promise.race([inner.shutdown(), new Promise((r) => setTimeout(r, 1000))]);
      return finished;
    },
  };
}

function counted(
  body: ReadableStream<Uint8Array>,
  onBytes: (n: number) => void,
): ReadableStream<Uint8Array> {
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        onBytes(chunk.byteLength);
        controller.enqueue(chunk);
      },
    }),
  );
}
