/**
 * Shared pieces of the ppclient tests: fixture trees on disk, running the client (in
 * process or as a real `deno run client/main.ts` process) and looking at what a real
 * ppserver holds afterwards, asked through its /v1 read API with the admin key.
 */
import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { fileURLToPath } from "node:url";
import { main } from "../client/main.ts";
import { type ConfigSources, processSources } from "../client/cli/config.ts";
import { capturedTerminal } from "../client/cli/terminal.ts";
import type { z } from "zod";
import { EMPTY_DIGEST } from "../lib/digest.ts";
import { MAX_PAGE_SIZE } from "../lib/metadata_store/inventory.ts";
import {
  changeSchema,
  fileDetailSchema,
  fileRecordSchema,
  pageSchema,
} from "../lib/wire/queries.ts";
import { missingResponseSchema } from "../lib/wire/v1.ts";

export const CLIENT_MAIN = fileURLToPath(new URL("../client/main.ts", import.meta.url));

export function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Deterministic bytes that do not compress or repeat. */
export function pseudoRandom(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let x = seed >>> 0 || 1;
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

/** Writes files (relative path -> content) under `root`, creating directories. */
export async function writeTree(
  root: string,
  files: Record<string, string | Uint8Array>,
): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(full, content);
    else await Deno.writeFile(full, content);
  }
}

/** A temporary directory removed on dispose (made writable again first). */
export async function tempDir(prefix: string): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await new Deno.Command("chmod", { args: ["-R", "u+rwx", path] }).output();
      await Deno.remove(path, { recursive: true });
    },
  };
}

export interface ClientRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs ppclient in this process with a captured terminal. `home` and `cwd` isolate it
 * from config files on the machine running the tests.
 */
export async function runInProcess(
  args: string[],
  options: {
    home: string;
    cwd?: string;
    env?: Record<string, string>;
    interrupt?: AbortSignal;
    /** The client's fetch instead of its own. */
    fetch?: typeof fetch;
  },
): Promise<ClientRun> {
  const terminal = capturedTerminal();
  const base = processSources();
  const sources: ConfigSources = {
    ...base,
    env: options.env ?? {},
    home: options.home,
    cwd: options.cwd ?? options.home,
  };
  const code = await main(args, {
    context: {
      terminal,
      sources,
      interrupt: options.interrupt ?? new AbortController().signal,
      fetch: options.fetch,
    },
  });
  return { code, stdout: terminal.stdout(), stderr: terminal.stderr() };
}

