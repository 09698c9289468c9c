/**
 * Group commit for SQLite writes: writes that arrive in the same turn of the event loop
 * share one transaction, each inside its own savepoint, so concurrent requests pay one
 * commit instead of one each, and one failing write never takes the others with it.
 */
import type { DatabaseSync } from "node:sqlite";
import { clearImmediate, setImmediate } from "node:timers";
import { publishGroupCommit } from "../../store_channels.ts";

interface Job {
  body: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  #queue: Job[] = [];
  #timer: ReturnType<typeof setImmediate> | undefined;

  constructor(
    private readonly db: DatabaseSync,
    /** Turns a failure into the error callers see. */
    private readonly failure: (error: unknown) => unknown,
  ) {}

  /** Runs `body` inside a transaction shared with the other writes of this turn. */
  run<T>(body: () => T): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#queue.push({ body, resolve: resolve as (value: unknown) => void, reject });
    // setImmediate runs after this turn's I/O callbacks (setTimeout(0) waits ~2 ms here).
    this.#timer ??= setImmediate(() => this.flush());
    return promise;
  }

  /** Commits what is queued now (also called before the database closes). */
  flush(): void {
    if (this.#timer !== undefined) clearImmediate(this.#timer);
    this.#timer = undefined;
    const jobs = this.#queue.splice(0);
    if (jobs.length === 0) return;
    publishGroupCommit({ store: "sqlite", size: jobs.length });
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.db.exec("BEGIN IMMEDIATE");
      for (const job of jobs) {
        this.db.exec("SAVEPOINT job");
        try {
          outcomes.push({ ok: true, value: job.body() });
          this.db.exec("RELEASE job");
        } catch (error) {
          this.db.exec("ROLLBACK TO job");
          this.db.exec("RELEASE job");
          outcomes.push({ ok: false, error });
        }
      }
      this.db.exec("COMMIT");
    } catch (error) {
      if (this.db.isOpen && this.db.isTransaction) this.db.exec("ROLLBACK");
      for (const job of jobs) job.reject(this.failure(error));
      return;
    }
    jobs.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(this.failure(outcome.error));
    });
  }
}
