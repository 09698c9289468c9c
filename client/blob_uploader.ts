/**
 * Sends the blobs a /v1 server says it lacks, the cheapest way for each size:
 *
 * - Small blobs (at most the server's per-blob cap of a blob batch) are read whole,
 *   verified, and grouped into `POST /v1/blobs/batch` requests; a batch is sent when it is
 *   full (bytes or count) or when no blob joined it for a short while, with a few batches
 *   in flight. Bytes held are bounded: the batch being filled (its space is reserved
 *   before a file is read) plus the batches in flight.
 * - Larger blobs stream from disk with `PUT /v1/blobs/{digest}`, and above
 *   `resumableAbove` through a resumable upload; a few at a time.
 *
 * Every blob is verified against its digest while it is read (a file that changed since
 * it was hashed fails with a `conflict` AppError and is never sent as that digest). Uploads
 * of one digest coalesce: a second file waits for the first upload ("joined").
 */
import { frameHeader } from "../lib/blob_batch_framing.ts";
import type { Digest } from "../lib/digest.ts";
import { AppError, short } from "../lib/errors.ts";
import { InFlightUploads } from "./inflight_uploads.ts";
import { resumableUpload } from "./resumable_upload.ts";
import type { RetryPolicy } from "./retry.ts";
import { Semaphore } from "./semaphore.ts";
import { type HashedFile, openVerifiedBody, readVerified } from "./upload_body.ts";
import type { V1Client } from "./v1_client.ts";

export interface UploadLimits {
  /** Largest blob sent in a blob batch; 0: no blob batches. */
  smallBlobBytes: number;
  /** Largest blob batch request, framing included. */
  batchBytes: number;
  /** Most blobs in one blob batch. */
  batchCount: number;
  /** Blobs larger than this go through a resumable upload (when the server has them). */
  resumableAbove: number;
  /** Blob batches in flight at once. */
  batchFlights: number;
  /** Large blobs streaming at once. */
  largeUploads: number;
  /** A batch nobody added to for this long is sent. */
  idleFlushMs: number;
}

export const DEFAULT_CLIENT_BATCH_BYTES = 4 * 1024 * 1024;
export const DEFAULT_RESUMABLE_ABOVE = 64 * 1024 * 1024;

/** The limits to use with a server of these capabilities. */
export function uploadLimitsFor(v1: V1Client, resumableAbove = DEFAULT_RESUMABLE_ABOVE) {
  const caps = v1.capabilities.limits;
  const batching = v1.has("blobs.batch") && caps.blob_batch_count > 0;
  const batchBytes = Math.min(caps.blob_batch_bytes, DEFAULT_CLIENT_BATCH_BYTES);
  const smallBlobBytes = batching
    ? Math.max(0, Math.min(caps.blob_batch_blob_bytes, batchBytes - 128))
    : 0;
  return {
    smallBlobBytes,
    batchBytes,
    batchCount: Math.min(caps.blob_batch_count, 10_000),
    resumableAbove: v1.has("uploads.resumable") ? resumableAbove : Number.POSITIVE_INFINITY,
    batchFlights: 2,
    largeUploads: 2,
    idleFlushMs: 20,
  } satisfies UploadLimits;
}

interface Entry {
  file: HashedFile;
  bytes: Uint8Array<ArrayBuffer>;
  done: PromiseWithResolvers<void>;
}

export interface UploaderOptions {
  retry: RetryPolicy;
  /** Aborts every upload in flight. */
  signal: AbortSignal;
  onResume?: (event: { digest: Digest; offset: number; reason: string }) => void;
}

export class BlobUploader {
  readonly limits: UploadLimits;
  #v1: V1Client;
  #options: UploaderOptions;
  #coalesce = new InFlightUploads();
  #large: Semaphore;
  #current: Entry[] = [];
  /** Bytes reserved in the batch being filled, reads in progress included. */
  #reserved = 0;
  #reading = 0;
  #flights = 0;
  #flushWanted = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters: (() => void)[] = [];
  #running = new Set<Promise<void>>();
  /**
   * Batch buffers ("arenas", `batchBytes` each): the batch being filled reads its files
   * into one, each batch in flight holds one. Made when first needed, then reused, so
   * small blobs cost no allocation of their own.
   */
  #arenas: Uint8Array<ArrayBuffer>[] = [];
  #arena: Uint8Array<ArrayBuffer> | null = null;
  #arenaUsed = 0;