/** Spawns `deno run -A client/main.ts ARGS` with an isolated HOME and cwd. */
export function spawnClient(
  args: string[],
  options: { home: string; cwd?: string; env?: Record<string, string>; wrap?: string[] },
): Deno.ChildProcess {
  const command = [...(options.wrap ?? []), Deno.execPath(), "run", "-A", CLIENT_MAIN, ...args];
  return new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: options.cwd ?? options.home,
    env: {
      NO_COLOR: "1",
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      // A fresh HOME must not mean a fresh module cache.
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${homedir()}/.cache/deno`,
      HOME: options.home,
      ...options.env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

export async function runClient(
  args: string[],
  options: { home: string; cwd?: string; env?: Record<string, string>; wrap?: string[] },
): Promise<ClientRun> {
  const output = await spawnClient(args, options).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

export interface ServerFile {
  hostname: string;
  filepath: string;
  sha256: string;
  file_size: number;
}

/** A running ppserver as the helpers below see it: its address and its admin key. */
export interface ServerAccess {
  url: string;
  adminKey: string;
}

/**
 * GET a /v1 read route of a real server (admin key) and parse the answer with the wire
 * schema: what these helpers report is what a user of the API can observe, whatever store
 * the server runs on.
 */
async function readV1<T extends z.ZodType>(
  server: ServerAccess,
  path: string,
  schema: T,
): Promise<z.output<T>> {
  const response = await fetch(`${server.url}${path}`, {
    headers: { "x-api-key": server.adminKey },
  });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return schema.parse(await response.json());
}

/** Every item of a paged /v1 route, following `next_cursor`. */
async function allPages<T extends z.ZodType>(
  server: ServerAccess,
  path: string,
  item: T,
  params: Record<string, string> = {},
): Promise<z.output<T>[]> {
  const items: z.output<T>[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ ...params, limit: String(MAX_PAGE_SIZE) });
    if (cursor !== null) query.set("cursor", cursor);
    const page = await readV1(server, `${path}?${query}`, pageSchema(item));
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return items;
}

/** Every live file the server holds (`GET /v1/search` unfiltered), sorted by host and path. */
export async function serverFiles(server: ServerAccess): Promise<ServerFile[]> {
  const files = await allPages(server, "/v1/search", fileRecordSchema);
  return files.map(({ hostname, filepath, sha256, file_size }) => ({
    hostname,
    filepath,
    sha256,
    file_size,
  })).sort((a, b) => compare(a.hostname, b.hostname) || compare(a.filepath, b.filepath));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every change since the epoch (`GET /v1/changes`): additions, modifications, deletions. */
function allChanges(server: ServerAccess) {
  return allPages(server, "/v1/changes", changeSchema, { since: "1970-01-01" });
}

/**
 * Every file the server has ever been told about, with its detail (`GET
 * /v1/hosts/{host}/file`): the (host, path) pairs named by a change, live or deleted.
 */
async function allFileDetails(server: ServerAccess): Promise<FileDetail[]> {
  const seen = new Map<string, { hostname: string; filepath: string }>();
  for (const change of await allChanges(server)) {
    seen.set(JSON.stringify([change.hostname, change.filepath]), change);
  }
  const details: FileDetail[] = [];
  for (const { hostname, filepath } of seen.values()) {
    const query = new URLSearchParams({ path: filepath });
    details.push(
      await readV1(
        server,
        `/v1/hosts/${encodeURIComponent(hostname)}/file?${query}`,
        fileDetailSchema,
      ),
    );
  }
  return details;
}

type FileDetail = z.output<typeof fileDetailSchema>;

/** Paths of the server's files that are reported deleted (soft delete), sorted. */
export async function serverDeletedPaths(server: ServerAccess): Promise<string[]> {
  return (await allFileDetails(server)).filter((d) => d.deleted_at !== null)
    .map((d) => d.file.filepath).sort();
}

/** Entries of the server's file history (earlier digests of a (hostname, filepath)), all files. */
export async function serverHistoryCount(server: ServerAccess): Promise<number> {
  return (await allFileDetails(server)).reduce((n, d) => n + d.history.length, 0);
}

/**
 * The digests the server stores, sorted, each downloaded (`GET /v1/blobs/{digest}`) and
 * checked to hash to its digest. The API lists no blobs, so the digests asked about (`POST
 * /v1/blobs/missing`) are every digest a file has or had (changes and history) plus `also`:
 * a blob no file names (an upload never registered) is seen only when the test names it
 * in `also`. The empty content is always answered and is no blob, so it is left out.
 */
export async function serverBlobs(
  server: ServerAccess,
  also: readonly string[] = [],
): Promise<string[]> {
  const candidates = new Set<string>(also);
  for (const change of await allChanges(server)) {
    candidates.add(change.sha256);
    if (change.previous_sha256 !== null) candidates.add(change.previous_sha256);
  }
  for (const detail of await allFileDetails(server)) {
    for (const entry of detail.history) candidates.add(entry.sha256);
  }
  // The empty content is always there (no blob holds it): not a stored blob.
  candidates.delete(EMPTY_DIGEST);
  const asked = [...candidates];
  const missing = new Set<string>();
  for (let i = 0; i < asked.length; i += 1000) {
    const response = await fetch(`${server.url}/v1/blobs/missing`, {
      method: "POST",
      headers: { "x-api-key": server.adminKey, "content-type": "application/json" },
      body: JSON.stringify({
        blobs: asked.slice(i, i + 1000).map((digest) => ({ digest, size: 0 })),
      }),
    });
    if (!response.ok) throw new Error(`missing blobs: ${response.status} ${await response.text()}`);
    for (const digest of missingResponseSchema.parse(await response.json()).missing) {
      missing.add(digest);
    }
  }
  const stored = asked.filter((digest) => !missing.has(digest)).sort();
  for (const digest of stored) {
    const response = await fetch(`${server.url}/v1/blobs/${digest}`, {
      headers: { "x-api-key": server.adminKey },
    });
    if (!response.ok || response.body === null) {
      throw new Error(`blob ${digest}: ${response.status} ${await response.text()}`);
    }
    const hash = createHash("sha256");
    for await (const chunk of response.body) hash.update(chunk);
    if (hash.digest("hex") !== digest) throw new Error(`blob ${digest} has other bytes`);
  }
  return stored;
}

/** `GET /get_file/{digest}` on a real server: status and body. */
export async function getFile(
  server: { url: string; adminKey: string },
  digest: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/get_file/${digest}`, {
    headers: { "x-api-key": server.adminKey },
  });
  return { status: response.status, body: await response.json() };
}

