/**
 * The scan over the /v1 batch routes, as a pipeline with bounded memory:
 *
 *   walk -> cache lookup -> hash (in the hash workers; large files `jobs` at once here)
 *        -> batch registration
 *        -> upload of what the server lacks (small-blob batches, PUT, resumable uploads)
 *
 * Stages are joined by bounded queues, so a stage that falls behind slows the ones before
 * it instead of letting files pile up; the registrar keeps a few batches open and the
 * uploader bounds the bytes it holds. Whatever the size of the tree, the files and bytes
 * in flight stay under fixed limits.
 *
 * Ctrl-C (`stop`) ends the walk; the files already taken go on to their outcome. When
 * `abandon` aborts, the queues are dropped and the files in them count as abandoned.
 */
import { BlobUploader, uploadLimitsFor } from "./blob_uploader.ts";
import { BoundedQueue } from "../async/bounded_queue.ts";
import { identityOf, sameIdentity } from "./file_cache.ts";
import { fileMetadataOf } from "./file_metadata.ts";
import {
  FileRegistrar,
  jsonOf,
  type Registration,
  registrationLimitsFor,
} from "./file_registrar.ts";
import { hashFile, type HashOutcome, ReadBuffers } from "./hash.ts";
import { defaultHashWorkers, HashPool } from "./hash_pool.ts";
import { Semaphore } from "../async/semaphore.ts";
import type { FileEvent, KnownFile, Lookup, ScanRun } from "./run.ts";
import type { V1Client } from "../http/v1_client.ts";

export interface BatchedScanOptions {
  /**
   * Buffer of each large upload (default 8 MiB): smaller blobs go whole with one PUT,
   * larger ones in pieces of this size through a resumable upload.
   */
  largeBufferBytes?: number;
  /**
   * Threads that hash small files (default from the core count, see `defaultHashWorkers`);
   * 0 hashes every file on the main thread.
   */
  hashWorkers?: number;
}

/** Files waiting for a hash worker or being hashed, per worker: enough to fill batches. */
const IN_FLIGHT_PER_HASH_WORKER = 128;

/**
 * Files hashed and waiting for the registrar. Few: the registrar gathers its batches
 * itself, and what waits here long only makes the heap grow (see `openBatches` in
 * file_registrar.ts).
 */
const REGISTER_QUEUE = 256;

interface HashTask {
  file: FileEvent;
  look: Extract<Lookup, { kind: "read" }>;
}

