/**
 * `ppclient watch PATH...`: keeps the server current as files change. It scans the paths
 * (catching up on whatever changed while it was stopped), then watches them
 * (`Deno.watchFs`), gathers a burst of changes until the tree has been quiet for
 * `--settle`, and sends just the changed paths: new and modified files are hashed and
 * registered (their bytes uploaded when the server lacks them), gone ones reported
 * deleted, a renamed file both. The changes waiting to be sent are kept in the scan
 * cache, so a restart loses none. A full scan runs again every `--reconcile` (default
 * daily), and whenever the watcher says it lost events or a watched path was replaced.
 * An unreachable server is waited out as in `scan` (`--retry-for`); changes that could
 * not be sent stay queued and go with the next pass.
 */
import { relative, resolve, sep } from "node:path";
import { AppError } from "../../lib/errors.ts";
import { parseFlags } from "../cli/args.ts";
import { loadConfig, SCAN_FLAGS, settingsHelp } from "../cli/config.ts";
import { requireApiKey } from "../cli/connect.ts";
import { EXIT } from "../cli/exit_codes.ts";
import { formatSpan, parseDuration } from "../http/outage.ts";
import { compileExclude, type ExcludeRule, isExcluded } from "../scan/exclude.ts";
import { FileCache } from "../scan/file_cache.ts";
import type { Summary } from "../scan/stats.ts";
import type { Command, CommandContext } from "./command.ts";
import { runScan } from "./scan.ts";

const FLAGS = {
  ...SCAN_FLAGS,
  reconcile: { type: "string" },
  settle: { type: "string" },
} as const;

/**
 * A burst is sent at the latest this long after its first change, quiet or not: files that
 * keep changing (a log, a trickle of downloads) never give the --settle quiet, and with a
 * 30 s hold the watch benchmark measured a p99 of 30 s from close to registration.
 */
const MAX_HOLD_MS = 5_000;
/** A pass that found the server gone is tried again after this long. */
const RETRY_PASS_MS = 30_000;
/** Changes sent in one pass at most (the rest wait for the next). */
const PASS_PATHS = 10_000;

const HELP = `Usage: ppclient watch PATH... [OPTIONS]

Keeps the server current as files change: scans the paths (catching up on what changed
while ppclient was not watching), then watches them and sends each burst of changes once
the tree has been quiet for --settle: new and modified files are hashed and registered
(their bytes uploaded when the server lacks them), deleted ones reported deleted, a
renamed file both. Changes not sent yet are kept in the scan cache (a restart loses
none); a full scan runs again every --reconcile, and when the watcher lost events or a
watched path was replaced. While the server is unreachable, changes wait (--retry-for).

Options: those of "ppclient scan" (see "ppclient scan --help"), and
      --settle TIME        quiet time that ends a burst of changes (default 1s)
      --reconcile TIME     full scan this often (default 24h)

Settings:
${settingsHelp()}

Runs until stopped: SIGTERM, SIGHUP or Ctrl-C let the pass in flight finish (exit 143,
129, 130). deploy/ppclient-watch.service runs it under systemd.`;

export const watchCommand: Command = {
  name: "watch",
  summary: "scan, then keep the server current as files change",
  help: HELP,
  flags: FLAGS,
  async run(args, context) {
    const { values, positionals } = parseFlags(args, FLAGS);
    const { reconcile, settle, ...scanFlags } = values;
    const reconcileMs = duration("reconcile", reconcile ?? "24h");
    const settleMs = duration("settle", settle ?? "1s");
    const config = loadConfig(scanFlags, positionals, context.sources);
    if (context.outcome) context.outcome.json = config.json;
    if (config.dryRun) throw new AppError("invalid_input", "watch sends changes: no --dry-run");
    if (config.paths.length === 0) {
      throw new AppError("invalid_input", "Nothing to watch: give a PATH or --path");
    }
    requireApiKey(config.apiKey);
    const roots = config.paths.map((path) => resolve(context.sources.cwd, path));
    for (const root of roots) {
      try {
        Deno.statSync(root);
      } catch {
        throw new AppError("invalid_input", `Path "${root}" does not exist`);
      }
    }
    return await new Watch(config, roots, context, { reconcileMs, settleMs }).run();
  },
};

