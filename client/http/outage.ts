/**
 * The server unreachable, for the whole client at once. The first request that finds the
 * server gone (no connection, a timeout, 502/503/504) opens an outage: one line says so
 * and until when the client keeps trying, every request (those in flight and new ones)
 * waits on it instead of retrying on its own, and one probe (`GET /health`) asks with
 * capped exponential backoff and jitter whether the server is back. When it is, the
 * waiting requests go on; when the budget (`--retry-for`, counted from the outage's
 * start) is spent, they all fail with the one `unavailable` AppError of the outage,
 * which stops a scan as a whole rather than failing its files one by one.
 */
import { AppError } from "../../lib/errors.ts";
import { sleep } from "./retry.ts";

export interface OutageOptions {
  /** How long an outage is waited out before giving up (0: not at all). */
  budgetMs: number;
  /** Backoff between probes: base, doubled each time up to the cap, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Null when the server answers (and is healthy) again, else why not. */
  probe: (signal: AbortSignal) => Promise<string | null>;
  /** The server, for messages. */
  server: string;
  onPause?: (event: { reason: string; until: Date }) => void;
  onResume?: (event: { pausedMs: number }) => void;
  random?: () => number;
}

/** Marks the AppError that ends an outage (see `isOutage`). */
const OUTAGE = Object.freeze({ outage: true });

/** True for the error of an outage whose budget ran out: the server is gone. */
export function isOutage(error: unknown): boolean {
  return error instanceof AppError && error.cause === OUTAGE;
}

export class Outage implements Disposable {
  #options: OutageOptions;
  #current: Promise<boolean> | null = null;
  #stop = new AbortController();

  constructor(options: OutageOptions) {
    this.#options = options;
  }

  /** True while the server is unreachable. */
  get active(): boolean {
    return this.#current !== null;
  }

  /** Waits while an outage is on (a request about to start); resolves at once otherwise. */
  async whileActive(signal?: AbortSignal): Promise<void> {
    if (this.#current !== null) await abortable(this.#current, signal).catch(() => {});
  }

  /**
   * A request found the server unreachable (`reason`): waits until it is back. Answers
   * whether it was really gone (false: the first probe found it healthy, so the failure
   * was the request's own). Rejects with the outage's AppError when the budget runs out,
   * or with the signal's reason.
   */
  async wait(reason: string, signal?: AbortSignal): Promise<boolean> {
    if (this.#options.budgetMs <= 0) return false;
    const current = this.#current ??= this.#ride(reason).finally(() => {
      this.#current = null;
    });
    return await abortable(current, signal);
  }

  async #ride(reason: string): Promise<boolean> {
    const { budgetMs, baseDelayMs, maxDelayMs, probe, onPause, onResume } = this.#options;
    const random = this.#options.random ?? Math.random;
    const started = Date.now();
    const until = started + budgetMs;
    const signal = this.#stop.signal;
    // The pause is announced once a probe confirms the server is gone (a failure that
    // was the request's own pauses nothing).
    let paused = false;
    let last = reason;
    for (let attempt = 0;; attempt++) {
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
      // Equal jitter: half the delay fixed, half random, so probes never bunch up at 0.
      const delay = Math.min(ceiling / 2 + random() * ceiling / 2, until - Date.now());
      if (delay > 0) await sleep(delay, signal);
      let still: string | null;
      try {
        still = await probe(AbortSignal.any([signal, AbortSignal.timeout(10_000)]));
      } catch (error) {
        if (signal.aborted) throw error;
        still = error instanceof Error ? error.message : "no answer";
      }
      if (still === null) {
        if (attempt > 0 || paused) onResume?.({ pausedMs: Date.now() - started });
        return attempt > 0;
      }
      last = still;
      if (!paused) {
        paused = true;
        onPause?.({ reason, until: new Date(until) });
      }
      if (Date.now() >= until) {
        throw new AppError(
          "unavailable",
          `The server at "${this.#options.server}" could not be used for ${
            formatSpan(budgetMs)
          } (--retry-for): ${last}`,
          { cause: OUTAGE },
        );
      }
    }
  }

  [Symbol.dispose](): void {
    this.#stop.abort(new DOMException("Closed", "AbortError"));
  }
}

function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** "5 min", "90 s", "1 h 30 min". */
export function formatSpan(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60 || (seconds < 120 && seconds % 60 !== 0)) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

/** A duration setting: "300" (seconds), "300s", "5m", "1h", "90m", "0". Null if not one. */
export function parseDuration(text: string): number | null {
  const match = text.trim().match(/^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/);
  if (!match) return null;
  const value = Number(match[1]);
  const unit = match[2] ?? "s";
  const factor = unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "h" ? 3_600_000 : 60_000;
  return Math.round(value * factor);
}
