/**
 * `ppclient watch` benchmarks, with a real ppserver and a real `ppclient watch` process:
 * (a) delay from a file's close to its registration on the server, p50 and p99, under a
 *     burst (many files written at once) and under a trickle (one file every 100 ms). The
 *     registration time is the server's own: the `at` of the file's "added" change in
 *     `GET /v1/changes` (same machine, same clock), so polling adds nothing to it;
 * (b) the watcher's RSS watching a large tree (1,000 files a directory, empty files)
 *     beside a tree ten times smaller: the peak (VmHWM, which includes the first full
 *     scan every watch starts with) and the resident set once it is watching.
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { type RunningPpserver, startPpserver } from "../tests/_servers/ppserver.ts";
import { round } from "./client_bench.ts";
import { loadAverage, peakRssKiB } from "./client_scale_bench.ts";

const CLIENT_MAIN = fileURLToPath(new URL("../client/main.ts", import.meta.url));
const HOST = "bench-watch";

export interface WatchBenchOptions {
  /** Files written at once for the burst (the issue's: 10,000). */
  burst?: number;
  /** Length of the trickle, one file every `trickleEveryMs`. */
  trickleSeconds?: number;
  trickleEveryMs?: number;
  /** Files of the large watched tree (the issue's: 1,000,000) and of the small one. */
  files?: number;
  smallFiles?: number;
}

