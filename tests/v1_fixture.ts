/**
 * The real app for /v1 tests: SQLite `:memory:`, an fs blob store and resumable uploads in
 * a temp directory, and one API key per scope. `request` calls `app.request()` with the
 * write key unless headers say otherwise; `serve` listens on a real socket.
 */
import { join } from "node:path";
import { createApp } from "../server/app.ts";
import { DEFAULT_LIMITS, type Limits } from "../server/limits.ts";
import { openMetadataStore } from "../lib/metadata_store/open.ts";
import { openBlobStore } from "../lib/blob_store/open.ts";
import { issueApiKey } from "../lib/auth.ts";
import { type Digest, digestOf } from "../lib/digest.ts";
import type { Stores } from "../lib/dedup.ts";
import { openResumableUploads, type ResumableUploads } from "../server/resumable_uploads.ts";

export interface V1Fixture extends AsyncDisposable {
  app: ReturnType<typeof createApp>;
  stores: Stores;
  uploads: ResumableUploads;
  dir: string;
  uploadsDir: string;
  keys: { read: string; write: string; admin: string };
  /** Errors the app reported as internal (5xx); tests expect none. */
  internalErrors: unknown[];
  request(path: string, init?: RequestInit): Promise<Response>;
  /**
   * Serves the app on a free loopback port until disposed; `handled(method)` counts the
   * requests of that method whose handler has returned (also when the client had gone).
   */
  serve(): Promise<{ url: string; handled(method: string): number } & AsyncDisposable>;
}

export async function v1Fixture(
  options: { limits?: Partial<Limits>; expirySeconds?: number } = {},
): Promise<V1Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "ppserver-v1-" });
  const metadata = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  const blobs = await openBlobStore({ kind: "fs", root: join(dir, "blobs") });
  const stores = { metadata, blobs };
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const uploadsDir = join(dir, "uploads");
  const uploads = await openResumableUploads({
    dir: uploadsDir,
    stores,
    expirySeconds: options.expirySeconds ?? 24 * 3600,
    maxUploadBytes: limits.maxUploadBytes,
  });
  const key = async (scope: "read" | "write" | "admin") =>
    (await issueApiKey(metadata.apiKeys, { name: scope, description: null, scope })).key;
  const keys = { read: await key("read"), write: await key("write"), admin: await key("admin") };
  const internalErrors: unknown[] = [];
  const app = createApp({
    stores,
    limits,
    version: "0.0.0-test",
    uploads,
    logError: (error) => internalErrors.push(error),
  });
  return {
    app,
    stores,
    uploads,
    dir,
    uploadsDir,
    keys,
    internalErrors,
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("x-api-key")) headers.set("x-api-key", keys.write);
      return Promise.resolve(app.request(path, { ...init, headers }));
    },
    serve() {
      const handled = new Map<string, number>();
      const server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        async (request) => {
          try {
            return await app.fetch(request);
          } finally {
            handled.set(request.method, (handled.get(request.method) ?? 0) + 1);
          }
        },
      );
      return Promise.resolve({
        url: `http://127.0.0.1:${server.addr.port}`,
        handled: (method: string) => handled.get(method) ?? 0,
        async [Symbol.asyncDispose]() {
          await server.shutdown();
        },
      });
    },
    async [Symbol.asyncDispose]() {
      await blobs[Symbol.asyncDispose]();
      await metadata[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

export function json(body: unknown, init: RequestInit = {}): RequestInit {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json");
  return { method: "POST", ...init, headers, body: JSON.stringify(body) };
}

/** Bytes of a given length whose content depends on `seed`. */
export function bytesOf(length: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export function digestOfBytes(bytes: Uint8Array): Digest {
  return digestOf(bytes);
}

/** Asserts a problem+json response and returns its body. */
export async function problem(
  response: Response,
  status: number,
): Promise<{ status: number; detail: string; title: string; type: string }> {
  const text = await response.text();
  if (response.status !== status) {
    throw new Error(`Expected status ${status}, got ${response.status}: ${text}`);
  }
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("application/problem+json")) {
    throw new Error(`Expected problem+json, got "${type}": ${text}`);
  }
  const body = JSON.parse(text);
  if (body.status !== status || typeof body.detail !== "string") {
    throw new Error(`Not a problem body: ${text}`);
  }
  return body;
}

export { fileAt } from "./file_fixture.ts";
