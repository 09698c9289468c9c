/**
 * The counters of one scan and the summary made from them.
 *
 * Every regular file the walk finds is `scanned` and ends in exactly one of:
 * unchanged (the scan cache shows the server already has it as it is: nothing sent),
 * registered (then uploaded or deduplicated), skipped, failed, or abandoned (in flight
 * when the scan was interrupted). In a dry run files are hashed and counted only.
 * `hashed` counts the files read this scan (an unchanged file may have been read to
 * make sure). `deleted` counts files gone since the last scan that the server marked
 * deleted; `gone_unreported` those a classic server could not be told about.
 * `skipped` also counts what the walk passed over (excluded paths, symbolic links,
 * special files, other file systems); `failed` also counts unreadable directories.
 */
import type { SkipReason } from "./walk.ts";

export type Phase = "hashing" | "registering" | "uploading";

export type FileSkipReason = SkipReason | "not_regular";

export type FailReason = "unreadable" | "vanished" | "changed" | "rejected" | "unavailable";

/** How the scan talked to the server: the /v1 batches, the classic routes, or not at all. */
export type Api = "v1" | "classic" | null;

export interface Summary {
  api: Api;
  scanned: number;
  scanned_bytes: number;
  directories: number;
  hashed: number;
  unchanged: number;
  registered: number;
  uploaded: number;
  uploaded_bytes: number;
  deduplicated: number;
  skipped: number;
  skipped_by_reason: Partial<Record<FileSkipReason, number>>;
  failed: number;
  failed_by_reason: Partial<Record<FailReason, number>>;
  abandoned: number;
  deleted: number;
  gone_unreported: number;
  elapsed_seconds: number;
  interrupted: boolean;
  dry_run: boolean;
}

export class ScanStats {
  readonly #started = performance.now();
  scanned = 0;
  directories = 0;
  hashed = 0;
  /** Bytes of files hashed successfully. */
  scannedBytes = 0;
  /** Bytes read by the hasher so far (live progress; includes files still in flight). */
  bytesRead = 0;
  /** Bytes of the files found so far (the total once `walkDone`). */
  foundBytes = 0;
  /** The walk has ended: `scanned` and `foundBytes` are totals, no longer estimates. */
  walkDone = false;
  /** Bytes of files settled without being read (unchanged, digest from the cache). */
  notReadBytes = 0;
  /** Blob bytes sent to the server so far (large uploads as they go). */
  sentBytes = 0;
  unchanged = 0;
  registered = 0;
  uploaded = 0;
  uploadedBytes = 0;
  deduplicated = 0;
  abandoned = 0;
  deleted = 0;
  goneUnreported = 0;
  /** Scanned files that reached an outcome (the others were abandoned). */
  settled = 0;
  api: Api = null;
  readonly skippedByReason: Partial<Record<FileSkipReason, number>> = {};
  readonly failedByReason: Partial<Record<FailReason, number>> = {};
  readonly inFlight: Record<Phase, number> = { hashing: 0, registering: 0, uploading: 0 };

  constructor(readonly dryRun: boolean) {}

  skip(reason: FileSkipReason): void {
    this.skippedByReason[reason] = (this.skippedByReason[reason] ?? 0) + 1;
  }

  fail(reason: FailReason): void {
    this.failedByReason[reason] = (this.failedByReason[reason] ?? 0) + 1;
  }

  get skipped(): number {
    return sum(this.skippedByReason);
  }

  get failed(): number {
    return sum(this.failedByReason);
  }

  /** Bytes of work done: read, or settled without reading. */
  get doneBytes(): number {
    return this.bytesRead + this.notReadBytes;
  }

  get elapsedSeconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  /** Moves one file from phase `from` to phase `to` (null: not in flight). */
  move(from: Phase | null, to: Phase | null): void {
    if (from) this.inFlight[from]--;
    if (to) this.inFlight[to]++;
  }

  summary(interrupted: boolean): Summary {
    return {
      api: this.api,
      scanned: this.scanned,
      scanned_bytes: this.scannedBytes,
      directories: this.directories,
      hashed: this.hashed,
      unchanged: this.unchanged,
      registered: this.registered,
      uploaded: this.uploaded,
      uploaded_bytes: this.uploadedBytes,
      deduplicated: this.deduplicated,
      skipped: this.skipped,
      skipped_by_reason: { ...this.skippedByReason },
      failed: this.failed,
      failed_by_reason: { ...this.failedByReason },
      abandoned: this.abandoned,
      deleted: this.deleted,
      gone_unreported: this.goneUnreported,
      elapsed_seconds: Math.round(this.elapsedSeconds * 1000) / 1000,
      interrupted,
      dry_run: this.dryRun,
    };
  }
}

function sum(counts: Partial<Record<string, number>>): number {
  let total = 0;
  for (const value of Object.values(counts)) total += value ?? 0;
  return total;
}
