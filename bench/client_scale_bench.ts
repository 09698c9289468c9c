/**
 * ppclient at scale, against a local ppserver on the embedded default (SQLite + fs blobs),
 * the client always a real `deno run -A client/main.ts` process:
 *
 * (2) first scan of N files of 1 to 8 KiB, about 20% duplicate content: files/s;
 * (3) rescan of the same unchanged tree (the scan cache answers): files/s;
 * (6) upload (`ppclient scan FILE`, a resumable upload above 8 MiB) and download
 *     (`ppclient get DIGEST -o FILE`) of one large file on loopback: MB/s, and the peak
 *     RSS (VmHWM) of the client and of the server (a fresh server process for each
 *     direction, so each peak belongs to one transfer);
 * (7) the client's peak RSS scanning a large tree vs a tree ten times smaller (tiny
 *     distinct files, a real server, the full /v1 pipeline: walk, cache, hash,
 *     registration batches, blob batches).
 *
 * The scans run against the server's default worker count (one per core); the large-file
 * and RSS runs against one process, whose peak RSS is the server's.
 *
 * MB = 10^6 bytes. Each figure comes with the load average when it was taken (the
 * machine may be shared). Peak RSS is read from /proc/<pid>/status every 50 ms.
 */
import { fileURLToPath } from "node:url";
import { type RunningPpserver, startPpserver } from "../tests/_servers/ppserver.ts";
import { contentOf, round, writeRandomFile } from "./client_bench.ts";
import { machineDescription } from "./machine.ts";

const CLIENT_MAIN = fileURLToPath(new URL("../client/main.ts", import.meta.url));
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** The 1-, 5- and 15-minute load averages, as /proc/loadavg gives them. */
export function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

/** Peak resident set size (VmHWM) of a running process, in KiB; null when it is gone. */
export function peakRssKiB(pid: number): number | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = status.match(/^VmHWM:\s+(\d+) kB/m);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export interface ClientRun {
  code: number;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  peakRssMiB: number | null;
}

/** Runs ppclient as a child process, sampling its peak RSS until it exits. */
export async function runClientMeasured(args: string[], env: Record<string, string> = {}) {
  const start = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLIENT_MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let peak: number | null = null;
  const sampler = setInterval(() => {
    const now = peakRssKiB(child.pid);
    if (now !== null) peak = Math.max(peak ?? 0, now);
  }, 50);
  const output = await child.output();
  clearInterval(sampler);
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    wallSeconds: (performance.now() - start) / 1000,
    peakRssMiB: peak === null ? null : round(peak / 1024, 1),
  } satisfies ClientRun;
}

/** Files of 1 to 8 KiB, every fifth repeating an earlier one's content; 200 per directory. */
export async function buildScanTree(root: string, count: number): Promise<number> {
  const dirs = Math.max(1, Math.ceil(count / 200));
  for (let d = 0; d < dirs; d++) await Deno.mkdir(`${root}/d${d}`, { recursive: true });
  let bytes = 0;
  for (let start = 0; start < count; start += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, count - start) }, (_, k) => {
        const i = start + k;
        const content = contentOf(i % 5 === 4 ? i - 4 : i);
        bytes += content.length;
        return Deno.writeFile(`${root}/d${i % dirs}/f${i}.bin`, content);
      }),
    );
  }
  return bytes;
}

/** Tiny distinct files ("file N"), 500 per directory. */
export async function buildTinyTree(root: string, count: number): Promise<void> {
  const dirs = Math.max(1, Math.ceil(count / 500));
  for (let d = 0; d < dirs; d++) await Deno.mkdir(`${root}/d${d}`, { recursive: true });
  for (let start = 0; start < count; start += 2000) {
    await Promise.all(
      Array.from({ length: Math.min(2000, count - start) }, (_, k) => {
        const i = start + k;
        return Deno.writeTextFile(`${root}/d${i % dirs}/f${i}`, `file ${i}\n`);
      }),
    );
  }
}

/** Waits until freshly written files are old enough for the scan cache to trust. */
function ageFiles(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 2_100));
}

function scanArgs(root: string, server: RunningPpserver, cache: string, extra: string[] = []) {
  return [
    "scan",
    root,
    "--url",
    server.url,
    "-k",
    server.adminKey,
    "--cache",
    cache,
    "--hostname",
    "bench",
    "--json",
    "--quiet",
    ...extra,
  ];
}