function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === null) {
    throw new AppError("invalid_input", `--${flag} "${text}" is not a duration (e.g. 2s, 5m, 24h)`);
  }
  return ms;
}

class Watch {
  #config: ReturnType<typeof loadConfig>;
  #roots: string[];
  #context: CommandContext;
  #reconcileMs: number;
  #settleMs: number;
  #exclude: ExcludeRule[];
  #pending = new Set<string>();
  #firstAt = 0;
  #lastAt = 0;
  #fullWanted = false;
  #wake: (() => void) | null = null;

  constructor(
    config: ReturnType<typeof loadConfig>,
    roots: string[],
    context: CommandContext,
    timing: { reconcileMs: number; settleMs: number },
  ) {
    this.#config = config;
    this.#roots = roots;
    this.#context = context;
    this.#reconcileMs = timing.reconcileMs;
    this.#settleMs = timing.settleMs;
    this.#exclude = config.exclude.map(compileExclude);
  }

  async run(): Promise<number> {
    const { interrupt } = this.#context;
    using queue = FileCache.open(this.#config.cacheDir, this.#config.url, this.#config.hostname);
    // What an earlier run saw change but did not send, then a full scan: it catches up
    // on everything that changed while nobody watched.
    const earlier = queue.queued(PASS_PATHS);
    if (earlier.length > 0) await this.#pass(queue, earlier, "changes queued by an earlier run");
    let code = await this.#full();
    if (code === EXIT.interrupted) return code;
    let lastFull = Date.now();
    let retryAt = 0;

    let watcher = this.#watch();
    const onAbort = () => this.#wake?.();
    interrupt.addEventListener("abort", onAbort, { once: true });
    this.#note(`watching ${this.#roots.join(", ")}`);
    try {
      while (!interrupt.aborted) {
        await this.#sleep(this.#nextWake(lastFull, retryAt));
        if (interrupt.aborted) break;
        const now = Date.now();
        if (this.#rootsReplaced(watcher.inodes)) {
          this.#note("a watched path was replaced: watching it anew");
          watcher.close();
          watcher = this.#watch();
          this.#fullWanted = true;
        }
        if (this.#fullWanted || now - lastFull >= this.#reconcileMs) {
          this.#fullWanted = false;
          code = await this.#full();
          lastFull = Date.now();
          continue;
        }
        const queued = queue.queued(1).length > 0;
        const burstOver = this.#pending.size > 0 &&
          (now - this.#lastAt >= this.#settleMs || now - this.#firstAt >= MAX_HOLD_MS);
        if (!burstOver && !(queued && now >= retryAt)) continue;
        if (this.#pending.size > 0) {
          queue.enqueue(this.#pending);
          this.#pending.clear();
        }
        const batch = queue.queued(PASS_PATHS);
        const sent = await this.#pass(queue, batch, `${batch.length} changed paths`);
        retryAt = sent ? 0 : Date.now() + RETRY_PASS_MS;
      }
    } finally {
      interrupt.removeEventListener("abort", onAbort);
      watcher.close();
      await watcher.done;
    }
    return EXIT.interrupted;
  }

  #watch(): { close(): void; done: Promise<void>; inodes: (number | null)[] } {
    const watcher = Deno.watchFs(this.#roots, { recursive: true });
    const inodes = this.#roots.map(inodeOf);
    const done = (async () => {
      try {
        for await (const event of watcher) this.#heard(event);
      } catch {
        // Closed, or the watched path went away: the next full scan sees to it.
        this.#fullWanted = true;
      }
    })();
    let closed = false;
    return {
      close: () => {
        if (!closed) {
          closed = true;
          try {
            watcher.close();
          } catch { /* already closed */ }
        }
      },
      done,
      inodes,
    };
  }

  #heard(event: Deno.FsEvent): void {
    if (event.flag === "rescan") this.#fullWanted = true;
    if (event.kind === "access") return;
    const now = Date.now();
    for (const path of event.paths) {
      if (this.#excluded(path)) continue;
      if (this.#pending.size === 0) this.#firstAt = now;
      this.#pending.add(path);
    }
    this.#lastAt = now;
    if (this.#fullWanted) this.#wake?.();
  }

  /** True when the exclude rules skip `path` or a directory above it below its root. */
  #excluded(path: string): boolean {
    const root = this.#roots.find((r) => path === r || path.startsWith(`${r}${sep}`));
    if (root === undefined) return true;
    const parts = relative(root, path).split(sep).filter((p) => p !== "");
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join("/");
      if (isExcluded(this.#exclude, rel, true)) return true;
      if (i === parts.length && isExcluded(this.#exclude, rel, false)) return true;
    }
    return false;
  }

  #rootsReplaced(inodes: (number | null)[]): boolean {
    return this.#roots.some((root, i) => inodeOf(root) !== inodes[i]);
  }

  #nextWake(lastFull: number, retryAt: number): number {
    const now = Date.now();
    let wake = lastFull + this.#reconcileMs - now;
    if (this.#pending.size > 0) {
      wake = Math.min(
        wake,
        Math.min(this.#lastAt + this.#settleMs, this.#firstAt + MAX_HOLD_MS) - now,
      );
      wake = Math.min(wake, this.#settleMs);
    }
    if (retryAt > 0) wake = Math.min(wake, retryAt - now);
    return Math.max(50, Math.min(wake, this.#settleMs));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  /** A full scan of the watched paths. */
  async #full(): Promise<number> {
    return await this.#scan(this.#roots, [], "full scan", false);
  }

  /** Sends the changes of these paths; answers whether they were sent (else kept queued). */
  async #pass(queue: FileCache, paths: string[], label: string): Promise<boolean> {
    const existing: string[] = [];
    const gone: string[] = [];
    for (const path of outermost(paths)) {
      try {
        Deno.lstatSync(path);
        existing.push(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
          gone.push(path);
        } else {
          existing.push(path); // the scan will say what is wrong with it
        }
      }
    }
    try {
      await this.#scan(existing, gone, label, true);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== "unavailable") throw error;
      this.#note(`${error.message}; ${paths.length} changes stay queued`);
      return false;
    }
    queue.dequeue(paths);
    return true;
  }

  async #scan(paths: string[], gone: string[], label: string, partial: boolean): Promise<number> {
    const heard: { summary: Summary | null } = { summary: null };
    const config = { ...this.#config, paths, quiet: !this.#config.verbose, json: false };
    const code = await runScan(config, this.#context, {
      gone,
      partial,
      onSummary: (summary) => {
        heard.summary = summary;
      },
    });
    const s = heard.summary;
    if (s !== null) {
      this.#note(
        `${label}: ${s.scanned} files, ${s.registered} registered, ${s.uploaded} uploaded, ` +
          `${s.unchanged} unchanged, ${s.deleted} deleted, ${s.failed} failed (${
            formatSpan(s.elapsed_seconds * 1000)
          })`,
      );
    }
    return code;
  }

  #note(line: string): void {
    if (!this.#config.quiet) this.#context.terminal.err(`ppclient: watch: ${line}\n`);
  }
}

function inodeOf(path: string): number | null {
  try {
    return Deno.statSync(path).ino;
  } catch {
    return null;
  }
}

/** The paths without those below another one of them (a directory's walk covers them). */
function outermost(paths: string[]): string[] {
  const sorted = [...new Set(paths)].sort();
  const kept: string[] = [];
  for (const path of sorted) {
    const last = kept.at(-1);
    if (last !== undefined && (path === last || path.startsWith(`${last}${sep}`))) continue;
    kept.push(path);
  }
  return kept;
}