/** True when `setpriv` can run a command without the capabilities that let root read anything. */
export async function canDropReadCapabilities(): Promise<boolean> {
  try {
    const probe = await new Deno.Command("setpriv", {
      args: ["--bounding-set=-dac_override,-dac_read_search", "true"],
    }).output();
    return probe.success;
  } catch {
    return false;
  }
}

export const DROP_READ_CAPABILITIES = [
  "setpriv",
  "--bounding-set=-dac_override,-dac_read_search",
];

export async function hasMkfifo(): Promise<boolean> {
  try {
    return (await new Deno.Command("mkfifo", { args: ["--version"] }).output()).success;
  } catch {
    return false;
  }
}

/**
 * A proxy in front of a real server that can answer a request itself: `intercept`
 * returns a Response to send instead of forwarding, or null to forward.
 */
export function interceptingProxy(
  target: string,
  intercept: (request: Request, url: URL) => Response | null | Promise<Response | null>,
): AsyncDisposable & { url: string } {
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const answer = await intercept(request, url);
    if (answer) {
      if (!request.bodyUsed) await request.body?.cancel();
      return answer;
    }
    try {
      return await fetch(`${target}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body: request.body,
      });
    } catch {
      return new Response("upstream failed", { status: 502 });
    }
  });
  return {
    url: `http://127.0.0.1:${proxy.addr.port}`,
    async [Symbol.asyncDispose]() {
      await proxy.shutdown();
    },
  };
}

/** True for the /v1 routes a classic-only server does not have. */
export function isV1Path(url: URL): boolean {
  return url.pathname === "/v1" || url.pathname.startsWith("/v1/");
}

/**
 * A classic-only server: a proxy in front of a real ppserver that answers 404 (as a
 * server without /v1 would, with a FastAPI-style body) for every /v1 route, and forwards
 * the rest (or lets `intercept` answer it).
 */
export function classicOnlyProxy(
  target: string,
  intercept?: (request: Request, url: URL) => Response | null | Promise<Response | null>,
): AsyncDisposable & { url: string } {
  return interceptingProxy(target, (request, url) => {
    if (isV1Path(url)) {
      return new Response(JSON.stringify({ detail: "Not Found" }), {
        status: 404,
        headers: { "content-type": "application/json" },
      });
    }
    return intercept ? intercept(request, url) : null;
  });
}

/**
 * Waits until files written now are old enough for the scan cache to trust (see
 * RACY_MARGIN_MS in client/scan/file_cache.ts: ctime comes in whole seconds, plus the margin).
 */
export function ageFiles(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 2_100));
}

/** A proxy that records each request it forwards as "METHOD /path". */
export function recordingProxy(
  target: string,
  intercept?: (request: Request, url: URL) => Response | null | Promise<Response | null>,
): AsyncDisposable & { url: string; requests: string[] } {
  const requests: string[] = [];
  const proxy = interceptingProxy(target, (request, url) => {
    requests.push(`${request.method} ${url.pathname}`);
    return intercept ? intercept(request, url) : null;
  });
  return Object.assign(proxy, { requests });
}

