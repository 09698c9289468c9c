/**
 * The scan over the /v1 batch routes, as a pipeline with bounded memory:
 *
 *   walk -> cache lookup -> hash (jobs files at once) -> batch registration
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
import { hashFile, ReadBuffers } from "./hash.ts";
import type { FileEvent, KnownFile, Lookup, ScanRun } from "./run.ts";
import type { V1Client } from "../http/v1_client.ts";

export interface BatchedScanOptions {
  /**
   * Buffer of each large upload (default 8 MiB): smaller blobs go whole with one PUT,
   * larger ones in pieces of this size through a resumable upload.
   */
  largeBufferBytes?: number;
}

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
  const toHash = new BoundedQueue<HashTask>(config.jobs * 2);
  const toRegister = new BoundedQueue<Registration>(REGISTER_QUEUE);
  const onAbandon = () => {
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

  const hasher = async (buffers: ReadBuffers) => {
    for await (const { file, look } of toHash) {
      stats.move(null, "hashing");
      let hashed;
      try {
        hashed = await hashFile(file.path, {
          buffers,
          signal: run.abandon,
          requireDevice: config.oneFileSystem ? file.rootDev : undefined,
          onBytes: (count) => {
            stats.bytesRead += count;
          },
        });
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
  const hashers = (async () => {
    try {
      await Promise.all(Array.from({ length: config.jobs }, () => hasher(new ReadBuffers())));
    } finally {
      toRegister.close();
    }
  })();
  try {
    await Promise.all([guard(walker()), guard(hashers), guard(registrar.run(toRegister))]);
    await guard(uploader.drain());
  } finally {
    run.abandon.removeEventListener("abort", onAbandon);
  }
}
