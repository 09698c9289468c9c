/**
 * The client's hashing of many small files (1-8 KiB), without the server: files/s on the
 * main thread alone (`hashFile`, 32 at once, as the scan did before its hash workers),
 * with one hash worker, and with the scan's default number of workers (one per core, at
 * most 8). Every run hashes the same files, read from the page cache (a first pass warms
 * it), and all three must agree on every digest.
 */
import { hashFile, type HashOutcome, ReadBuffers } from "../client/scan/hash.ts";
import { defaultHashWorkers, HashPool } from "../client/scan/hash_pool.ts";
import { contentOf, round } from "./client_bench.ts";

async function onMainThread(paths: string[]): Promise<HashOutcome[]> {
  const outcomes: HashOutcome[] = new Array(paths.length);
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    const buffers = new ReadBuffers();
    while (next < paths.length) {
      const at = next++;
      outcomes[at] = await hashFile(paths[at], { buffers });
    }
  }));
  return outcomes;
}

async function inPool(paths: string[], workers: number): Promise<HashOutcome[]> {
  using pool = new HashPool(workers);
  const outcomes = await Promise.all(paths.map((path) => pool.hash({ path })));
  return outcomes.map((outcome) => {
    if (outcome === null) throw new Error("a small file was left to the main thread");
    return outcome;
  });
}

function digestsOf(outcomes: HashOutcome[]): string {
  return outcomes.map((o) => (o.ok ? o.digest : o.problem)).join();
}

export async function hashPoolBench(options: { files?: number } = {}) {
  const files = options.files ?? 50_000;
  const dir = await Deno.makeTempDir({ prefix: "ppbench-hash-pool-" });
  try {
    const paths: string[] = [];
    for (let d = 0; d * 200 < files; d++) await Deno.mkdir(`${dir}/d${d}`);
    for (let i = 0; i < files; i++) {
      const path = `${dir}/d${Math.floor(i / 200)}/f${i}`;
      await Deno.writeFile(path, contentOf(i));
      paths.push(path);
    }
    const workers = defaultHashWorkers(navigator.hardwareConcurrency ?? 2);
    const reference = digestsOf(await onMainThread(paths)); // also warms the page cache
    const timed = async (run: () => Promise<HashOutcome[]>) => {
      const started = performance.now();
      const outcomes = await run();
      const seconds = (performance.now() - started) / 1000;
      if (digestsOf(outcomes) !== reference) throw new Error("the digests differ");
      return round(files / seconds);
    };
    return {
      files,
      main_thread_files_per_s: await timed(() => onMainThread(paths)),
      one_worker_files_per_s: await timed(() => inPool(paths, 1)),
      workers,
      workers_files_per_s: await timed(() => inPool(paths, workers)),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const files = Deno.args.find((a) => a.startsWith("--files="))?.split("=")[1];
  console.log(await hashPoolBench({ files: files ? Number(files) : undefined }));
}