/**
 * A TCP proxy in front of a server that cuts a connection (closes both sides) once it has
 * carried more than the next of `cuts` bytes in one direction ("up": towards the server,
 * "down": towards the client); connections after the last cut are forwarded untouched.
 * Only a large upload body or download gets that far on one connection.
 */
export function cuttingProxy(target: string, direction: "up" | "down", cuts: number[]) {
  const { hostname, port } = new URL(target);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const remaining = [...cuts];
  const done: Promise<void>[] = [];
  const open = new Set<Deno.Conn>();
  const copy = async (from: Deno.Conn, to: Deno.Conn, cutting: boolean) => {
    let carried = 0;
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const count = await from.read(buffer);
        if (count === null) break;
        carried += count;
        if (cutting && remaining.length > 0 && carried > remaining[0]) {
          remaining.shift();
          break; // the cut
        }
        let offset = 0;
        while (offset < count) offset += await to.write(buffer.subarray(offset, count));
      }
    } catch {
      // A side closed.
    }
  };
  const pipe = async (client: Deno.Conn) => {
    const upstream = await Deno.connect({ hostname, port: Number(port) });
    open.add(client);
    open.add(upstream);
    const close = () => {
      for (const conn of [client, upstream]) {
        if (open.delete(conn)) conn.close();
      }
    };
    await Promise.race([
      copy(client, upstream, direction === "up"),
      copy(upstream, client, direction === "down"),
    ]);
    close();
  };
  const serving = (async () => {
    for await (const conn of listener) done.push(pipe(conn).catch(() => {}));
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    cutsLeft: () => remaining.length,
    async [Symbol.asyncDispose]() {
      listener.close();
      await serving.catch(() => {});
      for (const conn of open) conn.close();
      open.clear();
      await Promise.allSettled(done);
    },
  };
}

/** Builds a tree of `count` small distinct files in `dirs` directories. */
export async function bigTree(root: string, count: number, dirs = 50): Promise<void> {
  for (let d = 0; d < dirs; d++) await Deno.mkdir(`${root}/d${d}`);
  await Promise.all(
    Array.from(
      { length: count },
      (_, i) => Deno.writeTextFile(`${root}/d${i % dirs}/f${i}.txt`, `file number ${i}\n`),
    ),
  );
}

/** Reads a child's stderr until `pattern` appears; returns all of it once the child ends. */
export function watch(stream: ReadableStream<Uint8Array>, pattern: RegExp) {
  const seen = Promise.withResolvers<void>();
  let text = "";
  const all = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      if (pattern.test(text)) seen.resolve();
    }
    seen.resolve();
    return text;
  })();
  return { seen: seen.promise, all };
}

/**
 * A proxy in front of a real ppserver that holds every upload until released, so a test
 * knows files are in flight (uploading) when it sends Ctrl-C. `classic`: the proxy is a
 * classic-only server (404 for /v1) and holds `POST /upload_file/...`; otherwise it holds
 * the /v1 blob uploads (blob batches and PUTs).
 */
export function uploadGate(target: string, { classic }: { classic: boolean }) {
  const arrived = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  let uploads = 0;
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    if (classic && isV1Path(url)) {
      await request.body?.cancel();
      return Response.json({ detail: "Not Found" }, { status: 404 });
    }
    const held = classic
      ? url.pathname.startsWith("/upload_file/")
      : url.pathname === "/v1/blobs/batch" ||
        (request.method === "PUT" && url.pathname.startsWith("/v1/blobs/"));
    if (held) {
      uploads++;
      arrived.resolve();
      await release.promise;
    }
    try {
      return await fetch(`${target}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body: request.body,
      });
    } catch {
      return new Response("upstream failed", { status: 502 });
    }
  });
  return {
    url: `http://127.0.0.1:${proxy.addr.port}`,
    arrived: arrived.promise,
    release: () => release.resolve(),
    uploads: () => uploads,
    async [Symbol.asyncDispose]() {
      release.resolve();
      await proxy.shutdown();
    },
  };
}
