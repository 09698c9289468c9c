/**
 * What every way of scanning shares: the counters and progress, the scan cache, the two
 * stop signals, the walk of the roots (with what it learned about each root, for deletion
 * reports) and the one place a file's outcome is counted and shown.
 *
 * Signals: `stop` ends the taking of new files (Ctrl-C or a fatal error); `abandon` aborts
 * the files in flight (a fatal error, or the grace after Ctrl-C ran out).
 */
import type { Digest } from "../../lib/digest.ts";
import { AppError } from "../../lib/errors.ts";
import { isOutage } from "../http/outage.ts";
import type { ClientConfig } from "../cli/config.ts";
import { type CachedFile, type FileCache, type FileIdentity, identityOf } from "./file_cache.ts";
import type { ProgressReporter } from "../cli/progress.ts";
import type { FileOutcome } from "./report_file.ts";
import type { ScanStats } from "./stats.ts";
import { walk, type WalkOptions } from "./walk.ts";

/** Unreadable directories remembered per root; more make the root's walk count as unclean. */
const MAX_UNREADABLE_PER_ROOT = 10_000;

/**
 * A file's outcome: `read` says whether its bytes were read this scan (false when the
 * cache gave the digest).
 */
export type ScanOutcome =
  | FileOutcome & { read?: boolean }
  | { kind: "unchanged"; read: boolean; size: number };

/** What the walk of one root found out, for deletion reports. */
export interface RootWalk {
  path: string;
  /** The walk ran to its end (not stopped). */
  complete: boolean;
  /** The root itself could not be read, or too many directories below it could not. */
  unclean: boolean;
  /** Directories (and files) below the root that could not be read. */
  unreadable: string[];
}

export interface FileEvent {
  path: string;
  rootDev: number;
}

/** A file whose digest is known, as the scan cache remembers it. */
export interface KnownFile {
  path: string;
  digest: Digest;
  /** Which file it was (null when its stat lacks a field: then it is not cached). */
  identity: FileIdentity | null;
  /** When it was looked at (a change right after it could go unseen, see `isRacy`). */
  statAt: number;
}

/** What the cache says about a file before it is read. */
export type Lookup =
  /** Same file as cached and confirmed: nothing to do. */
  | { kind: "unchanged"; size: number }
  /** Same file as cached, digest known, not confirmed by the server yet: register it. */
  | { kind: "known"; digest: Digest; info: Deno.FileInfo; identity: FileIdentity; statAt: number }
  /** Read and hash it; `cached` is what a racy cache entry said (compare after hashing). */
  | {
    kind: "read";
    identity: FileIdentity | null;
    statAt: number;
    cached: CachedFile | null;
  }
  | { kind: "other_filesystem" };

export class ScanRun {
  readonly config: ClientConfig;
  readonly stats: ScanStats;
  readonly reporter: ProgressReporter;
  readonly cache: FileCache | null;
  readonly stop: AbortSignal;
  readonly abandon: AbortSignal;
  readonly roots: RootWalk[] = [];
  #fatal: AbortController;
  #fatalError: unknown = null;

