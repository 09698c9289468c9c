/**
 * The one way tests build the app: the real `createApp` over SQLite `:memory:`, an fs blob
 * store and resumable uploads in a temp directory, and one API key per scope. `request`
 * calls `app.request()` with the write key unless the headers name another; `serve`
 * listens on a real socket. Disposing it asserts that no request failed with an internal
 * error (5xx), unless the test says it expects some.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createApp } from "../server/app.ts";
import { DEFAULT_LIMITS, type Limits } from "../server/limits.ts";
import { KeyUsage } from "../server/middleware/key_usage.ts";
import type { MetadataStore } from "../lib/metadata_store/mod.ts";
import { openMetadataStore } from "../lib/metadata_store/open.ts";
import { openBlobStore } from "../lib/blob_store/open.ts";
import { issueApiKey } from "../lib/auth.ts";
import type { Stores } from "../lib/dedup.ts";
import type { Scope } from "../lib/models/api_key.ts";
import { openResumableUploads, type ResumableUploads } from "../server/resumable_uploads.ts";

export interface AppFixtureOptions {
  limits?: Partial<Limits>;
  expirySeconds?: number;
  /** False: an app without resumable uploads (the /v1/uploads routes absent). */
  resumable?: boolean;
  /** Wraps the metadata store the app sees: fault injection at the store's far side. */
  wrapMetadata?: (store: MetadataStore) => MetadataStore;
  /** Stores to use instead of SQLite `:memory:` and fs (the caller opens and closes them). */
  stores?: Stores;
  /** Internal errors this test provokes on purpose (then disposal does not assert none). */
  expectInternalErrors?: boolean;
}

export interface AppFixture extends AsyncDisposable {
  app: ReturnType<typeof createApp>;
  stores: Stores;
  /** The app's resumable uploads (opened even when the app is built without them). */
  uploads: ResumableUploads;
  keyUsage: KeyUsage;
  dir: string;
  blobRoot: string;
  uploadsDir: string;
  keys: Record<Scope, string>;
  /** Errors the app reported as internal (5xx) or logged; tests expect none. */
  internalErrors: unknown[];
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Where the fs blob store keeps a loose blob. */
  blobPath(digest: string): string;
  /**
   * Serves the app on a free loopback port until disposed; `handled(method)` counts the
   * requests of that method whose handler has returned (also when the client had gone).
   */
  serve(
    observe?: (request: Request, answered: Promise<Response>) => void,
  ): Promise<
    { url: string; port: number; handled(method: string): number } & AsyncDisposable
  >;
}

export async function appFixture(options: AppFixtureOptions = {}): Promise<AppFixture> {
  const dir = await Deno.makeTempDir({ prefix: "ppserver-app-" });
  const blobRoot = join(dir, "blobs");
  const metadata = options.stores?.metadata ??
    await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  const blobs = options.stores?.blobs ?? await openBlobStore({ kind: "fs", root: blobRoot });
  const stores = { metadata: options.wrapMetadata?.(metadata) ?? metadata, blobs };
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const uploadsDir = join(dir, "uploads");
  const uploads = await openResumableUploads({
    dir: uploadsDir,
    stores,
    expirySeconds: options.expirySeconds ?? 24 * 3600,
    maxUploadBytes: limits.maxUploadBytes,
  });
  const key = async (scope: Scope) =>
    (await issueApiKey(metadata.apiKeys, { name: `${scope} key`, description: null, scope }))
      .key;
  const keys = { read: await key("read"), write: await key("write"), admin: await key("admin") };
  const internalErrors: unknown[] = [];
  const logError = (error: unknown) => internalErrors.push(error);
  const keyUsage = new KeyUsage({ apiKeys: stores.metadata.apiKeys, logError });
  const app = createApp({
    stores,
    limits,
    version: "0.0.0-test",
    uploads: options.resumable === false ? undefined : uploads,
    logError,
    keyUsage,
  });
  return {
    app,
    stores,
    uploads,
    keyUsage,
    dir,
    blobRoot,
    uploadsDir,
    keys,
    internalErrors,
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("x-api-key")) headers.set("x-api-key", keys.write);
      return Promise.resolve(app.request(path, { ...init, headers }));
    },
    blobPath: (digest) => join(blobRoot, digest.slice(0, 2), digest),
    serve(observe) {
      const handled = new Map<string, number>();
      const server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        async (request) => {
          try {
            const answered = Promise.resolve(app.fetch(request));
            observe?.(request, answered);
            return await answered;
          } finally {
            handled.set(request.method, (handled.get(request.method) ?? 0) + 1);
          }
        },
      );
      return Promise.resolve({
        url: `http://127.0.0.1:${server.addr.port}`,
        port: server.addr.port,
        handled: (method: string) => handled.get(method) ?? 0,
        async [Symbol.asyncDispose]() {
          await server.shutdown();
        },
      });
    },
    async [Symbol.asyncDispose]() {
      await keyUsage.settled();
      if (!options.stores) {
        await blobs[Symbol.asyncDispose]();
        await metadata[Symbol.asyncDispose]();
      }
      await Deno.remove(dir, { recursive: true });
      if (!options.expectInternalErrors) {
        assert.deepEqual(internalErrors, [], "no request failed with an internal error");
      }
    },
  };
}

export function json(body: unknown, init: RequestInit = {}): RequestInit {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json");
  return { method: "POST", ...init, headers, body: JSON.stringify(body) };
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

export { bytesOf, fileAt } from "./file_fixture.ts";
