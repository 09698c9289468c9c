/**
 * `ppclient scan PATH...` (the default command): walk the paths, hash every regular
 * file, register it with the server and upload the bytes the server lacks.
 */
import { resolve } from "node:path";
import { AppError } from "../../lib/errors.ts";
import { connect, type Connection, requireApiKey } from "../cli/connect.ts";
import {
  type ClientConfig,
  loadConfig,
  parseScanArgs,
  SCAN_FLAGS,
  settingsHelp,
} from "../cli/config.ts";
import { reportDeletions } from "../scan/deletions.ts";
import { compileExclude } from "../scan/exclude.ts";
import { EXIT } from "../cli/exit_codes.ts";
import { DEBOUNCE_MS } from "../cli/signals.ts";
import { FileCache } from "../scan/file_cache.ts";
import { ProgressReporter } from "../cli/progress.ts";
import { runBatchedScan } from "../scan/batched.ts";
import { runClassicScan } from "../scan/classic.ts";
import { ScanRun } from "../scan/run.ts";
import { ScanStats, type Summary } from "../scan/stats.ts";
import type { V1Client } from "../http/v1_client.ts";
import type { Command, CommandContext } from "./command.ts";

/** After the first Ctrl-C, files in flight get this long to finish before they are abandoned. */
export const INTERRUPT_GRACE_MS = 10_000;

const HELP = `Usage: ppclient [scan] [PATH...] [OPTIONS]

Walks each PATH (a directory or a file), computes the SHA-256 of every regular file,
registers its metadata with the PutPlace server and uploads the bytes the server does
not hold yet.

Protocol: the client asks GET /v1 once. A server with the /v1 API gets files in batches
(POST /v1/files/batch, several requests in flight), small blobs grouped in blob batches,
larger ones alone (PUT /v1/blobs/{digest}; from 8 MiB a resumable upload in 8 MiB
pieces that goes on after a dropped connection), and reports of deleted files. A server without /v1 (404)
gets the classic routes, one file at a time (POST /put_file, POST /upload_file/{sha256});
deletions cannot be reported to it.

Scan cache: a SQLite file per server URL and host name under --cache (default
$XDG_CACHE_HOME/putplace or ~/.cache/putplace) remembers each file's device, inode,
size, mtime and ctime with its digest. A file that is unchanged since the server
confirmed it is neither read nor sent ("unchanged" in the summary); --full reads and
sends everything again (and refreshes the cache). Files cached under a PATH that are
gone now are reported deleted, only when the walk of that PATH ran to its end, never
under a directory that could not be read.

Options:
  -p, --path PATH          path to scan (repeatable; same as a PATH argument)
  -e, --exclude PATTERN    exclude pattern (repeatable, see below)
      --url URL            server base URL, or the classic http://HOST:PORT/put_file
  -k, --api-key KEY        API key (or PUTPLACE_API_KEY)
      --hostname NAME      host name reported with each file (default: this host's)
      --ip ADDRESS         IP address reported with each file (default: detected)
      --dry-run            hash and count only; send nothing
  -j, --jobs N             files in flight at once (default from the core count)
      --retries N          retries per request on 500 and 429 answers
      --retry-for TIME     how long to wait out an unreachable server (no connection,
                           timeouts, 502/503/504) with all work paused: 90s, 5m, 1h;
                           then the scan stops (exit 1)
      --follow-symlinks    follow symbolic links (loops are detected and skipped)
      --one-file-system    do not descend into other file systems
      --cache DIR          scan cache directory (or PPCLIENT_CACHE)
      --full               ignore the scan cache: read and send every file
  -v, --verbose            one line per file on stderr
  -q, --quiet              no progress and no text summary
      --json               summary as one JSON object on stdout
  -c, --config FILE        read only this config file (it must exist)
  -h, --help               this help

Settings come from flags, then environment variables, then ~/ppclient.conf and
./ppclient.conf ("key = value" lines; the later file wins; "exclude" adds up),
then defaults. Config file keys:
${settingsHelp()}

Excludes: a pattern without wildcards matches a whole path component (".git",
"node_modules"); a pattern with *, ?, [...] or ** is a glob on the path relative to
the scan root (* and ? never cross "/", ** crosses any number of directories; a glob
without "/" such as "*.pyc" applies at any depth). Excluded directories are not
entered. A trailing "/" limits a pattern to directories.

Policy: symbolic links are skipped unless --follow-symlinks (a PATH that is a link is
followed); special files (FIFOs, sockets, devices) are skipped; files and directories
that cannot be read are reported and counted as failed, and the scan goes on; a file
that changes or vanishes while it is read or uploaded is reported as failed and never
registered with a wrong digest.

API key: checked with one request before any work (GET /v1/whoami); a refused key
(unknown, revoked, or not a write key) exits 3 whatever the scan cache holds.

Output: progress and problems on stderr, the summary on stdout; with --json one JSON
object on stdout, also for a fatal error: {"error": {...}, "summary": {...}}.
Exit codes: 0 all done; 1 some files failed; 2 usage or configuration error;
3 authentication refused; 130 / 143 / 129 stopped by Ctrl-C / SIGTERM / SIGHUP.
Ctrl-C, SIGTERM or SIGHUP once: stop taking new files, give those in flight up to ${
  INTERRUPT_GRACE_MS / 1000
} s
to finish (then abandon them), print the partial summary. A second one stops at once
(one within ${DEBOUNCE_MS} ms of the first is the same one, delivered twice).`;

