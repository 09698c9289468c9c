/**
 * Uploads of one digest within a scan coalesce: while a file's bytes are being uploaded,
 * another file with the same digest waits for that upload instead of sending the same
 * bytes again. Only running uploads are remembered, so memory stays bounded by the
 * number of files in flight.
 */
import type { Digest } from "../lib/digest.ts";

export class InFlightUploads {
  #running = new Map<Digest, Promise<boolean>>();

  /**
   * Runs `upload` unless an upload of `digest` is running; then waits for it and
   * answers "joined" if it succeeded (or uploads itself if it failed).
   */
  async run(digest: Digest, upload: () => Promise<void>): Promise<"uploaded" | "joined"> {
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
      return "uploaded";
    } finally {
      if (this.#running.get(digest) === settled) this.#running.delete(digest);
    }
  }

  get size(): number {
    return this.#running.size;
  }
}