function summaryOf(run: ClientRun, what: string) {
  if (run.code !== 0) throw new Error(`${what}: ppclient exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** (2) and (3): first scan and rescan of `files` small files. */
export async function scanBench(options: { files?: number } = {}) {
  const files = options.files ?? 100_000;
  const dir = await Deno.makeTempDir({ prefix: "ppclient-scale-" });
  try {
    const tree = `${dir}/tree`;
    const bytes = await buildScanTree(tree, files);
    await ageFiles();
    await using server = await startPpserver({
      dataDir: `${dir}/server`,
      workers: navigator.hardwareConcurrency,
    });
    const cache = `${dir}/cache`;

    const firstLoad = loadAverage();
    const firstRun = await runClientMeasured(scanArgs(tree, server, cache));
    const first = summaryOf(firstRun, "first scan");
    if (first.registered !== files || first.failed !== 0) {
      throw new Error(`first scan: unexpected summary ${JSON.stringify(first)}`);
    }
    const rescanLoad = loadAverage();
    const rescanRun = await runClientMeasured(scanArgs(tree, server, cache));
    const rescan = summaryOf(rescanRun, "rescan");
    if (rescan.unchanged !== files) {
      throw new Error(`rescan: unexpected summary ${JSON.stringify(rescan)}`);
    }
    // The same tree as another host's: the server holds every content already, so this
    // is the client's pipeline (and batch registration) without blob uploads.
    const knownLoad = loadAverage();
    const knownRun = await runClientMeasured(
      scanArgs(tree, server, cache, ["--hostname", "bench-2"]),
    );
    const known = summaryOf(knownRun, "scan of known content");
    if (known.registered !== files || known.uploaded !== 0) {
      throw new Error(`scan of known content: unexpected summary ${JSON.stringify(known)}`);
    }
    return {
      scan_files: files,
      scan_bytes: bytes,
      first_scan: {
        files_per_s: round(files / first.elapsed_seconds),
        target_files_per_s: 3000,
        seconds: first.elapsed_seconds,
        wall_seconds_with_startup: round(firstRun.wallSeconds, 2),
        uploaded: first.uploaded,
        deduplicated: first.deduplicated,
        client_peak_rss_mib: firstRun.peakRssMiB,
        load_average: firstLoad,
      },
      rescan: {
        files_per_s: round(files / rescan.elapsed_seconds),
        target_files_per_s: 25_000,
        seconds: rescan.elapsed_seconds,
        wall_seconds_with_startup: round(rescanRun.wallSeconds, 2),
        files_read: rescan.hashed,
        client_peak_rss_mib: rescanRun.peakRssMiB,
        load_average: rescanLoad,
      },
      first_scan_of_known_content: {
        files_per_s: round(files / known.elapsed_seconds),
        seconds: known.elapsed_seconds,
        client_peak_rss_mib: knownRun.peakRssMiB,
        load_average: knownLoad,
      },
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** (6): upload and download of one large file through ppclient. */
export async function largeFileBench(options: { bytes?: number } = {}) {
  const size = options.bytes ?? 4 * GIB;
  const dir = await Deno.makeTempDir({ prefix: "ppclient-large-" });
  try {
    const source = `${dir}/src/large.bin`;
    await Deno.mkdir(`${dir}/src`);
    await writeRandomFile(source, size);
    const dataDir = `${dir}/server`;
    const cache = `${dir}/cache`;

    // Upload: a fresh server, `ppclient scan FILE`.
    let adminKey: string;
    let upload;
    let serverUploadRss: number | null;
    {
      await using server = await startPpserver({ dataDir });
      adminKey = server.adminKey;
      const load = loadAverage();
      const run = await runClientMeasured(scanArgs(source, server, cache));
      const summary = summaryOf(run, "upload");
      if (summary.uploaded !== 1 || summary.uploaded_bytes !== size) {
        throw new Error(`upload: unexpected summary ${JSON.stringify(summary)}`);
      }
      serverUploadRss = peakRssKiB(server.process.pid);
      // The scan hashes the file first, then uploads it: time the upload part alone too.
      upload = {
        mb_s_whole_scan: round(size / 1e6 / summary.elapsed_seconds),
        seconds_whole_scan: summary.elapsed_seconds,
        client_peak_rss_mib: run.peakRssMiB,
        server_peak_rss_mib: serverUploadRss === null ? null : round(serverUploadRss / 1024, 1),
        load_average: load,
      };
    }
    const digest = (await new Deno.Command("sha256sum", { args: [source], stdout: "piped" })
      .output()).stdout;
    const hex = new TextDecoder().decode(digest).split(" ")[0];
    await Deno.remove(source);

    // Download: a fresh server process on the same data directory.
    let download;
    {
      await using server = await startPpserver({ dataDir, adminKey });
      const target = `${dir}/downloaded.bin`;
      const load = loadAverage();
      const run = await runClientMeasured([
        "get",
        hex,
        "-o",
        target,
        "--url",
        server.url,
        "-k",
        server.adminKey,
        "--quiet",
      ]);
      if (run.code !== 0) throw new Error(`download: ppclient exited ${run.code}: ${run.stderr}`);
      const serverRss = peakRssKiB(server.process.pid);
      download = {
        mb_s_with_startup: round(size / 1e6 / run.wallSeconds),
        wall_seconds_with_startup: round(run.wallSeconds, 2),
        client_peak_rss_mib: run.peakRssMiB,
        server_peak_rss_mib: serverRss === null ? null : round(serverRss / 1024, 1),
        load_average: load,
      };
      await Deno.remove(target);
    }
    return {
      large_file_bytes: size,
      upload: { ...upload, target_mb_s: 400, target_rss_mib: 150 },
      download: { ...download, target_rss_mib: 150 },
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** (7): the client's peak RSS scanning `large` tiny files vs `small` (a tenth of it). */
export async function rssFlatnessBench(options: { small?: number; large?: number } = {}) {
  const small = options.small ?? 30_000;
  const large = options.large ?? 300_000;
  const dir = await Deno.makeTempDir({ prefix: "ppclient-rss-" });
  try {
    const results: Record<string, unknown>[] = [];
    for (const count of [small, large]) {
      const tree = `${dir}/tree-${count}`;
      await buildTinyTree(tree, count);
      await using server = await startPpserver({ dataDir: `${dir}/server-${count}` });
      const load = loadAverage();
      const run = await runClientMeasured(scanArgs(tree, server, `${dir}/cache-${count}`));
      const summary = summaryOf(run, `scan of ${count} files`);
      if (summary.registered !== count) {
        throw new Error(`scan of ${count}: unexpected summary ${JSON.stringify(summary)}`);
      }
      results.push({
        files: count,
        client_peak_rss_mib: run.peakRssMiB,
        files_per_s: round(count / summary.elapsed_seconds),
        load_average: load,
      });
      await Deno.remove(tree, { recursive: true });
    }
    const [a, b] = results.map((r) => Number(r.client_peak_rss_mib));
    return { rss: results, rss_ratio: round(b / a, 2), target_ratio: 1.5 };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

export interface ClientScaleOptions {
  scanFiles?: number;
  largeFileBytes?: number;
  rssSmall?: number;
  rssLarge?: number;
}

/** All of the above, with the machine description. */
export async function clientScaleBench(options: ClientScaleOptions = {}) {
  return {
    machine: machineDescription(),
    ...await scanBench({ files: options.scanFiles }),
    ...await largeFileBench({ bytes: options.largeFileBytes }),
    ...await rssFlatnessBench({ small: options.rssSmall, large: options.rssLarge }),
  };
}

if (import.meta.main) {
  const arg = (name: string) => {
    const value = Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
    return value === undefined ? undefined : Number(value);
  };
  const which = Deno.args.find((a) => !a.startsWith("--")) ?? "all";
  const result = which === "scan"
    ? await scanBench({ files: arg("files") })
    : which === "large"
    ? await largeFileBench({ bytes: arg("bytes") })
    : which === "rss"
    ? await rssFlatnessBench({ small: arg("small"), large: arg("large") })
    : await clientScaleBench({
      scanFiles: arg("files"),
      largeFileBytes: arg("bytes"),
      rssSmall: arg("small"),
      rssLarge: arg("large"),
    });
  console.log(JSON.stringify({ machine: machineDescription(), ...result }, null, 2));
}
