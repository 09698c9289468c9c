/**
 * The scan over the classic routes, one file at a time per worker: hash, `POST /put_file`,
 * `POST /upload_file/{sha256}` when the server asks. Used against a server without /v1,
 * and for dry runs (`api` null: hash and count only). Files the scan cache shows unchanged
 * and confirmed are neither read nor sent.
 */
import type { ClassicClient } from "../http/classic_client.ts";
import { ReadBuffers } from "./hash.ts";
import { InFlightUploads } from "./inflight_uploads.ts";
import { runPool } from "../async/pool.ts";
import { type FileOutcome, reportFile } from "./report_file.ts";
import type { Phase } from "./stats.ts";
import { type FileEvent, ScanRun } from "./run.ts";

export async function runClassicScan(
  run: ScanRun,
  files: AsyncIterable<FileEvent>,
  api: ClassicClient | null,
): Promise<void> {
  const { config, stats } = run;
  const buffers = Array.from({ length: config.jobs }, () => new ReadBuffers());
  const uploads = new InFlightUploads();

  const handle = async (file: FileEvent, worker: number) => {
    const look = run.lookup(file);
    if (look.kind === "unchanged") {
      run.settle(file.path, { kind: "unchanged", read: false, size: look.size });
      return;
    }
    if (look.kind === "other_filesystem") {
      run.settle(file.path, {
        kind: "skipped",
        reason: "other_filesystem",
        message: "is on another file system",
      });
      return;
    }
    let phase: Phase | null = null;
    let outcome: FileOutcome;
    try {
      outcome = await reportFile(file.path, file.rootDev, buffers[worker], {
        api,
        hostname: config.hostname,
        ip: config.ip,
        uploads,
        oneFileSystem: config.oneFileSystem,
        signal: run.abandon,
        onHashBytes: (count) => {
          stats.bytesRead += count;
        },
        onPhase: (next) => {
          stats.move(phase, next);
          phase = next;
        },
      });
    } catch (error) {
      if (ScanRun.isFatal(error)) {
        run.fail(error);
        return;
      }
      if (run.abandon.aborted) return; // counted as abandoned
      throw error;
    } finally {
      stats.move(phase, null);
    }
    if (outcome.kind === "registered" && outcome.upload === "uploaded") {
      stats.sentBytes += outcome.size;
    }
    if (outcome.kind === "registered") {
      run.remember({
        path: file.path,
        digest: outcome.digest,
        identity: look.identity,
        statAt: look.statAt,
      }, true);
    }
    run.settle(file.path, outcome);
  };

  await runPool(files[Symbol.asyncIterator](), config.jobs, handle, run.stop);
}
