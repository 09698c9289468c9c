/**
 * Uploads of one digest within a scan coalesce: while a file's bytes are being uploaded,
 * another file with the same digest waits for that upload instead of sending the same
 * bytes again. Running uploads and the most recent successful ones are remembered (a
 * file registered just before its twin's upload finished needs no upload either), so
 * memory stays bounded whatever the number of files.
 */
import type { Digest } from "../../lib/digest.ts";

const RECENT_LIMIT = 4096;

export class InFlightUploads {
  #running = new Map<Digest, Promise<boolean>>();
  #recent = new Set<Digest>();

  /**
   * Runs `upload` unless an upload of `digest` is running; then waits for it and
   * answers "joined" if it succeeded (or uploads itself if it failed).
   */
  async run(digest: Digest, upload: () => Promise<void>): Promise<"uploaded" | "joined"> {
    if (this.#recent.has(digest)) return "joined";
    for (;;) {
      const running = this.#running.get(digest);
      if (running === undefined) break;
      if (await running) return "joined";
    }
    const attempt = upload();
    const settled = attempt.then(() => true, () => false);
    this.#running.set(digest, settled);
    try {
      await attempt;
      this.#remember(digest);
      return "uploaded";
    } finally {
      if (this.#running.get(digest) === settled) this.#running.delete(digest);
    }
  }

  #remember(digest: Digest): void {
    this.#recent.add(digest);
    if (this.#recent.size > RECENT_LIMIT) {
      const oldest = this.#recent.values().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
  }

  /** Uploads running now. */
  get size(): number {
    return this.#running.size;
  }
}