  constructor(options: {
    config: ClientConfig;
    stats: ScanStats;
    reporter: ProgressReporter;
    cache: FileCache | null;
    interrupt: AbortSignal;
    graceOver: AbortSignal;
  }) {
    this.config = options.config;
    this.stats = options.stats;
    this.reporter = options.reporter;
    this.cache = options.cache;
    this.#fatal = new AbortController();
    this.stop = AbortSignal.any([options.interrupt, this.#fatal.signal]);
    this.abandon = AbortSignal.any([this.#fatal.signal, options.graceOver]);
  }

  /** Stops everything because of `error` (the first one is kept and rethrown at the end). */
  fail(error: unknown): void {
    if (this.#fatalError === null) this.#fatalError = error;
    this.#fatal.abort(error);
  }

  get fatalError(): unknown {
    return this.#fatalError;
  }

  /**
   * True for errors that end the whole scan: the server refused the API key, or stayed
   * unreachable longer than --retry-for (not a failure of any one file).
   */
  static isFatal(error: unknown): boolean {
    return isOutage(error) || error instanceof AppError &&
        (error.code === "unauthorized" || error.code === "forbidden");
  }

  /**
   * The regular files under the roots, one root after the other; directories, skipped
   * and unreadable entries are counted here. `roots` fills in as each root's walk ends.
   */
  async *files(roots: string[], options: Omit<WalkOptions, "signal">): AsyncGenerator<FileEvent> {
    const { stats, reporter } = this;
    for (const root of roots) {
      if (this.stop.aborted) return;
      const state: RootWalk = { path: root, complete: false, unclean: false, unreadable: [] };
      for await (const event of walk(root, { ...options, signal: this.stop })) {
        switch (event.kind) {
          case "directory":
            stats.directories++;
            break;
          case "skipped":
            stats.skip(event.reason);
            reporter.detail(`skipped ${event.path} (${event.reason.replaceAll("_", " ")})`);
            break;
          case "unreadable":
            stats.fail("unreadable");
            reporter.problem(event.path, event.message);
            if (event.path === root || state.unreadable.length >= MAX_UNREADABLE_PER_ROOT) {
              state.unclean = true;
            } else {
              state.unreadable.push(event.path);
            }
            break;
          case "file":
            stats.scanned++;
            yield { path: event.path, rootDev: event.rootDev };
            break;
        }
      }
      state.complete = !this.stop.aborted;
      this.roots.push(state);
    }
    stats.walkDone = true;
  }

  /** Looks a file up in the cache (marking it seen); without a cache, it is to be read. */
  lookup(file: FileEvent): Lookup {
    const statAt = Date.now();
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(file.path);
    } catch {
      // Reading it will tell what is wrong.
      return { kind: "read", identity: null, statAt, cached: null };
    }
    this.stats.foundBytes += info.size;
    if (this.cache === null) return { kind: "read", identity: null, statAt, cached: null };
    if (this.config.oneFileSystem && info.dev !== file.rootDev) return { kind: "other_filesystem" };
    const identity = info.isFile ? identityOf(info) : null;
    if (identity === null) {
      this.cache.see(file.path);
      return { kind: "read", identity: null, statAt, cached: null };
    }
    const cached = this.cache.lookup(file.path, identity);
    if (cached === null || this.config.full) {
      return { kind: "read", identity, statAt, cached: null };
    }
    if (cached.racy) return { kind: "read", identity, statAt, cached };
    if (cached.confirmed) return { kind: "unchanged", size: identity.size };
    return { kind: "known", digest: cached.digest, info, identity, statAt };
  }

  /** Remembers a file's digest in the cache (confirmed: the server has it as it is). */
  remember(file: KnownFile, confirmed: boolean): void {
    if (this.cache === null || file.identity === null) return;
    this.cache.record(file.path, file.identity, file.digest, confirmed, file.statAt);
  }

  /** Counts and shows the outcome of one scanned file. */
  settle(path: string, outcome: ScanOutcome): void {
    const { stats, reporter } = this;
    stats.settled++;
    switch (outcome.kind) {
      case "unchanged":
        stats.unchanged++;
        stats.scannedBytes += outcome.size;
        if (outcome.read) stats.hashed++;
        else stats.notReadBytes += outcome.size;
        reporter.detail(`unchanged ${path}`);
        return;
      case "hashed":
        stats.hashed++;
        stats.scannedBytes += outcome.size;
        reporter.detail(`hashed ${outcome.digest} ${path}`);
        return;
      case "registered":
        if (outcome.read !== false) stats.hashed++;
        else stats.notReadBytes += outcome.size;
        stats.scannedBytes += outcome.size;
        stats.registered++;
        if (outcome.upload === "uploaded") {
          stats.uploaded++;
          stats.uploadedBytes += outcome.size;
        } else {
          stats.deduplicated++;
        }
        reporter.detail(`${outcome.upload} ${outcome.digest} ${path}`);
        return;
      case "skipped":
        stats.skip(outcome.reason);
        reporter.detail(`skipped ${path}: ${outcome.message}`);
        return;
      case "failed":
        stats.fail(outcome.reason);
        reporter.problem(path, outcome.message);
        return;
    }
  }
}
