/**
 * The tool a user would pick instead: `restic backup` of the same tree of small files
 * (1-8 KiB, every fifth a repeat) into a local repository, beside PutPlace's first scan
 * and rescan of that tree against a local ppserver (embedded default), in the same run.
 * Times are wall clock from process start to exit for both tools (restic also encrypts
 * and writes packs; PutPlace sends to a server over loopback). Skipped with a reason when
 * `restic` is not installed (Debian: `apt-get install restic`).
 */
import { startPpserver } from "../tests/_servers/ppserver.ts";
import { round } from "./client_bench.ts";
import { buildScanTree, loadAverage, runClientMeasured } from "./client_scale_bench.ts";

async function timed(command: string, args: string[], env: Record<string, string>) {
  const started = performance.now();
  const output = await new Deno.Command(command, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  if (!output.success) {
    throw new Error(`${command} ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return seconds;
}

async function resticVersion(): Promise<string | null> {
  try {
    const output = await new Deno.Command("restic", { args: ["version"], stdout: "piped" })
      .output();
    return output.success ? new TextDecoder().decode(output.stdout).trim() : null;
  } catch {
    return null;
  }
}

export async function resticBench(options: { files?: number } = {}) {
  const files = options.files ?? 100_000;
  const version = await resticVersion();
  if (version === null) return { skipped: "restic is not installed (apt-get install restic)" };
  const dir = await Deno.makeTempDir({ prefix: "ppbench-restic-" });
  try {
    const tree = `${dir}/tree`;
    await buildScanTree(tree, files);
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // let the scan cache trust them
    const env = {
      RESTIC_REPOSITORY: `${dir}/repo`,
      RESTIC_PASSWORD: "bench",
      RESTIC_CACHE_DIR: `${dir}/restic-cache`,
    };
    await timed("restic", ["init", "--quiet"], env);
    const resticLoad = loadAverage();
    const resticFirst = await timed("restic", ["backup", "--quiet", tree], env);
    const resticRescan = await timed("restic", ["backup", "--quiet", tree], env);

    await using server = await startPpserver({
      dataDir: `${dir}/server`,
      workers: navigator.hardwareConcurrency,
    });
    const args = [
      "scan",
      tree,
      "--url",
      server.url,
      "-k",
      server.adminKey,
      "--cache",
      `${dir}/pp-cache`,
      "--hostname",
      "bench",
      "--json",
      "--quiet",
    ];
    const putplaceLoad = loadAverage();
    const first = await runClientMeasured(args);
    const rescan = await runClientMeasured(args);
    for (const [what, run] of [["first scan", first], ["rescan", rescan]] as const) {
      if (run.code !== 0) throw new Error(`${what}: ppclient exited ${run.code}: ${run.stderr}`);
    }
    const firstRate = files / first.wallSeconds;
    const rescanRate = files / rescan.wallSeconds;
    return {
      restic: version,
      files,
      restic_first_files_per_s: round(files / resticFirst),
      restic_rescan_files_per_s: round(files / resticRescan),
      putplace_first_files_per_s: round(firstRate),
      putplace_rescan_files_per_s: round(rescanRate),
      first_ratio: round(firstRate / (files / resticFirst), 2),
      rescan_ratio: round(rescanRate / (files / resticRescan), 2),
      target_first_ratio: 1.0,
      target_rescan_ratio: 1.5,
      load_average: { restic: resticLoad, putplace: putplaceLoad },
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const files = Deno.args.find((a) => a.startsWith("--files="))?.split("=")[1];
  console.log(await resticBench({ files: files ? Number(files) : undefined }));
}