export const scanCommand: Command = {
  name: "scan",
  summary: "scan paths and report their files to the server (the default command)",
  help: HELP,
  flags: SCAN_FLAGS,
  async run(args, context) {
    const { values, positionals } = parseScanArgs(args);
    const config = loadConfig(values, positionals, context.sources);
    if (context.outcome) context.outcome.json = config.json;
    return await runScan(config, context);
  },
};

export interface ScanOptions {
  /**
   * Paths (absolute) that no longer exist: what the scan cache holds at or under them is
   * reported deleted, as for a root walked to its end (`ppclient watch`).
   */
  gone?: string[];
  /** Only some changed paths of the watched ones (a `watch` pass): not a complete scan. */
  partial?: boolean;
  /** Hears the summary of the scan (also when it is not printed). */
  onSummary?: (summary: Summary) => void;
}

export async function runScan(
  config: ClientConfig,
  context: CommandContext,
  options: ScanOptions = {},
): Promise<number> {
  const { terminal, interrupt } = context;
  const gone = options.gone ?? [];
  if (config.paths.length === 0 && gone.length === 0) {
    throw new AppError("invalid_input", "Nothing to scan: give a PATH or --path");
  }
  const roots = await checkedRoots(config.paths, context.sources.cwd);
  if (!config.dryRun) requireApiKey(config.apiKey);
  const exclude = config.exclude.map(compileExclude);
  const stats = new ScanStats(config.dryRun);
  const reporter = new ProgressReporter(terminal, stats, config);

  let server: Connection | null = null;
  if (!config.dryRun) {
    try {
      server = await connect({
        config,
        scope: "write",
        command: "scan",
        fetch: context.fetch,
        signal: interrupt,
        onRetry: (e) =>
          reporter.detail(`retry ${e.retry} of ${e.request} in ${e.delayMs} ms: ${e.reason}`),
        notice: (line) => reporter.notice(line),
      });
    } catch (error) {
      if (!interrupt.aborted) throw error;
      reporter.finish(stats.summary(true));
      return EXIT.interrupted;
    }
  }
  using _server = server;
  const v1 = server?.v1 ?? null;
  if (server) {
    stats.api = v1 ? "v1" : "classic";
    if (!v1) {
      reporter.detail(
        `the server at ${config.url} speaks only the classic API: files are registered one ` +
          `at a time and deletions cannot be reported`,
      );
    }
  }

  using cache = server ? openCache(config, reporter) : null;
  cache?.beginScan();

  const graceOver = new AbortController();
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const startGrace = () => {
    graceTimer = setTimeout(() => graceOver.abort(interrupt.reason), INTERRUPT_GRACE_MS);
  };
  interrupt.addEventListener("abort", startGrace, { once: true });
  const run = new ScanRun({
    config,
    stats,
    reporter,
    cache,
    interrupt,
    graceOver: graceOver.signal,
  });
  const files = run.files(roots, {
    exclude,
    followSymlinks: config.followSymlinks,
    oneFileSystem: config.oneFileSystem,
  });

  let deletionsReported = true;
  let ended = false;
  reporter.start();
  try {
    if (v1) await runBatchedScan(run, files, v1);
    else await runClassicScan(run, files, server?.classic ?? null);
    if (run.fatalError === null && !interrupt.aborted) {
      for (const path of gone) {
        run.roots.push({ path, complete: true, unclean: false, unreadable: [] });
      }
      deletionsReported = await reportDeletions(run, v1);
      if (!options.partial) await reportCompleteScan(run, v1, deletionsReported);
    }
    ended = true;
  } finally {
    interrupt.removeEventListener("abort", startGrace);
    clearTimeout(graceTimer);
    stats.abandoned = stats.scanned - stats.settled;
    cache?.flush();
    const summary = stats.summary(interrupt.aborted);
    const stopped = !ended || run.fatalError !== null;
    // A fatal error: main prints it (with this summary, as one JSON object with --json).
    if (stopped && context.outcome) context.outcome.summary = summary;
    reporter.finish(summary, { stopped });
    options.onSummary?.(summary);
  }
  if (run.fatalError !== null) throw run.fatalError;
  if (interrupt.aborted) return EXIT.interrupted;
  return stats.failed > 0 || !deletionsReported ? EXIT.failed : EXIT.ok;
}

/**
 * Tells a /v1 server that this scan ran to its end: every root walked and readable, no file
 * failed, deletions reported. Only a notice when that fails: the files are all in.
 */
async function reportCompleteScan(
  run: ScanRun,
  v1: V1Client | null,
  deletionsReported: boolean,
): Promise<void> {
  if (v1 === null || !v1.has("hosts.complete_scan") || !deletionsReported) return;
  if (run.stats.failed > 0 || run.roots.some((root) => !root.complete || root.unclean)) return;
  try {
    await v1.reportCompleteScan(run.config.hostname, run.stop);
  } catch (error) {
    if (!(error instanceof AppError) || ScanRun.isFatal(error)) throw error;
    run.reporter.notice(`cannot record the complete scan on the server: ${error.message}`);
  }
}

/** The scan cache of this server and host, or null (with a notice) when it cannot be used. */
function openCache(config: ClientConfig, reporter: ProgressReporter): FileCache | null {
  try {
    return FileCache.open(config.cacheDir, config.url, config.hostname);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    reporter.notice(`${error.message}; scanning without the cache`);
    return null;
  }
}

/** Absolute scan roots; a path that does not exist is a usage error. */
async function checkedRoots(paths: string[], cwd: string): Promise<string[]> {
  const roots: string[] = [];
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    try {
      await Deno.stat(absolute);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new AppError("invalid_input", `Path "${path}" does not exist`);
      }
      throw new AppError("invalid_input", `Path "${path}" cannot be read`, { cause: error });
    }
    roots.push(absolute);
  }
  return roots;
}
