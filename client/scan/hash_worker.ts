/**
 * A hash worker: a thread that hashes the files of each batch it is sent, one after the
 * other with synchronous reads (`hashFileSync`), and answers the outcomes in the same
 * order. See `hash_pool.ts`.
 */
/// <reference lib="deno.worker" />
import { hashFileSync, type HashOutcome } from "./hash.ts";
import type { HashJob } from "./hash_pool.ts";

/** Small files fit one read; larger ones take several into this buffer. */
const buffer = new Uint8Array(256 * 1024);

self.onmessage = (event: MessageEvent<{ jobs: HashJob[]; maxBytes: number }>) => {
  const { jobs, maxBytes } = event.data;
  const outcomes: (HashOutcome | null)[] = jobs.map((job) =>
    hashFileSync(job.path, buffer, { requireDevice: job.requireDevice, maxBytes })
  );
  self.postMessage(outcomes);
};