  constructor(v1: V1Client, limits: UploadLimits, options: UploaderOptions) {
    this.#v1 = v1;
    this.limits = limits;
    this.#options = options;
    this.#large = new Semaphore(limits.largeUploads);
    options.signal.addEventListener("abort", () => this.#notify(), { once: true });
  }

  /**
   * Uploads a hashed file's blob, or waits for an upload of the same digest already
   * running: "uploaded" when this call sent the bytes, "joined" otherwise.
   */
  upload(file: HashedFile): Promise<"uploaded" | "joined"> {
    return this.#coalesce.run(file.digest, () => this.#send(file));
  }

  /** Sends the batch being filled and waits until nothing is in flight. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.#current.length > 0 || this.#reading > 0) {
        this.#flushWanted = true;
        this.#tryFlush();
      }
      if (this.#running.size > 0) await Promise.allSettled(this.#running);
      else if (this.#current.length > 0 || this.#reading > 0) await this.#changed();
      else break;
      if (this.#options.signal.aborted) break;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #send(file: HashedFile): Promise<void> {
    if (file.size <= this.limits.smallBlobBytes) return this.#small(file);
    return this.#large.with(() => this.#stream(file), this.#options.signal);
  }

  async #stream(file: HashedFile): Promise<void> {
    const { signal, retry } = this.#options;
    if (file.size > this.limits.resumableAbove) {
      await resumableUpload(this.#v1, file, { signal, retry, onResume: this.#options.onResume });
    } else {
      await this.#v1.putBlob(file.digest, file.size, () => openVerifiedBody(file), signal);
    }
  }

  async #small(file: HashedFile): Promise<void> {
    const { signal } = this.#options;
    const need = frameHeader(file.digest, file.size).length + file.size;
    while (!this.#fits(need)) {
      signal.throwIfAborted();
      this.#flushWanted = true;
      this.#tryFlush();
      await this.#changed();
    }
    signal.throwIfAborted();
    this.#reserved += need;
    this.#reading++;
    // The wire needs a header more than the file's bytes, the arena one byte more.
    this.#arena ??= this.#arenas.pop() ?? new Uint8Array(this.limits.batchBytes);
    const region = this.#arena.subarray(this.#arenaUsed, this.#arenaUsed + file.size + 1);
    this.#arenaUsed += file.size + 1;
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await readVerified(file, region);
    } catch (error) {
      this.#reserved -= need;
      this.#reading--;
      this.#notify();
      this.#tryFlush();
      throw error;
    }
    const entry: Entry = { file, bytes, done: Promise.withResolvers<void>() };
    this.#current.push(entry);
    this.#reading--;
    if (this.#current.length >= this.limits.batchCount || this.#reserved >= this.#fullAt()) {
      this.#flushWanted = true;
    } else {
      this.#armTimer();
    }
    this.#tryFlush();
    await entry.done.promise;
  }

  /** A batch this full takes no typical blob more: send it. */
  #fullAt(): number {
    return this.limits.batchBytes - Math.min(this.limits.smallBlobBytes, 64 * 1024);
  }

  #fits(need: number): boolean {
    const empty = this.#current.length === 0 && this.#reading === 0;
    if (empty) return true;
    return this.#current.length + this.#reading < this.limits.batchCount &&
      this.#reserved + need <= this.limits.batchBytes && !this.#flushWanted;
  }

  #armTimer(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flushWanted = true;
      this.#tryFlush();
    }, this.limits.idleFlushMs);
  }

  #tryFlush(): void {
    if (this.#reading > 0) return;
    if (this.#current.length === 0) {
      this.#flushWanted = false;
      this.#arenaUsed = 0;
      return;
    }
    if (!this.#flushWanted || this.#flights >= this.limits.batchFlights) return;
    const entries = this.#current;
    const arena = this.#arena;
    this.#current = [];
    this.#reserved = 0;
    this.#arena = null;
    this.#arenaUsed = 0;
    this.#flushWanted = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flights++;
    const flight = this.#flight(entries).finally(() => {
      if (arena !== null) this.#arenas.push(arena);
      this.#flights--;
      this.#running.delete(flight);
      this.#notify();
      this.#tryFlush();
    });
    this.#running.add(flight);
    this.#notify();
  }

  async #flight(entries: Entry[]): Promise<void> {
    let answer;
    try {
      answer = await this.#v1.uploadBlobBatch(
        entries.map((e) => ({ digest: e.file.digest, bytes: e.bytes })),
        this.#options.signal,
      );
    } catch (error) {
      for (const entry of entries) entry.done.reject(error);
      return;
    }
    for (const [index, result] of answer.results.entries()) {
      const entry = entries[index];
      switch (result.outcome) {
        case "stored":
        case "already_stored":
          entry.done.resolve();
          break;
        case "too_large": {
          // The server's per-blob cap is lower than announced: send this one alone
          // (a copy: the batch's arena is reused once the batch is answered).
          const bytes = entry.bytes.slice();
          const alone = this.#large.with(
            () =>
              this.#v1.putBlob(
                entry.file.digest,
                entry.file.size,
                () => Promise.resolve(new Blob([bytes]).stream()),
                this.#options.signal,
              ),
            this.#options.signal,
          ).then(() => entry.done.resolve(), (error) => entry.done.reject(error));
          this.#running.add(alone);
          alone.finally(() => this.#running.delete(alone));
          break;
        }
        case "digest_mismatch":
          entry.done.reject(
            new AppError(
              "digest_mismatch",
              result.message ?? `The server found other bytes for "${short(entry.file.digest)}"`,
            ),
          );
          break;
        case "failed":
          entry.done.reject(
            new AppError("unavailable", result.message ?? "The server could not store the blob"),
          );
          break;
      }
    }
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #notify(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}