export async function runBatchedScan(
  run: ScanRun,
  files: AsyncIterable<FileEvent>,
  v1: V1Client,
  options: BatchedScanOptions = {},
): Promise<void> {
  const { config, stats, reporter } = run;
  const registrationLimits = registrationLimitsFor(v1);
  const uploader = new BlobUploader(
    v1,
    uploadLimitsFor(v1, options.largeBufferBytes),
    {
      retry: v1.retry,
      signal: run.abandon,
      onResume: (e) =>
        reporter.detail(`resuming the upload of ${e.digest} at byte ${e.offset}: ${e.reason}`),
      onSent: (bytes) => {
        stats.sentBytes += bytes;
      },
      ledger: run.cache ?? undefined,
    },
  );
  const registrar = new FileRegistrar(v1, uploader, run, registrationLimits);
  const hashWorkers = options.hashWorkers ?? defaultHashWorkers(navigator.hardwareConcurrency ?? 2);
  const pool = hashWorkers > 0 ? new HashPool(hashWorkers) : null;
  // With a pool, many files wait for it at once (each only a path); files too large for it
  // are read here, `jobs` at once, each with one pair of read buffers.
  const hashers = pool === null
    ? config.jobs
    : Math.max(config.jobs, hashWorkers * IN_FLIGHT_PER_HASH_WORKER);
  const largeReads = new Semaphore(config.jobs);
  const freeBuffers: ReadBuffers[] = [];
  const toHash = new BoundedQueue<HashTask>(hashers * 2);
  const toRegister = new BoundedQueue<Registration>(REGISTER_QUEUE);
  const onAbandon = () => {
    pool?.close(run.abandon.reason);
    toHash.discard();
    toRegister.discard();
  };
  run.abandon.addEventListener("abort", onAbandon, { once: true });
  const host = { hostname: config.hostname, ip: config.ip };

  /** Describes a file whose digest is known and queues it for registration. */
  const register = async (
    file: KnownFile & { size: number; info: Deno.FileInfo; read: boolean },
  ) => {
    const { path, digest, size, info } = file;
    const described = fileMetadataOf(path, digest, size, info, host);
    if (!described.ok) {
      run.settle(path, { kind: "failed", reason: "rejected", message: described.message });
      return;
    }
    const item: Registration = {
      path,
      digest,
      size,
      info: { dev: info.dev, ino: info.ino },
      identity: file.identity,
      statAt: file.statAt,
      read: file.read,
      ...jsonOf(described.metadata),
    };
    stats.move(null, "registering");
    if (!await toRegister.push(item)) stats.move("registering", null);
  };

  const walker = async () => {
    try {
      for await (const file of files) {
        const look = run.lookup(file);
        switch (look.kind) {
          case "unchanged":
            run.settle(file.path, { kind: "unchanged", read: false, size: look.size });
            break;
          case "other_filesystem":
            run.settle(file.path, {
              kind: "skipped",
              reason: "other_filesystem",
              message: "is on another file system",
            });
            break;
          case "known":
            await register({
              path: file.path,
              digest: look.digest,
              size: look.identity.size,
              info: look.info,
              identity: look.identity,
              statAt: look.statAt,
              read: false,
            });
            break;
          case "read":
            await toHash.push({ file, look });
            break;
        }
        if (run.abandon.aborted) return;
      }
    } finally {
      toHash.close();
    }
  };

  /** Hashes a file in a worker, or here when it is too large for one (or there is no pool). */
  const hashOne = async (file: FileEvent): Promise<HashOutcome> => {
    const requireDevice = config.oneFileSystem ? file.rootDev : undefined;
    if (pool !== null) {
      const outcome = await pool.hash({ path: file.path, requireDevice });
      if (outcome !== null) {
        if (outcome.ok) stats.bytesRead += outcome.size;
        return outcome;
      }
    }
    await largeReads.acquire(run.abandon);
    const buffers = freeBuffers.pop() ?? new ReadBuffers();
    try {
      return await hashFile(file.path, {
        buffers,
        signal: run.abandon,
        requireDevice,
        onBytes: (count) => {
          stats.bytesRead += count;
        },
      });
    } finally {
      freeBuffers.push(buffers);
      largeReads.release();
    }
  };

  const hasher = async () => {
    for await (const { file, look } of toHash) {
      stats.move(null, "hashing");
      let hashed;
      try {
        hashed = await hashOne(file);
      } finally {
        stats.move("hashing", null);
      }
      if (!hashed.ok) {
        if (hashed.problem === "not_regular" || hashed.problem === "other_filesystem") {
          run.settle(file.path, {
            kind: "skipped",
            reason: hashed.problem,
            message: hashed.message,
          });
        } else {
          run.settle(file.path, {
            kind: "failed",
            reason: hashed.problem,
            message: hashed.message,
          });
        }
        continue;
      }
      const { digest, size, info } = hashed;
      const identity = identityOf(info);
      const cached = look.cached;
      if (
        cached !== null && cached.confirmed && cached.digest === digest &&
        sameIdentity(identity, look.identity)
      ) {
        // A racy cache entry that still holds: the server has this file as it is.
        run.remember({ path: file.path, digest, identity, statAt: look.statAt }, true);
        run.settle(file.path, { kind: "unchanged", read: true, size });
        continue;
      }
      await register({
        path: file.path,
        digest,
        size,
        info,
        identity,
        statAt: look.statAt,
        read: true,
      });
    }
  };

  const guard = (stage: Promise<void>) =>
    stage.catch((error) => {
      if (!run.abandon.aborted) run.fail(error);
    });
  const hashing = (async () => {
    try {
      await Promise.all(Array.from({ length: hashers }, () => hasher()));
    } finally {
      pool?.close();
      toRegister.close();
    }
  })();
  try {
    await Promise.all([guard(walker()), guard(hashing), guard(registrar.run(toRegister))]);
    await guard(uploader.drain());
  } finally {
    pool?.close();
    run.abandon.removeEventListener("abort", onAbandon);
  }
}