export async function watchBench(
  options: WatchBenchOptions = {},
): Promise<Record<string, unknown>> {
  const burst = options.burst ?? 10_000;
  const trickleSeconds = options.trickleSeconds ?? 30;
  const trickleEveryMs = options.trickleEveryMs ?? 100;
  const files = options.files ?? 1_000_000;
  const smallFiles = options.smallFiles ?? Math.round(files / 10);
  const dir = await Deno.makeTempDir({ prefix: "ppclient-watch-bench-" });
  try {
    const latency = await latencyBench(dir, burst, trickleSeconds, trickleEveryMs);
    const rss = [];
    for (const count of [smallFiles, files]) rss.push(await rssBench(dir, count));
    return {
      ...latency,
      rss,
      rss_watching_ratio: round(rss[1].watching_rss_mib / rss[0].watching_rss_mib, 2),
      rss_peak_ratio: round(rss[1].peak_rss_mib / rss[0].peak_rss_mib, 2),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function latencyBench(dir: string, burst: number, seconds: number, everyMs: number) {
  const root = join(dir, "latency");
  await Deno.mkdir(join(root, "burst"), { recursive: true });
  await Deno.mkdir(join(root, "trickle"), { recursive: true });
  await Deno.writeTextFile(join(root, "seed.txt"), "seed\n");
  await using server = await startPpserver();
  await using watcher = await startWatch(server, root, join(dir, "latency-cache"), 60_000);

  // Burst: every file written as fast as the disk takes them; each one's close is timed.
  const since = new Date().toISOString();
  const closed = new Map<string, number>();
  for (let i = 0; i < burst; i++) {
    const path = join(root, "burst", `b${i}.txt`);
    Deno.writeTextFileSync(path, `burst file ${i}\n`); // closed when it returns
    closed.set(path, Date.now());
  }
  const burstWrite = (Date.now() - Date.parse(since)) / 1000;
  const burstDelays = await registrationDelays(server, since, closed, 600_000, watcher);

  // Trickle: one file every `everyMs` for `seconds`.
  const trickleSince = new Date().toISOString();
  const trickled = new Map<string, number>();
  const count = Math.round((seconds * 1000) / everyMs);
  const start = Date.now();
  for (let i = 0; i < count; i++) {
    const wait = start + i * everyMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const path = join(root, "trickle", `t${i}.txt`);
    Deno.writeTextFileSync(path, `trickle file ${i}\n`);
    trickled.set(path, Date.now());
  }
  const trickleDelays = await registrationDelays(server, trickleSince, trickled, 300_000, watcher);
  return {
    burst_files: burst,
    burst_write_seconds: round(burstWrite, 2),
    burst: percentiles(burstDelays),
    trickle_files: count,
    trickle_every_ms: everyMs,
    trickle: percentiles(trickleDelays),
    watcher_peak_rss_mib: round((peakRssKiB(watcher.pid) ?? 0) / 1024, 1),
    watcher_log_tail: watcher.output().trim().split("\n").slice(-6),
  };
}

/** Close-to-registration delays (ms) of these files, read from the server's change feed. */
async function registrationDelays(
  server: RunningPpserver,
  since: string,
  closed: Map<string, number>,
  timeoutMs: number,
  watcher: RunningWatch,
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const registered = new Map<string, number>();
    let cursor: string | undefined;
    do {
      const params = new URLSearchParams({ host: HOST, since, limit: "1000" });
      if (cursor) params.set("cursor", cursor);
      const response = await fetch(`${server.url}/v1/changes?${params}`, {
        headers: { "x-api-key": server.adminKey },
      });
      if (!response.ok) {
        throw new Error(`GET /v1/changes: ${response.status} ${await response.text()}`);
      }
      const page = await response.json() as {
        items: { at: string; kind: string; filepath: string }[];
        next_cursor: string | null;
      };
      for (const change of page.items) {
        if (change.kind !== "deleted" && closed.has(change.filepath)) {
          const at = Date.parse(change.at);
          registered.set(change.filepath, Math.min(registered.get(change.filepath) ?? at, at));
        }
      }
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    if (registered.size === closed.size) {
      return [...registered].map(([path, at]) => at - closed.get(path)!);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `only ${registered.size} of ${closed.size} files registered in ${timeoutMs / 1000} s; ` +
          `watcher said:\n${watcher.output().slice(-2000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function rssBench(dir: string, files: number) {
  const root = join(dir, `tree-${files}`);
  const perDir = 1000;
  const generating = performance.now();
  // Empty files, created with the fewest syscalls Deno offers (open with create, close).
  for (let d = 0; d * perDir < files; d++) {
    const sub = join(root, `d${d}`);
    Deno.mkdirSync(sub, { recursive: true });
    for (let i = d * perDir; i < Math.min(files, (d + 1) * perDir); i++) {
      Deno.openSync(join(sub, `f${i}`), { write: true, create: true }).close();
    }
  }
  const generateSeconds = (performance.now() - generating) / 1000;
  await using server = await startPpserver();
  const started = performance.now();
  // The first full scan registers every file: allow it 2 ms a file and two minutes more.
  await using watcher = await startWatch(
    server,
    root,
    join(dir, `cache-${files}`),
    files * 2 + 120_000,
  );
  const watchingAfter = (performance.now() - started) / 1000;
  // Watching, idle: let the scan's garbage be collected, then read the resident set.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const watching = residentKiB(watcher.pid) ?? 0;
  const peak = peakRssKiB(watcher.pid) ?? 0;
  await Deno.remove(root, { recursive: true });
  return {
    files,
    directories: Math.ceil(files / perDir),
    generate_seconds: round(generateSeconds, 1),
    first_scan_to_watching_seconds: round(watchingAfter, 1),
    peak_rss_mib: round(peak / 1024, 1),
    watching_rss_mib: round(watching / 1024, 1),
    load_average: loadAverage(),
  };
}

interface RunningWatch extends AsyncDisposable {
  pid: number;
  output(): string;
}

/** Starts `ppclient watch ROOT` and waits until it says it is watching. */
async function startWatch(
  server: RunningPpserver,
  root: string,
  cache: string,
  timeoutMs: number,
): Promise<RunningWatch> {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLIENT_MAIN,
      "watch",
      root,
      "--url",
      server.url,
      "-k",
      server.adminKey,
      "--hostname",
      HOST,
      "--cache",
      cache,
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const pumps = Promise.all([pump(process.stdout), pump(process.stderr)]);
  const stop = async () => {
    try {
      process.kill("SIGTERM");
    } catch { /* already gone */ }
    await process.status;
    await pumps;
  };
  const deadline = Date.now() + timeoutMs;
  while (!text.includes("ppclient: watch: watching")) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`ppclient watch was not watching after ${timeoutMs / 1000} s:\n${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { pid: process.pid, output: () => text, [Symbol.asyncDispose]: stop };
}

/** Current resident set (VmRSS) of a running process, in KiB. */
function residentKiB(pid: number): number | null {
  try {
    const match = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^VmRSS:\s+(\d+) kB/m);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

function percentiles(delays: number[]) {
  const sorted = [...delays].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50_ms: at(0.5), p99_ms: at(0.99), max_ms: sorted.at(-1), min_ms: sorted[0] };
}
