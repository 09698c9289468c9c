/**
 * Sends the blobs a /v1 server says it lacks, the cheapest way for each size:
 *
 * - Small blobs (at most the server's per-blob cap of a blob batch) are read, verified,
 *   and grouped into `POST /v1/blobs/batch` requests; a batch is sent when it is full
 *   (bytes or count) or when no blob joined it for a short while, with a few batches in
 *   flight. Each batch is one reused buffer (an "arena") holding the request body itself:
 *   every frame's header is written and the file read right after it, so sending a batch
 *   copies nothing and small blobs cost no allocation of their own.
 * - Larger blobs below `resumableAbove` are read whole into a reused buffer, verified,
 *   and sent with `PUT /v1/blobs/{digest}`; larger ones through a resumable upload in
 *   pieces of that buffer's size. A few at a time, each holding one buffer.
 * - A server without resumable uploads gets large blobs streamed from disk with `PUT`.
 *
 * Memory held is fixed: the arenas (batch being filled + batches in flight) and one large
 * buffer per large upload in flight. Every blob is verified against its digest while it
 * is read (a file that changed since it was hashed fails with a `conflict` AppError and
 * is never sent as that digest). Uploads of one digest coalesce: a second file waits for
 * the first upload ("joined").
 */
import { frameHeader } from "../../lib/wire/blob_batch.ts";
import type { Digest } from "../../lib/digest.ts";
import { AppError, short } from "../../lib/errors.ts";
import { InFlightUploads } from "./inflight_uploads.ts";
import { resumableUpload, type UploadLedger } from "./resumable_upload.ts";
import type { RetryPolicy } from "../http/retry.ts";
import { Semaphore } from "../async/semaphore.ts";
import { type HashedFile, openVerifiedBody, readVerified } from "./upload_body.ts";
import type { V1Client } from "../http/v1_client.ts";

export interface UploadLimits {
  /** Largest blob sent in a blob batch; 0: no blob batches. */
  smallBlobBytes: number;
  /** Largest blob batch request, framing included. */
  batchBytes: number;
  /** Most blobs in one blob batch. */
  batchCount: number;
  /**
   * Size of the buffer of a large upload: blobs smaller than this are sent whole with one
   * `PUT`; larger ones in pieces of this size through a resumable upload.
   */
  largeBufferBytes: number;
  /** Whether the server has resumable uploads (else large blobs are streamed). */
  resumable: boolean;
  /** Blob batches in flight at once. */
  batchFlights: number;
  /** Large blobs uploading at once. */
  largeUploads: number;
  /** A batch nobody added to for this long is sent. */
  idleFlushMs: number;
}

export const DEFAULT_CLIENT_BATCH_BYTES = 4 * 1024 * 1024;
export const DEFAULT_LARGE_BUFFER_BYTES = 8 * 1024 * 1024;
const NEWLINE = 0x0a;
const encoder = new TextEncoder();

/** The limits to use with a server of these capabilities. */
export function uploadLimitsFor(
  v1: V1Client,
  largeBufferBytes = DEFAULT_LARGE_BUFFER_BYTES,
): UploadLimits {
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
    largeBufferBytes: Math.max(largeBufferBytes, smallBlobBytes + 1),
    resumable: v1.has("uploads.resumable"),
    batchFlights: 2,
    largeUploads: 2,
    idleFlushMs: 20,
  };
}

/** One blob in a batch: its frame sits at `offset` in the batch's arena. */
interface Entry {
  file: HashedFile;
  offset: number;
  bytes: Uint8Array<ArrayBuffer>;
  done: PromiseWithResolvers<void>;
}

export interface UploaderOptions {
  retry: RetryPolicy;
  /** Aborts every upload in flight. */
  signal: AbortSignal;
  onResume?: (event: { digest: Digest; offset: number; reason: string }) => void;
  /** Progress: blob bytes the server took (large uploads piece by piece). */
  onSent?: (bytes: number) => void;
  /** Unfinished resumable uploads across runs (the scan cache). */
  ledger?: UploadLedger;
}

