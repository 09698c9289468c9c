/**
 * Registers hashed files with a /v1 server in batches (`POST /v1/files/batch`): a batch
 * is sent when it reaches the server's caps (files or bytes) or when its first file has
 * waited `flushMs`, with a couple of requests in flight. The files the server answers
 * `upload_required` go to the blob uploader; a batch stays "open" until each of its
 * files has an outcome, and at most `openBatches` are open, so the files between
 * registration and upload are bounded.
 *
 * A batch the server finds too large (413) is split in two and sent again. A batch that
 * fails after the retries fails its files (the scan goes on); a refused API key stops
 * the scan.
 */
import { AppError } from "../../lib/errors.ts";
import type { BlobUploader } from "./blob_uploader.ts";
import type { BoundedQueue } from "../async/bounded_queue.ts";
import { Semaphore } from "../async/semaphore.ts";
import type { FailReason } from "./stats.ts";
import { type KnownFile, ScanRun } from "./run.ts";
import type { FileResult, V1Client } from "../http/v1_client.ts";

export interface RegistrationLimits {
  batchFiles: number;
  /** Largest request body. */
  batchBytes: number;
  /** Registration requests in flight at once. */
  requests: number;
  /**
   * Batches registered whose uploads are not all done yet, at most. When the server is
   * slower than the disk, the files of these batches are what the client holds: few
   * keep the heap small (V8 lets the old generation grow to a multiple of what lives).
   */
  openBatches: number;
  /** A batch is sent at the latest this long after its first file joined it. */
  flushMs: number;
}

/** The limits to use with a server of these capabilities. */
export function registrationLimitsFor(v1: V1Client): RegistrationLimits {
  const caps = v1.capabilities.limits;
  return {
    batchFiles: Math.max(1, Math.min(caps.batch_files, 1000)),
    batchBytes: Math.max(64 * 1024, caps.batch_bytes),
    requests: 2,
    openBatches: 2,
    flushMs: 50,
  };
}

/** A file ready to register: hashed (or its digest known from the cache). */
export interface Registration extends KnownFile {
  size: number;
  /** Which file it was when it was hashed (checked again before its upload). */
  info: { dev: number; ino: number | null };
  /** The bytes were read this scan. */
  read: boolean;
  /** The file's metadata as JSON, and its length in bytes. */
  json: string;
  jsonBytes: number;
}

const ENVELOPE_BYTES = `{"files":[]}`.length;
/** JSON text holds printable ASCII only, unless it has other characters (then count UTF-8). */
const NON_ASCII = /[^ -~\t\n\r]/;

/** The JSON of a file's metadata with its size in bytes. */
export function jsonOf(value: unknown): { json: string; jsonBytes: number } {
  const json = JSON.stringify(value);
  const jsonBytes = NON_ASCII.test(json) ? new TextEncoder().encode(json).length : json.length;
  return { json, jsonBytes };
}

export class FileRegistrar {
  #v1: V1Client;
  #uploader: BlobUploader;
  #run: ScanRun;
  #limits: RegistrationLimits;
  #requests: Semaphore;
  #open: Semaphore;
  #batches = new Set<Promise<void>>();

  constructor(v1: V1Client, uploader: BlobUploader, run: ScanRun, limits: RegistrationLimits) {
    this.#v1 = v1;
    this.#uploader = uploader;
    this.#run = run;
    this.#limits = limits;
    this.#requests = new Semaphore(limits.requests);
    this.#open = new Semaphore(limits.openBatches);
  }

