/**
 * Server ingest through batch registration: file records/s into a real ppserver on the
 * embedded default, `POST /v1/files/batch` with 1,000 files a request and a few requests
 * in flight. Every record is a new file (first scan of a fleet).
 *
 * The load generator is this process, and it does little: every request body is built
 * and encoded before the clock starts, so each request costs it one `fetch` of bytes it
 * holds. Its own CPU seconds are reported beside the server's (all the server's
 * processes, with `--workers`), so a run can show the generator was not the limit.
 */
import process from "node:process";
import { startPpserver } from "../tests/_servers/ppserver.ts";
import { treeCpuSeconds } from "../tests/_servers/process_tree.ts";

function batch(first: number, size: number, host: string): string {
  const files = [];
  for (let i = first; i < first + size; i++) {
    files.push({
      // Walk order: a directory's files arrive together, as a scan sends them.
      filepath: `/srv/data/dir${Math.floor(i / 200)}/file-${i}.bin`,
      hostname: host,
      ip_address: "10.1.2.3",
      sha256: (i * 2654435761 % 2 ** 48).toString(16).padStart(64, "0"),
      file_size: 1024 + (i % 7168),
      file_mode: 0o100644,
      file_uid: 1000,
      file_gid: 1000,
      file_mtime: 1_700_000_000 + i,
      file_atime: 1_700_000_000 + i,
      file_ctime: 1_700_000_000 + i,
    });
  }
  return JSON.stringify({ files });
}

export async function batchIngestBench(
  options: { records?: number; batchSize?: number; inFlight?: number; workers?: number } = {},
): Promise<Record<string, number | string>> {
  const records = options.records ?? 200_000;
  const batchSize = options.batchSize ?? 1000;
  const inFlight = options.inFlight ?? 4;
  await using server = await startPpserver({
    workers: options.workers ?? navigator.hardwareConcurrency,
  });
  const encoder = new TextEncoder();
  const bodies: Uint8Array<ArrayBuffer>[] = [];
  for (let first = 0; first < records; first += batchSize) {
    bodies.push(encoder.encode(batch(first, batchSize, "bench-host")));
  }
  let next = 0;
  const serverCpuBefore = treeCpuSeconds(server.process.pid);
  const generatorCpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const response = await fetch(`${server.url}/v1/files/batch`, {
        method: "POST",
        headers: { "x-api-key": server.adminKey, "content-type": "application/json" },
        body,
      });
      if (response.status !== 200) {
        throw new Error(`batch answered ${response.status}: ${await response.text()}`);
      }
      await response.arrayBuffer();
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const generatorCpu = process.cpuUsage(generatorCpuBefore);
  return {
    records,
    batch_size: batchSize,
    in_flight: inFlight,
    server_workers: options.workers ?? navigator.hardwareConcurrency,
    records_per_s: Math.round(records / seconds),
    seconds: Math.round(seconds * 100) / 100,
    server_cpu_seconds: Math.round((treeCpuSeconds(server.process.pid) - serverCpuBefore) * 100) /
      100,
    generator_cpu_seconds: Math.round((generatorCpu.user + generatorCpu.system) / 1e4) / 100,
  };
}

/** The same ingest with 1 and with 2 server workers (`ppserver serve --workers N`). */
export async function ingestWorkersBench(options: { records?: number } = {}) {
  const one = await batchIngestBench({ records: options.records, workers: 1, inFlight: 8 });
  const two = await batchIngestBench({ records: options.records, workers: 2, inFlight: 8 });
  return {
    one_worker: one,
    two_workers: two,
    ratio: Math.round(Number(two.records_per_s) / Number(one.records_per_s) * 100) / 100,
    target_ratio: 1.7,
  };
}

if (import.meta.main) {
  const workers = Deno.args.find((a) => a.startsWith("--workers="))?.split("=")[1];
  console.log(await batchIngestBench({ workers: workers ? Number(workers) : undefined }));
}
