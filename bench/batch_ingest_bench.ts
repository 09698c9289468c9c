/**
 * Server ingest through batch registration: file records/s into a real ppserver on the
 * embedded default, `POST /v1/files/batch` with 1,000 files a request and a few requests
 * in flight. Every record is a new file (first scan of a fleet).
 */
import { startPpserver } from "../tests/_servers/ppserver.ts";

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
  options: { records?: number; batchSize?: number; inFlight?: number } = {},
): Promise<Record<string, number>> {
  const records = options.records ?? 200_000;
  const batchSize = options.batchSize ?? 1000;
  const inFlight = options.inFlight ?? 4;
  await using server = await startPpserver();
  const bodies: string[] = [];
  for (let first = 0; first < records; first += batchSize) {
    bodies.push(batch(first, batchSize, "bench-host"));
  }
  let next = 0;
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
  return {
    records,
    batch_size: batchSize,
    in_flight: inFlight,
    records_per_s: Math.round(records / seconds),
  };
}

if (import.meta.main) console.log(await batchIngestBench());
