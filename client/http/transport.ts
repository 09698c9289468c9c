/**
 * The one way the client talks HTTP to a server: the base URL, the API key, one
 * keep-alive connection pool, retries and error bodies. Both API clients (classic and
 * /v1) and downloads take a `Transport` and describe their requests to `send`.
 *
 * - `fetch` is injectable; by default one `Deno.HttpClient` is shared by every call so
 *   connections are reused, and closed on dispose.
 * - Error bodies (problem+json, or a classic `{"detail": ...}`) are parsed with zod
 *   into an `AppError` whose code follows the status.
 * - A server that cannot be reached (no connection, timeouts, 502/503/504) is an outage
 *   of the whole client (`Outage`): every request waits until it answers again, for up to
 *   `retryForMs`. Other 5xx and 429 are retried with exponential backoff and full jitter
 *   (honouring `Retry-After`), a bounded number of times; a 4xx never is.
 * - A failure of the request body itself (the local file changed during an upload) is
 *   never retried; it is rethrown as the body raised it.
 */
import { z } from "zod";
import { AppError, codeOfStatus, short } from "../../lib/errors.ts";
import { problemSchema } from "../../lib/models/problem.ts";
import { classicErrorSchema } from "../../lib/wire/classic.ts";
import { VERSION } from "../../lib/version.ts";
import { type StreamedBody, streamedRequest, streamOf } from "./streamed_request.ts";
import { Outage, type OutageOptions } from "./outage.ts";
import { backoffDelay, DEFAULT_RETRY, retryAfterMs, type RetryPolicy, sleep } from "./retry.ts";

/** Probes of an unreachable server are at most this far apart. */
const OUTAGE_MAX_DELAY_MS = 15_000;

export interface TransportOptions {
  /** Server base URL without a trailing slash. */
  baseUrl: string;
  apiKey: string;
  /** Replaces the pooled fetch (tests, other transports). */
  fetch?: typeof fetch;
  retry?: RetryPolicy;
  /** Idle connections kept per host by the pool. */
  maxConnections?: number;
  /** An attempt with no progress for this long is abandoned (and retried). */
  idleTimeoutMs?: number;
  onRetry?: (event: RetryEvent) => void;
  /**
   * How long the server may stay unreachable (no connection, timeouts, 502/503/504)
   * before requests give up; meanwhile every request waits (see `Outage`). Default 0:
   * such failures are retried like any other, `retry.retries` times.
   */
  retryForMs?: number;
  onPause?: OutageOptions["onPause"];
  onResume?: OutageOptions["onResume"];
}

/** Statuses that mean the server (or the way to it) is down, not this request wrong. */
const UNREACHABLE_STATUSES = new Set([502, 503, 504]);

export interface RetryEvent {
  request: string;
  /** 1-based number of the retry about to happen. */
  retry: number;
  delayMs: number;
  reason: string;
}

/** The classic `GET /health` body of a 503: which store is disconnected, and why. */
const storeHealthSchema = z.object({
  status: z.string(),
  type: z.string().optional(),
  detail: z.string().optional(),
});
const healthErrorSchema = z.object({
  status: z.string(),
  database: storeHealthSchema,
  storage: storeHealthSchema,
}).transform(({ database, storage }) =>
  [["metadata store", database], ["blob store", storage]] as const
).transform((stores) =>
  stores.filter(([, s]) => s.status !== "connected").map(([what, s]) =>
    `the ${what}${s.type ? ` (${s.type})` : ""} is ${s.status}${s.detail ? `: ${s.detail}` : ""}`
  ).join("; ") || null
);

/** What an error answer said, kept as the cause of its AppError (see `serverDetailOf`). */
interface ServerDetail {
  status: number;
  detail: string;
}

/** The server's own words in an AppError made from an error answer, if it said any. */
export function serverDetailOf(error: AppError): string | null {
  const cause: unknown = error.cause;
  if (typeof cause === "object" && cause !== null && "detail" in cause) {
    if (typeof cause.detail === "string") return cause.detail;
  }
  return null;
}

const ERROR_BODY_LIMIT = 64 * 1024;

/** One try of a request, prepared afresh for every attempt. */
export interface Attempt {
  url: string;
  init: RequestInit;
  /** A body written from reused buffers (large uploads), sent instead of `init.body`. */
  stream?: StreamedBody;
  /** The request body's own failure, if it failed (never retried). */
  bodyFailure?: () => unknown;
  /** Releases the body source after the attempt. */
  release?: () => Promise<void>;
}

