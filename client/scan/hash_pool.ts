/**
 * Hashing on every core: a pool of hash workers (threads, see `hash_worker.ts`) that the
 * scan hands its small files to. Jobs are sent in batches, so the cost of a message
 * between threads is shared by many files: a job that comes while every worker is busy
 * waits, and a worker that finishes takes up to `BATCH` waiting jobs at once. Under load
 * batches fill up by themselves; when little is going on, a job goes out alone at once.
 *
 * Only files up to `maxBytes` are hashed in a worker (one read buffer each); a larger
 * file comes back as null, for the caller to hash on the main thread with `hashFile`,
 * which can be aborted between reads and reports progress as it goes. Memory is bounded:
 * the workers, one 256 KiB buffer each, and the jobs in flight (a path each).
 *
 * Why threads: one Deno process does its JavaScript (the hash update calls, the promise of
 * every read, the messages) on one thread, and for small files that per-file work, not
 * SHA-256 itself, is most of the cost; several workers let it run on several cores.
 */
import type { HashOutcome } from "./hash.ts";

export interface HashJob {
  path: string;
  requireDevice?: number;
}

/** Jobs one message carries at most. */
const BATCH = 64;

/** Files hashed in a worker are at most this large by default. */
export const POOL_MAX_BYTES = 1024 * 1024;

interface Pending {
  job: HashJob;
  done: PromiseWithResolvers<HashOutcome | null>;
}

interface Slot {
  worker: Worker;
  /** The batch it is hashing, or null when idle. */
  busy: Pending[] | null;
}

export class HashPool implements Disposable {
  readonly workers: number;
  readonly maxBytes: number;
  #slots: Slot[];
  #waiting: Pending[] = [];
  #scheduled = false;
  #closed: unknown = null;

  constructor(workers: number, options: { maxBytes?: number } = {}) {
    if (!Number.isInteger(workers) || workers < 1) {
      throw new RangeError(`A hash pool needs at least one worker, not ${workers}`);
    }
    this.workers = workers;
    this.maxBytes = options.maxBytes ?? POOL_MAX_BYTES;
    this.#slots = Array.from({ length: workers }, () => this.#start());
  }

  /**
   * The outcome of hashing the file, or null when it is larger than `maxBytes` (hash it
   * yourself). Rejects once the pool is closed.
   */
  hash(job: HashJob): Promise<HashOutcome | null> {
    if (this.#closed !== null) return Promise.reject(this.#closed);
    const done = Promise.withResolvers<HashOutcome | null>();
    this.#waiting.push({ job, done });
    if (!this.#scheduled) {
      // Jobs queued in the same turn go out together.
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#dispatch();
      });
    }
    return done.promise;
  }

  /** Stops the workers; jobs not answered yet reject with `reason`. */
  close(reason: unknown = new Error("The hash pool was closed")): void {
    if (this.#closed !== null) return;
    this.#closed = reason;
    for (const slot of this.#slots) {
      slot.worker.terminate();
      for (const pending of slot.busy ?? []) pending.done.reject(reason);
      slot.busy = null;
    }
    for (const pending of this.#waiting.splice(0)) pending.done.reject(reason);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #start(): Slot {
    const worker = new Worker(new URL("./hash_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const slot: Slot = { worker, busy: null };
    worker.onmessage = (event: MessageEvent<(HashOutcome | null)[]>) => {
      const batch = slot.busy ?? [];
      slot.busy = null;
      for (const [index, pending] of batch.entries()) pending.done.resolve(event.data[index]);
      this.#dispatch();
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.close(new Error(`A hash worker failed: ${event.message}`));
    };
    return slot;
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#waiting.length === 0 || this.#closed !== null) return;
      if (slot.busy !== null) continue;
      // Share what waits among the idle workers rather than giving it all to the first.
      const idle = this.#slots.filter((s) => s.busy === null).length;
      const take = Math.min(BATCH, Math.ceil(this.#waiting.length / idle));
      const batch = this.#waiting.splice(0, take);
      slot.busy = batch;
      slot.worker.postMessage({ jobs: batch.map((p) => p.job), maxBytes: this.maxBytes });
    }
  }
}

/** Hash workers for a machine of `cores` cores: all of them, up to 8 (memory: ~10 MiB each). */
export function defaultHashWorkers(cores: number): number {
  return Math.max(1, Math.min(8, cores));
}
