/**
 * What a scan shows while it runs and when it ends.
 *
 * - On a terminal (stderr is a TTY): one live line on stderr, redrawn ten times a
 *   second: files and bytes done, rate, and the phases in flight.
 * - Not a terminal: a plain progress line on stderr every 10 seconds.
 * - Problems with single files always go to stderr, one line each.
 * - `--verbose`: one line per file on stderr.
 * - The summary goes to stdout: text, or one JSON object with `--json`.
 * - `--quiet`: no progress and no text summary (problems and `--json` still print).
 */
import type { Summary } from "../scan/stats.ts";
import type { ScanStats } from "../scan/stats.ts";
import type { Terminal } from "./terminal.ts";

export interface ProgressOptions {
  quiet: boolean;
  json: boolean;
  verbose: boolean;
  /** Interval of plain progress lines when not on a terminal. */
  plainIntervalMs?: number;
}

const LIVE_INTERVAL_MS = 100;
const CLEAR_LINE = "\r\x1b[2K";

export class ProgressReporter {
  #terminal: Terminal;
  #stats: ScanStats;
  #options: ProgressOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #live = false;

  constructor(terminal: Terminal, stats: ScanStats, options: ProgressOptions) {
    this.#terminal = terminal;
    this.#stats = stats;
    this.#options = options;
  }

  start(): void {
    if (this.#options.quiet) return;
    if (this.#terminal.interactive) {
      this.#timer = setInterval(() => this.#drawLive(), LIVE_INTERVAL_MS);
    } else {
      this.#timer = setInterval(
        () => this.#terminal.err(`ppclient: ${this.progressLine()}\n`),
        this.#options.plainIntervalMs ?? 10_000,
      );
    }
  }

  /** A problem with one file or directory: always shown. */
  problem(path: string, message: string): void {
    this.#line(`ppclient: ${path}: ${message}`);
  }

  /** A line shown only with --verbose. */
  detail(text: string): void {
    if (this.#options.verbose) this.#line(`ppclient: ${text}`);
  }

  /** A notice shown unless --quiet. */
  notice(text: string): void {
    if (!this.#options.quiet) this.#line(`ppclient: ${text}`);
  }

  /**
   * Ends the live line and prints the summary. `stopped`: a fatal error ended the scan;
   * with --json the summary then goes out inside the error object (see `main`).
   */
  finish(summary: Summary, { stopped = false }: { stopped?: boolean } = {}): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clearLive();
    if (this.#options.json) {
      if (!stopped) this.#terminal.out(`${JSON.stringify(summary)}\n`);
    } else if (!this.#options.quiet) {
      this.#terminal.out(formatSummary(summary, { stopped }));
    }
  }

  progressLine(): string {
    const s = this.#stats;
    const elapsed = s.elapsedSeconds;
    const rate = elapsed > 0 ? s.bytesRead / elapsed : 0;
    const inFlight = s.inFlight.hashing + s.inFlight.registering + s.inFlight.uploading;
    const filesRate = elapsed > 0 ? (s.scanned - inFlight) / elapsed : 0;
    const phases = Object.entries(s.inFlight)
      .filter(([, n]) => n > 0)
      .map(([phase, n]) => `${phase} ${n}`)
      .join(", ");
    const unchanged = s.unchanged > 0 ? `${s.unchanged} unchanged, ` : "";
    return `${s.scanned} files, ${formatBytes(s.bytesRead)} read (${formatBytes(rate)}/s, ` +
      `${filesRate.toFixed(0)} files/s), ${unchanged}${s.uploaded} uploaded, ${s.failed} failed` +
      ` | ${phases || "walking"} | ${formatDuration(elapsed)}`;
  }

  #line(text: string): void {
    this.#clearLive();
    this.#terminal.err(`${text}\n`);
  }

  #drawLive(): void {
    const columns = this.#terminal.columns?.() ?? 0;
    const line = this.progressLine();
    const fitted = columns > 1 && line.length >= columns ? line.slice(0, columns - 1) : line;
    this.#terminal.err(`${CLEAR_LINE}${fitted}`);
    this.#live = true;
  }

  #clearLive(): void {
    if (this.#live) {
      this.#terminal.err(CLEAR_LINE);
      this.#live = false;
    }
  }
}

export function formatSummary(s: Summary, { stopped = false }: { stopped?: boolean } = {}): string {
  const reasons = (counts: Partial<Record<string, number>>) => {
    const parts = Object.entries(counts).filter(([, n]) => n).map(([k, n]) =>
      `${k.replaceAll("_", " ")} ${n}`
    );
    return parts.length > 0 ? ` (${parts.join(", ")})` : "";
  };
  const title = stopped
    ? "ppclient: stopped by an error, partial summary"
    : s.interrupted
    ? "ppclient: interrupted, partial summary"
    : s.dry_run
    ? "ppclient: dry run, nothing was sent"
    : "ppclient: summary";
  const lines = [
    title,
    `  scanned       ${s.scanned} files, ${
      formatBytes(s.scanned_bytes)
    }, ${s.directories} directories`,
    s.dry_run ? `  hashed        ${s.hashed}` : `  registered    ${s.registered}`,
    ...(s.dry_run ? [] : [`  unchanged     ${s.unchanged} (neither read nor sent when cached)`]),
    `  uploaded      ${s.uploaded} files, ${formatBytes(s.uploaded_bytes)}`,
    `  deduplicated  ${s.deduplicated}`,
    `  skipped       ${s.skipped}${reasons(s.skipped_by_reason)}`,
    `  failed        ${s.failed}${reasons(s.failed_by_reason)}`,
    ...(s.abandoned > 0
      ? [
        `  abandoned     ${s.abandoned} (in flight when ${
          s.interrupted ? "interrupted" : "the scan stopped"
        })`,
      ]
      : []),
    ...(s.deleted > 0 ? [`  deleted       ${s.deleted} (gone since the last scan)`] : []),
    ...(s.gone_unreported > 0
      ? [
        `  gone          ${s.gone_unreported} (since the last scan; a classic server cannot be told)`,
      ]
      : []),
    `  elapsed       ${formatDuration(s.elapsed_seconds)}`,
  ];
  return `${lines.join("\n")}\n`;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