export class Transport implements Disposable {
  readonly baseUrl: string;
  #apiKey: string;
  #fetch: typeof fetch;
  #httpClient: Deno.HttpClient | null = null;
  #retry: RetryPolicy;
  #idleTimeoutMs: number;
  #onRetry?: (event: RetryEvent) => void;
  #outage: Outage;

  constructor(options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
    this.#onRetry = options.onRetry;
    if (options.fetch) {
      this.#fetch = options.fetch;
    } else {
      const client = Deno.createHttpClient({ poolMaxIdlePerHost: options.maxConnections ?? 32 });
      this.#httpClient = client;
      this.#fetch = (input, init) => fetch(input, { ...init, client });
    }
    this.#outage = new Outage({
      budgetMs: options.retryForMs ?? 0,
      baseDelayMs: this.#retry.baseDelayMs,
      maxDelayMs: Math.max(this.#retry.maxDelayMs, OUTAGE_MAX_DELAY_MS),
      server: this.baseUrl,
      probe: (signal) => this.#probe(signal),
      onPause: options.onPause,
      onResume: options.onResume,
    });
  }

  /** True while the server is unreachable and requests wait. */
  get paused(): boolean {
    return this.#outage.active;
  }

  /** `GET /health` without retries: null when the server answers healthy, else why not. */
  async #probe(signal: AbortSignal): Promise<string | null> {
    try {
      const response = await this.#fetch(`${this.baseUrl}/health`, {
        headers: { "user-agent": `ppclient/${VERSION}` },
        signal,
      });
      if (response.ok) {
        await response.body?.cancel();
        return null;
      }
      return (await errorOf(response, "GET /health")).message;
    } catch (error) {
      if (signal.aborted && !(error instanceof Error && error.name === "TimeoutError")) {
        throw error;
      }
      return `GET /health failed: ${networkReason(error)}`;
    }
  }

  /** The retry policy of every request (and of the resumable uploads built on them). */
  get retry(): RetryPolicy {
    return this.#retry;
  }

  /**
   * Whether an `Attempt.stream` body goes out over node:http (plain http, no injected
   * fetch). Over https it would not: node:https in Deno 2.9.6 ignores `DENO_CERT` and
   * `--cert`, which fetch honours, so a private CA would break it; such bodies then go
   * through fetch as a stream (slow for large bodies: send pieces instead).
   */
  get streamsBodies(): boolean {
    return this.#httpClient !== null && this.baseUrl.startsWith("http:");
  }

  [Symbol.dispose](): void {
    this.#outage[Symbol.dispose]();
    this.#httpClient?.close();
    this.#httpClient = null;
  }

  /**
   * Sends a request with the API key, retrying network errors, timeouts, 5xx and 429 with
   * backoff; any other error status is an AppError from the response body. `prepare`
   * builds each attempt (and may call `touch` to show progress to the idle watchdog);
   * `accept` turns a 2xx response into the result.
   */
  async send<T>(
    label: string,
    prepare: (touch: () => void) => Attempt | Promise<Attempt>,
    options: {
      signal?: AbortSignal;
      accept: (response: Response) => Promise<T>;
      /** Overrides the client's retries for this request (0: one attempt). */
      retries?: number;
    },
  ): Promise<T> {
    const { signal } = options;
    const retries = options.retries ?? this.#retry.retries;
    for (let retry = 0;; retry++) {
      signal?.throwIfAborted();
      // While the server is unreachable, no request tries on its own.
      await this.#outage.whileActive(signal);
      const controller = new AbortController();
      const onAbort = () => controller.abort(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      let lastActivity = Date.now();
      const touch = () => {
        lastActivity = Date.now();
      };
      let timedOut = false;
      const watchdog = setInterval(() => {
        if (Date.now() - lastActivity > this.#idleTimeoutMs) {
          timedOut = true;
          controller.abort(new Error("timed out"));
        }
      }, Math.min(1000, this.#idleTimeoutMs));
      let attempt: Attempt | undefined;
      let reason: string;
      let retryAfter: number | null = null;
      let failure: AppError;
      let unreachable = false;
      try {
        attempt = await prepare(touch);
        const headers = new Headers(attempt.init.headers);
        headers.set("x-api-key", this.#apiKey);
        headers.set("user-agent", `ppclient/${VERSION}`);
        const init = { ...attempt.init, headers, signal: controller.signal };
        const { stream } = attempt;
        const response = stream === undefined
          ? await this.#fetch(attempt.url, init)
          : this.streamsBodies
          ? await streamedRequest(attempt.url, { ...init, method: init.method ?? "PUT" }, stream)
          : await this.#fetch(attempt.url, { ...init, body: streamOf(stream) });
        touch();
        if (response.ok) return await options.accept(response);
        failure = await errorOf(response, label);
        if (response.status < 500 && response.status !== 429) throw failure;
        reason = `${response.status} ${failure.message}`;
        unreachable = UNREACHABLE_STATUSES.has(response.status);
        retryAfter = retryAfterMs(response.headers.get("retry-after"));
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const bodyFailure = attempt?.bodyFailure?.();
        if (bodyFailure !== undefined) throw bodyFailure;
        if (error instanceof AppError) throw error;
        reason = timedOut
          ? `no progress for ${this.#idleTimeoutMs / 1000} s`
          : networkReason(error);
        failure = new AppError("unavailable", `${label} failed: ${reason}`, { cause: error });
        unreachable = true;
      } finally {
        clearInterval(watchdog);
        signal?.removeEventListener("abort", onAbort);
        await attempt?.release?.();
      }
      // One-attempt requests (appends to a resumable upload) leave the waiting to the
      // caller's next request.
      if (unreachable && retries > 0 && await this.#outage.wait(failure.message, signal)) {
        retry = -1; // the server was gone: this request's own tries start again
        continue;
      }
      if (retry >= retries) {
        throw retry === 0 ? failure : new AppError(
          failure.code,
          `${failure.message} (after ${retry + 1} attempts)`,
          { cause: failure.cause, status: failure.status },
        );
      }
      const delayMs = backoffDelay(retry + 1, this.#retry, retryAfter);
      this.#onRetry?.({ request: label, retry: retry + 1, delayMs, reason });
      await sleep(delayMs, signal);
    }
  }
}

/**
 * A request body streamed from `source` that calls `touch` as it is pulled (progress for
 * the idle watchdog) and remembers its own failure, so the failure of the bytes (the file
 * changed) is told apart from a failure of the network and is never retried.
 */
export function trackedBody(
  source: ReadableStream<Uint8Array>,
  touch: () => void,
): { body: ReadableStream<Uint8Array>; failure: () => unknown; release: () => Promise<void> } {
  const reader = source.getReader();
  let failure: unknown;
  let failed = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      touch();
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        failed = true;
        failure = error;
        controller.error(error);
        return;
      }
      try {
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      } catch {
        // The request gave up on its body (the connection dropped): not the body's failure.
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return {
    body,
    failure: () => failed ? failure ?? new Error("The upload body failed") : undefined,
    release: () => reader.cancel().catch(() => {}),
  };
}

/** Parses a JSON answer with a schema; anything else is an `internal` AppError. */
export async function parseJson<T>(
  response: Response,
  schema: z.ZodType<T>,
  label: string,
): Promise<T> {
  let json: unknown;
  try {
    json = await response.json();
  } catch (error) {
    throw new AppError("internal", `The server's answer to ${label} is not JSON`, { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "internal",
      `The server's answer to ${label} is not understood: "${
        issue.path.join(".")
      }" ${issue.message}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

/** Turns an error response into an AppError, reading at most 64 KiB of its body. */
async function errorOf(response: Response, label: string): Promise<AppError> {
  const text = await readBounded(response, ERROR_BODY_LIMIT);
  let detail: string | null = null;
  let code = codeOfStatus(response.status);
  try {
    const json: unknown = JSON.parse(text);
    const problem = problemSchema.safeParse(json);
    if (problem.success) {
      detail = problem.data.detail;
      code = problem.data.code ?? code;
    } else {
      const classic = classicErrorSchema.safeParse(json);
      const health = healthErrorSchema.safeParse(json);
      if (classic.success) detail = classic.data.detail;
      else if (health.success) detail = health.data;
    }
  } catch {
    // Not JSON: fall back to the status line.
  }
  const reason = detail ?? (response.statusText || "no details");
  const cause: ServerDetail | undefined = detail === null
    ? undefined
    : { status: response.status, detail: short(detail, 300) };
  return new AppError(code, `${label} failed with ${response.status}: ${short(reason, 300)}`, {
    status: response.status,
    cause,
  });
}

async function readBounded(response: Response, limit: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch {
    // A body cut short still says something.
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(total, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.byteLength - offset);
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

function networkReason(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`.slice(0, 300);
  }
  return "network error";
}