export class BlobUploader {
  readonly limits: UploadLimits;
  #v1: V1Client;
  #options: UploaderOptions;
  #coalesce = new InFlightUploads();
  #large: Semaphore;
  #largeBuffers: Uint8Array<ArrayBuffer>[] = [];
  #current: Entry[] = [];
  /** Reads in progress into the current arena. */
  #reading = 0;
  #flights = 0;
  #flushWanted = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters: (() => void)[] = [];
  #running = new Set<Promise<void>>();
  /** Free arenas (`batchBytes` each), the current batch's arena and how much of it is used. */
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
    return this.#large.with(() => this.#alone(file), this.#options.signal);
  }

  /** A blob sent on its own (PUT or resumable), holding one large buffer. */
  async #alone(file: HashedFile): Promise<void> {
    const { signal, retry } = this.#options;
    const { largeBufferBytes } = this.limits;
    const { onSent } = this.#options;
    if (file.size >= largeBufferBytes && !this.limits.resumable) {
      await this.#v1.putBlob(file.digest, () => openVerifiedBody(file), signal);
      onSent?.(file.size);
      return;
    }
    const buffer = this.#largeBuffers.pop() ?? new Uint8Array(largeBufferBytes);
    try {
      if (file.size < largeBufferBytes) {
        const bytes = await readVerified(file, buffer.subarray(0, file.size + 1));
        await this.#v1.putBlob(file.digest, bytes, signal);
        onSent?.(file.size);
      } else {
        await resumableUpload(this.#v1, file, {
          buffer,
          signal,
          retry,
          onResume: this.#options.onResume,
          onSent,
          ledger: this.#options.ledger,
        });
      }
    } finally {
      this.#largeBuffers.push(buffer);
    }
  }

  async #small(file: HashedFile): Promise<void> {
    const { signal } = this.#options;
    const header = encoder.encode(frameHeader(file.digest, file.size));
    // The frame: its header, the bytes, and one byte more (a file that grew shows when it
    // is read; then it becomes a newline, which the framing skips between frames).
    const need = header.length + file.size + 1;
    while (!this.#fits(need)) {
      signal.throwIfAborted();
      this.#flushWanted = true;
      this.#tryFlush();
      await this.#changed();
    }
    signal.throwIfAborted();
    const arena = this.#arena ??= this.#arenas.pop() ?? new Uint8Array(this.limits.batchBytes);
    const offset = this.#arenaUsed;
    this.#arenaUsed += need;
    this.#reading++;
    const frame = arena.subarray(offset, offset + need);
    frame.set(header);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await readVerified(file, frame.subarray(header.length));
    } catch (error) {
      frame.fill(NEWLINE); // a gap of empty lines: skipped by the server
      this.#reading--;
      this.#notify();
      this.#tryFlush();
      throw error;
    }
    frame[need - 1] = NEWLINE;
    const entry: Entry = { file, offset, bytes, done: Promise.withResolvers<void>() };
    this.#current.push(entry);
    this.#reading--;
    if (this.#current.length >= this.limits.batchCount || this.#arenaUsed >= this.#fullAt()) {
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
    if (this.#current.length === 0 && this.#reading === 0) return true;
    return this.#current.length + this.#reading < this.limits.batchCount &&
      this.#arenaUsed + need <= this.limits.batchBytes && !this.#flushWanted;
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
    // Frames in arena order, which is the order the server answers in.
    const entries = this.#current.sort((a, b) => a.offset - b.offset);
    const arena = this.#arena!;
    const body = arena.subarray(0, this.#arenaUsed);
    this.#current = [];
    this.#arena = null;
    this.#arenaUsed = 0;
    this.#flushWanted = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flights++;
    const flight = this.#flight(entries, body).finally(() => {
      this.#arenas.push(arena);
      this.#flights--;
      this.#running.delete(flight);
      this.#notify();
      this.#tryFlush();
    });
    this.#running.add(flight);
    this.#notify();
  }

  async #flight(entries: Entry[], body: Uint8Array<ArrayBuffer>): Promise<void> {
    let answer;
    try {
      answer = await this.#v1.uploadBlobBatch(body, entries.length, this.#options.signal);
    } catch (error) {
      for (const entry of entries) entry.done.reject(error);
      return;
    }
    for (const [index, result] of answer.results.entries()) {
      const entry = entries[index];
      if (result.digest !== entry.file.digest) {
        entry.done.reject(
          new AppError("internal", `The server answered blob ${index} for another digest`),
        );
        continue;
      }
      switch (result.outcome) {
        case "stored":
        case "already_stored":
          this.#options.onSent?.(entry.file.size);
          entry.done.resolve();
          break;
        case "too_large": {
          // The server's per-blob cap is lower than announced: send this one alone
          // (a copy: the batch's arena is reused once the batch is answered).
          const bytes = entry.bytes.slice();
          const alone = this.#large.with(
            () => this.#v1.putBlob(entry.file.digest, bytes, this.#options.signal),
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
