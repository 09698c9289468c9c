/**
 * Records when each API key was last used, off the request path: a request only notes the
 * use; the `last_used_at` write runs in the background, at most once a minute per key and
 * one at a time per key (uses meanwhile coalesce into it). A failed write (a full disk, a
 * metadata store away) never fails a request: it is logged once, and again only after a
 * write has succeeded in between.
 */
import type { ApiKeyStore } from "../../lib/metadata_store/mod.ts";
import { AppError } from "../../lib/errors.ts";

export const TOUCH_INTERVAL_MS = 60_000;

export interface KeyUsageOptions {
  apiKeys: ApiKeyStore;
  /** Where a failed write is reported (once per run of failures). */
  logError: (error: unknown) => void;
  intervalMs?: number;
}

export class KeyUsage {
  #apiKeys: ApiKeyStore;
  #logError: (error: unknown) => void;
  #intervalMs: number;
  #lastWritten = new Map<string, number>();
  #writing = new Map<string, Promise<void>>();
  #failing = false;

  constructor(options: KeyUsageOptions) {
    if (!options.apiKeys) throw new TypeError("KeyUsage needs an ApiKeyStore");
    this.#apiKeys = options.apiKeys;
    this.#logError = options.logError;
    this.#intervalMs = options.intervalMs ?? TOUCH_INTERVAL_MS;
  }

  /** Notes a use of key `id` now; never waits, never throws. */
  note(id: string, now = Date.now()): void {
    if (this.#writing.has(id)) return;
    if (now - (this.#lastWritten.get(id) ?? -Infinity) < this.#intervalMs) return;
    this.#lastWritten.set(id, now);
    const write = this.#write(id, new Date(now)).finally(() => this.#writing.delete(id));
    this.#writing.set(id, write);
  }

  /** Resolves when the writes started so far have ended (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all(this.#writing.values());
  }

  async #write(id: string, at: Date): Promise<void> {
    try {
      await this.#apiKeys.touch(id, at);
      this.#failing = false;
    } catch (error) {
      if (this.#failing) return;
      this.#failing = true;
      this.#logError(
        new AppError("unavailable", "Cannot record when an API key was last used", {
          cause: error,
        }),
      );
    }
  }
}