  /** Takes files from `queue` until it is closed and drained, and settles every one. */
  async run(queue: BoundedQueue<Registration>): Promise<void> {
    const { batchFiles, batchBytes, flushMs } = this.#limits;
    let batch: Registration[] = [];
    let bytes = ENVELOPE_BYTES;
    let firstAt = 0;
    const flush = async () => {
      const full = batch;
      batch = [];
      bytes = ENVELOPE_BYTES;
      await this.#open.acquire(this.#run.abandon);
      const task = this.#batch(full).finally(() => {
        this.#open.release();
        this.#batches.delete(task);
      });
      this.#batches.add(task);
    };
    try {
      for (;;) {
        const wait = batch.length === 0 ? undefined : Math.max(1, firstAt + flushMs - Date.now());
        const item = await queue.pop(wait);
        if (item === undefined) {
          if (queue.closed && queue.size === 0) break;
          if (batch.length > 0) await flush();
          continue;
        }
        if (
          batch.length > 0 &&
          (batch.length >= batchFiles || bytes + item.jsonBytes + 1 > batchBytes)
        ) await flush();
        if (batch.length === 0) firstAt = Date.now();
        batch.push(item);
        bytes += item.jsonBytes + 1;
      }
      if (batch.length > 0) await flush();
    } finally {
      await Promise.allSettled(this.#batches);
    }
  }

  /** Registers one batch and waits until each of its files has an outcome. */
  async #batch(files: Registration[]): Promise<void> {
    let answer;
    try {
      answer = await this.#requests.with(
        () =>
          this.#v1.registerFiles(
            `{"files":[${files.map((f) => f.json).join(",")}]}`,
            files.length,
            this.#run.abandon,
          ),
        this.#run.abandon,
      );
    } catch (error) {
      if (this.#run.abandon.aborted) return; // abandoned
      if (ScanRun.isFatal(error)) {
        this.#run.fail(error);
        return;
      }
      if (error instanceof AppError && error.code === "payload_too_large" && files.length > 1) {
        const half = Math.ceil(files.length / 2);
        await Promise.all([this.#batch(files.slice(0, half)), this.#batch(files.slice(half))]);
        return;
      }
      if (!(error instanceof AppError)) {
        this.#run.fail(error);
        return;
      }
      for (const file of files) {
        this.#run.remember(file, false);
        this.#fail(file, reasonOf(error), error.message);
      }
      return;
    }
    const uploads: Promise<void>[] = [];
    for (const file of files) file.json = ""; // registered: free it while uploads wait
    for (const [index, result] of answer.results.entries()) {
      const upload = this.#answered(files[index], result);
      if (upload) uploads.push(upload);
    }
    await Promise.all(uploads);
  }

  /** Acts on the server's answer for one file; a promise while its blob is uploading. */
  #answered(file: Registration, result: FileResult): Promise<void> | null {
    const run = this.#run;
    if (result.outcome === "invalid") {
      this.#fail(file, "rejected", `rejected by the server: ${result.message}`);
      return null;
    }
    if (result.sha256 !== file.digest) {
      this.#fail(file, "rejected", `the server registered digest "${result.sha256}"`);
      return null;
    }
    if (!result.upload_required) {
      run.remember(file, true);
      this.#done(file, "deduplicated");
      return null;
    }
    run.stats.move("registering", "uploading");
    return this.#uploader.upload(file).then(
      (how) => {
        run.remember(file, true);
        run.stats.move("uploading", null);
        run.settle(file.path, {
          kind: "registered",
          digest: file.digest,
          size: file.size,
          upload: how === "uploaded" ? "uploaded" : "deduplicated",
          read: file.read,
        });
      },
      (error) => {
        run.stats.move("uploading", null);
        if (run.abandon.aborted) return; // abandoned
        if (ScanRun.isFatal(error)) return run.fail(error);
        if (!(error instanceof AppError)) return run.fail(error);
        if (error.code === "conflict") {
          run.settle(file.path, { kind: "failed", reason: "changed", message: error.message });
          return;
        }
        run.remember(file, false);
        run.settle(file.path, { kind: "failed", reason: reasonOf(error), message: error.message });
      },
    );
  }

  #done(file: Registration, upload: "uploaded" | "deduplicated"): void {
    this.#run.stats.move("registering", null);
    this.#run.settle(file.path, {
      kind: "registered",
      digest: file.digest,
      size: file.size,
      upload,
      read: file.read,
    });
  }

  #fail(file: Registration, reason: FailReason, message: string): void {
    this.#run.stats.move("registering", null);
    this.#run.settle(file.path, { kind: "failed", reason, message });
  }
}

function reasonOf(error: AppError): FailReason {
  return error.code === "unavailable" || error.code === "rate_limited" ? "unavailable" : "rejected";
}
