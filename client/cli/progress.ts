/**
 * What a scan shows while it runs and when it ends.
 *
 * - On a terminal (stderr is a TTY): one live line on stderr, redrawn ten times a
 *   second and fitted to the terminal's width (what matters most stays): percentage,
 *   files and bytes done of the total (estimated, marked "~" and "+", until the walk
 *   ends), the rate over the last `RATE_WINDOW_MS`, ETA, blob bytes sent (large files as
 *   they go), failures, and the phases in flight.
 * - Not a terminal: the same line, plain, on stderr every 10 seconds.
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
  /** The clock of the rate (tests). */
  now?: () => number;
}

const LIVE_INTERVAL_MS = 100;
const CLEAR_LINE = "\r\x1b[2K";

export class ProgressReporter {
  #terminal: Terminal;
  #stats: ScanStats;
  #options: ProgressOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #live = false;
  #rate: MovingRate;

  constructor(terminal: Terminal, stats: ScanStats, options: ProgressOptions) {
    this.#rate = new MovingRate(options.now);
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

  /** The progress line, fitted to `columns` when given (0: no limit). */
  progressLine(columns = 0): string {
    const s = this.#stats;
    const rate = this.#rate.sample(s.doneBytes);
    const estimate = !s.walkDone;
    const phases = Object.entries(s.inFlight)
      .filter(([, n]) => n > 0)
      .map(([phase, n]) => `${phase} ${n}`)
      .join(", ");
    return fitLine([
      `${percent(s.doneBytes, s.foundBytes, s.settled, s.scanned, estimate)} ` +
      `${s.settled}/${s.scanned}${estimate ? "+" : ""} files`,
      `${formatBytes(s.doneBytes)}/${formatBytes(s.foundBytes)}${estimate ? "+" : ""}`,
      `${formatBytes(rate)}/s`,
      eta(s.foundBytes - s.doneBytes, rate, estimate),
      s.sentBytes > 0 ? `sent ${formatBytes(s.sentBytes)}` : "",
      s.failed > 0 ? `${s.failed} failed` : "",
      phases || (estimate ? "walking" : ""),
      formatDuration(s.elapsedSeconds),
    ], columns);
  }

  #line(text: string): void {
    this.#clearLive();
    this.#terminal.err(`${text}\n`);
  }

  #drawLive(): void {
    const columns = this.#terminal.columns?.() ?? 0;
    this.#terminal.err(`${CLEAR_LINE}${this.progressLine(columns > 1 ? columns - 1 : 80)}`);
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

/**
 * The live line of one transfer (`ppclient get`): percentage, bytes done of the total,
 * rate over the last `RATE_WINDOW_MS`, ETA; on a terminal only, fitted to its width.
 */
export class TransferProgress {
  #terminal: Terminal;
  #timer: ReturnType<typeof setInterval> | undefined;
  #rate: MovingRate;
  #live = false;
  done = 0;
  total: number | null = null;
  /** Files done of the files known, for a transfer of many (`ppclient restore`). */
  files: { done: number; known: number; complete: boolean } | null = null;

  constructor(terminal: Terminal, now?: () => number) {
    this.#terminal = terminal;
    this.#rate = new MovingRate(now);
  }

  start(): void {
    if (!this.#terminal.interactive) return;
    this.#timer = setInterval(() => {
      const columns = this.#terminal.columns?.() ?? 0;
      this.#terminal.err(`${CLEAR_LINE}${this.line(columns > 1 ? columns - 1 : 80)}`);
      this.#live = true;
    }, LIVE_INTERVAL_MS);
  }

  line(columns = 0): string {
    const rate = this.#rate.sample(this.done);
    const total = this.total;
    const files = this.files;
    return fitLine([
      total === null
        ? formatBytes(this.done)
        : `${percent(this.done, total, 0, 0, false)} ${formatBytes(this.done)}/${
          formatBytes(total)
        }`,
      files === null ? "" : `${files.done}/${files.known}${files.complete ? "" : "+"} files`,
      `${formatBytes(rate)}/s`,
      total === null ? "" : eta(total - this.done, rate, false),
    ], columns);
  }

  finish(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#live) this.#terminal.err(CLEAR_LINE);
    this.#live = false;
  }
}

/** The rate of a growing count over the last `RATE_WINDOW_MS` (not since the start). */
export const RATE_WINDOW_MS = 10_000;

export class MovingRate {
  #samples: { at: number; value: number }[] = [];
  #now: () => number;

  constructor(now: () => number = performance.now.bind(performance)) {
    this.#now = now;
  }

  /** Records `value` now; answers its growth per second over the window. */
  sample(value: number): number {
    const at = this.#now();
    this.#samples.push({ at, value });
    while (this.#samples.length > 2 && at - this.#samples[1].at >= RATE_WINDOW_MS) {
      this.#samples.shift();
    }
    const first = this.#samples[0];
    const seconds = (at - first.at) / 1000;
    return seconds > 0 ? Math.max(0, (value - first.value) / seconds) : 0;
  }
}

/** The parts of a line that fit in `columns` (0: all), in order of importance. */
export function fitLine(parts: string[], columns: number): string {
  let line = "";
  for (const part of parts) {
    if (part === "") continue;
    const next = line === "" ? part : `${line} | ${part}`;
    if (columns > 0 && next.length > columns) {
      if (line === "") return part.slice(0, columns);
      continue; // a shorter, less important part further on may still fit
    }
    line = next;
  }
  return line;
}

function percent(
  doneBytes: number,
  totalBytes: number,
  doneFiles: number,
  totalFiles: number,
  estimate: boolean,
): string {
  const fraction = totalBytes > 0
    ? doneBytes / totalBytes
    : totalFiles > 0
    ? doneFiles / totalFiles
    : 0;
  return `${estimate ? "~" : ""}${Math.min(100, Math.floor(fraction * 100))}%`;
}

function eta(remainingBytes: number, rate: number, estimate: boolean): string {
  if (rate <= 0 || remainingBytes <= 0) return "";
  const seconds = Math.round(remainingBytes / rate);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const clock = h > 0
    ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`
    : `${m}:${String(s).padStart(2, "0")}`;
  return `ETA ${estimate ? "~" : ""}${clock}`;
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
