/**
 * The fleet on one server (issue 15): H ppclient processes at once, each scanning its own
 * tree of small files (1-8 KiB) as its own host, against one ppserver on the embedded
 * default. Every fifth file's content is the same on every host (about 20% shared
 * content, as a fleet of similar machines has); the rest is the host's own.
 *
 * Figures, for the first scans (all hosts at once) and then the rescans: aggregate files/s
 * (all hosts' files over the time from the first start to the last end), the server's CPU
 * seconds over that time (all its processes), and the peak RSS of every client and every
 * server process.
 */
import { type RunningPpserver, startPpserver } from "../tests/_servers/ppserver.ts";
import { contentOf, round } from "./client_bench.ts";
import { loadAverage, runClientMeasured } from "./client_scale_bench.ts";
import { treeCpuSeconds, treePeakRssMiB } from "../tests/_servers/process_tree.ts";

/** Host h's file i: shared content for every fifth file, the host's own otherwise. */
function fleetContentOf(host: number, i: number): Uint8Array<ArrayBuffer> {
  return contentOf(i % 5 === 4 ? i : (host + 1) * 10_000_000 + i);
}

async function buildHostTree(root: string, host: number, count: number): Promise<void> {
  const dirs = Math.max(1, Math.ceil(count / 200));
  for (let d = 0; d < dirs; d++) await Deno.mkdir(`${root}/d${d}`, { recursive: true });
  for (let start = 0; start < count; start += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, count - start) }, (_, k) => {
        const i = start + k;
        return Deno.writeFile(`${root}/d${i % dirs}/f${i}.bin`, fleetContentOf(host, i));
      }),
    );
  }
}

export interface FleetOptions {
  hosts?: number;
  filesPerHost?: number;
  /** `ppserver serve --workers N` (default: the server's own default). */
  serverWorkers?: number;
}

/** All hosts scan at once; the figures of the round. */
async function fleetRound(
  server: RunningPpserver,
  dir: string,
  hosts: number,
  files: number,
  expect: (summary: Record<string, number>) => boolean,
) {
  const load = loadAverage();
  const cpuBefore = treeCpuSeconds(server.process.pid);
  const started = performance.now();
  const runs = await Promise.all(Array.from({ length: hosts }, (_, h) =>
    runClientMeasured([
      "scan",
      `${dir}/host${h}`,
      "--url",
      server.url,
      "-k",
      server.adminKey,
      "--cache",
      `${dir}/cache${h}`,
      "--hostname",
      `fleet-host-${h}`,
      "--json",
      "--quiet",
    ])));
  const wall = (performance.now() - started) / 1000;
  const cpu = treeCpuSeconds(server.process.pid) - cpuBefore;
  const summaries = runs.map((run, h) => {
    if (run.code !== 0) throw new Error(`host ${h}: ppclient exited ${run.code}: ${run.stderr}`);
    const summary = JSON.parse(run.stdout);
    if (!expect(summary)) throw new Error(`host ${h}: unexpected summary ${run.stdout}`);
    return summary;
  });
  const slowest = Math.max(...summaries.map((s) => s.elapsed_seconds));
  return {
    aggregate_files_per_s: round(hosts * files / slowest),
    aggregate_files_per_s_with_startup: round(hosts * files / wall),
    slowest_host_seconds: slowest,
    wall_seconds: round(wall, 2),
    server_cpu_seconds: round(cpu, 2),
    uploaded: summaries.reduce((sum, s) => sum + (s.uploaded ?? 0), 0),
    deduplicated: summaries.reduce((sum, s) => sum + (s.deduplicated ?? 0), 0),
    client_peak_rss_mib: runs.map((run) => run.peakRssMiB),
    load_average: load,
  };
}

export async function fleetBench(options: FleetOptions = {}) {
  const hosts = options.hosts ?? 12;
  const files = options.filesPerHost ?? 20_000;
  const dir = await Deno.makeTempDir({ prefix: "ppfleet-" });
  try {
    for (let h = 0; h < hosts; h++) await buildHostTree(`${dir}/host${h}`, h, files);
    // Files written a moment ago are "racy" for the scan cache: let them age.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await using server = await startPpserver({
      dataDir: `${dir}/server`,
      workers: options.serverWorkers ?? navigator.hardwareConcurrency,
    });
    const first = await fleetRound(server, dir, hosts, files, (s) => s.registered === files);
    const rescan = await fleetRound(server, dir, hosts, files, (s) => s.unchanged === files);
    return {
      hosts,
      files_per_host: files,
      server_workers: options.serverWorkers ?? navigator.hardwareConcurrency,
      cores: navigator.hardwareConcurrency,
      first_scan: first,
      rescan,
      server_peak_rss_mib: treePeakRssMiB(server.process.pid),
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const arg = (name: string) => {
    const value = Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
    return value === undefined ? undefined : Number(value);
  };
  console.log(JSON.stringify(
    await fleetBench({
      hosts: arg("hosts"),
      filesPerHost: arg("files"),
      serverWorkers: arg("workers"),
    }),
    null,
    2,
  ));
}
