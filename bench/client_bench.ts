/**
 * ppclient benchmarks:
 * (a) hashing MB/s of the client's `hashFile` on a 1 GiB file against
 *     `openssl dgst -sha256` on the same file, in the same run (page cache warm for both);
 * (b) files/s of a first scan of 20,000 small files (1 to 8 KiB, about 20% duplicate
 *     content) by the real `ppclient` process against a local ppserver on the embedded
 *     default (SQLite + fs blobs).
 * MB = 10^6 bytes. Each hashing figure is the best of three runs.
 */
import { fileURLToPath } from "node:url";
import { hashFile, ReadBuffers } from "../client/scan/hash.ts";
import { startPpserver } from "../tests/_servers/ppserver.ts";
import { machineDescription } from "./machine.ts";

const CLIENT_MAIN = fileURLToPath(new URL("../client/main.ts", import.meta.url));
const GIB = 1024 ** 3;

export interface ClientBenchOptions {
  hashBytes?: number;
  scanFiles?: number;
  runs?: number;
}

export async function clientBench(
  options: ClientBenchOptions = {},
): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir({ prefix: "ppclient-bench-" });
  try {
    const hashing = await hashBench(dir, options.hashBytes ?? GIB, options.runs ?? 3);
    const scan = await scanBench(`${dir}/tree`, options.scanFiles ?? 20_000);
    return { machine: machineDescription(), ...hashing, ...scan };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function hashBench(dir: string, size: number, runs: number) {
  const path = `${dir}/big.bin`;
  await writeRandomFile(path, size);
  const opensslDigest = async () => {
    const out = await new Deno.Command("openssl", {
      args: ["dgst", "-sha256", "-r", path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).split(" ")[0];
  };
  await opensslDigest(); // warm the page cache
  const buffers = new ReadBuffers();
  let clientBest = Infinity;
  let opensslBest = Infinity;
  let clientDigest = "";
  let reference = "";
  for (let i = 0; i < runs; i++) {
    let start = performance.now();
    const result = await hashFile(path, { buffers });
    clientBest = Math.min(clientBest, performance.now() - start);
    if (!result.ok) throw new Error(`hashFile failed: ${result.message}`);
    clientDigest = result.digest;
    start = performance.now();
    reference = await opensslDigest();
    opensslBest = Math.min(opensslBest, performance.now() - start);
  }
  if (clientDigest !== reference) throw new Error("client and openssl digests differ");
  const client = size / 1e6 / (clientBest / 1000);
  const openssl = size / 1e6 / (opensslBest / 1000);
  return {
    hash_file_bytes: size,
    hash_client_mb_s: round(client),
    hash_openssl_mb_s: round(openssl),
    hash_client_vs_openssl: round(client / openssl, 2),
  };
}

async function scanBench(root: string, count: number) {
  const dirs = Math.max(1, Math.round(count / 200));
  for (let d = 0; d < dirs; d++) await Deno.mkdir(`${root}/d${d}`, { recursive: true });
  let bytes = 0;
  for (let start = 0; start < count; start += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, count - start) }, (_, k) => {
        const i = start + k;
        // Every fifth file repeats the content of an earlier one.
        const contentId = i % 5 === 4 ? i - 4 : i;
        const content = contentOf(contentId);
        bytes += content.length;
        return Deno.writeFile(`${root}/d${i % dirs}/f${i}.bin`, content);
      }),
    );
  }
  await using server = await startPpserver();
  const time = await hasGnuTime();
  const args = [
    "run",
    "-A",
    CLIENT_MAIN,
    "scan",
    root,
    "--url",
    server.url,
    "-k",
    server.adminKey,
    "--json",
    "--quiet",
  ];
  const start = performance.now();
  const out = await new Deno.Command(time ? "/usr/bin/time" : Deno.execPath(), {
    args: time ? ["-f", "maxrss_kib=%M", Deno.execPath(), ...args] : args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = (performance.now() - start) / 1000;
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`ppclient failed (${out.code}): ${stderr}`);
  const summary = JSON.parse(new TextDecoder().decode(out.stdout));
  if (summary.registered !== count || summary.failed !== 0) {
    throw new Error(`unexpected summary ${JSON.stringify(summary)}`);
  }
  const rss = stderr.match(/maxrss_kib=(\d+)/);
  return {
    scan_files: count,
    scan_bytes: bytes,
    scan_uploaded: summary.uploaded,
    scan_deduplicated: summary.deduplicated,
    scan_seconds: summary.elapsed_seconds,
    scan_files_per_s: round(count / summary.elapsed_seconds),
    scan_wall_seconds_with_startup: round(wall, 2),
    scan_client_peak_rss_mib: rss ? round(Number(rss[1]) / 1024, 1) : null,
  };
}

/** 1 to 8 KiB of bytes unique to `id`. */
export function contentOf(id: number): Uint8Array<ArrayBuffer> {
  const size = 1024 + ((id * 2654435761) >>> 0) % (7 * 1024);
  const bytes = new Uint8Array(size);
  let x = (id + 1) * 2246822519 >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

export async function writeRandomFile(path: string, size: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const chunk = new Uint8Array(1024 * 1024);
    for (let written = 0; written < size; written += chunk.length) {
      for (let o = 0; o < chunk.length; o += 65536) {
        crypto.getRandomValues(chunk.subarray(o, o + 65536));
      }
      const part = chunk.subarray(0, Math.min(chunk.length, size - written));
      let offset = 0;
      while (offset < part.length) offset += await file.write(part.subarray(offset));
    }
  } finally {
    file.close();
  }
}

async function hasGnuTime(): Promise<boolean> {
  try {
    return (await new Deno.Command("/usr/bin/time", { args: ["-f", "%M", "true"] }).output())
      .success;
  } catch {
    return false;
  }
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

if (import.meta.main) console.log(JSON.stringify(await clientBench(), null, 2));
