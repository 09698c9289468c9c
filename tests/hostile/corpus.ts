/**
 * The hostile-input corpus: requests no well-behaved client sends, against every route.
 * Each case is either a request sent with fetch (`request`) or raw bytes written to the
 * socket (`raw`: lying lengths, broken chunking, oversized headers, malformed request
 * lines), so HTTP framing is attacked too. The runner (run.ts) asserts for each: a 4xx
 * answer (problem+json when the app answered), never a 5xx, nothing internal leaked; and
 * afterwards every blob stored before is intact.
 *
 * `expect` widens or narrows the statuses a case may get: where HTTP says to ignore a bad
 * header (a malformed Range is served whole, RFC 9110 section 14.2), the answer is 2xx.
 */
import { digestOf } from "../../lib/digest.ts";
import type { Scope } from "../../lib/models/api_key.ts";
import { BLOB_BATCH_CONTENT_TYPE, encodeFrames, frameHeader } from "../../lib/wire/blob_batch.ts";

/** What the corpus may refer to: the keys and what was stored before it ran. */
export interface CorpusContext {
  keys: Record<Scope, string> & { revoked: string; bound: string };
  /** A stored blob and a file registered with it (host `seed-host`). */
  blob: { digest: string; bytes: Uint8Array<ArrayBuffer>; hostname: string; filepath: string };
  /** Creates a fresh resumable upload of `size` bytes (write key) and gives its path. */
  newUpload(size?: number): Promise<string>;
  /** A resumable upload created before the corpus ran, left at offset 0. */
  upload: string;
}

export interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: BodyInit | null;
  /** The key sent in X-API-Key; default the write key, null for none. */
  key?: string | null;
}

export type HostileCase =
  & { name: string; expect?: readonly number[] }
  & (
    | { request: (ctx: CorpusContext) => RequestSpec | Promise<RequestSpec> }
    | { raw: (ctx: CorpusContext) => Uint8Array | string | Promise<Uint8Array | string> }
  );

const encoder = new TextEncoder();
const DIGEST = digestOf("hostile");
const JSON_HEADERS = { "content-type": "application/json" };
const BATCH_HEADERS = { "content-type": BLOB_BATCH_CONTENT_TYPE };

/** A documented /v1 operation, as `GET /v1/openapi.json` lists it. */
export interface DocumentedOperation {
  method: string;
  /** OpenAPI path template, e.g. `/v1/blobs/{digest}`. */
  path: string;
  scope: Scope | null;
}

/** Sample values for path parameters: well-formed, naming nothing stored. */
function filled(template: string): string {
  return template.replaceAll(
    /\{(\w+)\}/g,
    (_, name: string) =>
      name === "digest" ? DIGEST : name === "id" ? "0123456789abcdef01234567" : `hostile-${name}`,
  );
}

/** Every route with a method and a body that would be fine but for what the case changes. */
interface Route {
  method: string;
  path: (ctx: CorpusContext) => string;
  scope: Scope;
  json?: boolean;
  batch?: boolean;
}

/** The classic routes and those /v1 ones whose path holds a stored thing. */
const ROUTES: Route[] = [
  { method: "POST", path: () => "/put_file", scope: "write", json: true },
  { method: "GET", path: (c) => `/get_file/${c.blob.digest}`, scope: "read" },
  {
    method: "POST",
    path: (c) => `/upload_file/${c.blob.digest}?hostname=${c.blob.hostname}&filepath=%2Fx`,
    scope: "write",
  },
  { method: "POST", path: () => "/api_keys", scope: "admin", json: true },
  { method: "GET", path: () => "/api_keys", scope: "admin" },
  { method: "PUT", path: () => "/api_keys/0123456789abcdef01234567/revoke", scope: "admin" },
  { method: "DELETE", path: () => "/api_keys/0123456789abcdef01234567", scope: "admin" },
  { method: "POST", path: () => "/v1/files/batch", scope: "write", json: true },
  { method: "POST", path: () => "/v1/files/deleted", scope: "write", json: true },
  { method: "POST", path: () => "/v1/blobs/missing", scope: "read", json: true },
  { method: "PUT", path: () => `/v1/blobs/${DIGEST}`, scope: "write" },
  { method: "GET", path: (c) => `/v1/blobs/${c.blob.digest}`, scope: "read" },
  { method: "HEAD", path: (c) => `/v1/blobs/${c.blob.digest}`, scope: "read" },
  { method: "POST", path: () => "/v1/blobs/batch", scope: "write", batch: true },
  { method: "POST", path: () => "/v1/uploads", scope: "write", json: true },
  { method: "GET", path: (c) => c.upload, scope: "write" },
  { method: "HEAD", path: (c) => c.upload, scope: "write" },
  { method: "PATCH", path: (c) => c.upload, scope: "write" },
  { method: "DELETE", path: (c) => c.upload, scope: "write" },
  { method: "GET", path: () => "/v1/stats", scope: "read" },
];

const LOWER: Record<Scope, Scope | null> = { read: null, write: "read", admin: "write" };

function authCases(operations: readonly DocumentedOperation[]): HostileCase[] {
  const documented: Route[] = operations.filter((op) => op.scope !== null).map((op) => ({
    method: op.method.toUpperCase(),
    path: () => filled(op.path),
    scope: op.scope!,
    json: op.method === "post",
  }));
  const cases: HostileCase[] = [];
  for (const route of [...ROUTES, ...documented]) {
    const label = `${route.method} ${route.path.name || ""}`.trim();
    const at = (c: CorpusContext) => `${route.method} ${route.path(c)}`;
    const presented: [string, (c: CorpusContext) => string | null, Record<string, string>?][] = [
      ["no key", () => null],
      ["a key of the right shape that does not exist", () => "a".repeat(64)],
      ["a revoked key", (c) => c.keys.revoked],
      ["a 10 KB key", () => "k".repeat(10_000)],
      ["an empty bearer token", () => null, { authorization: "Bearer " }],
    ];
    for (const [what, key, headers] of presented) {
      cases.push({
        name: `auth: ${label} with ${what}`,
        expect: [401],
        request: (c) => ({
          method: route.method,
          path: route.path(c),
          headers: { ...headers, ...(route.json ? JSON_HEADERS : {}) },
          body: route.json ? "{}" : null,
          key: key(c),
        }),
      });
    }
    const lower = LOWER[route.scope];
    if (lower) {
      cases.push({
        name: `auth: ${route.method} ${route.scope} route with a ${lower} key`,
        expect: [403],
        request: (c) => ({
          method: route.method,
          path: route.path(c),
          headers: route.json ? JSON_HEADERS : {},
          body: route.json ? "{}" : null,
          key: c.keys[lower],
        }),
      });
    }
    void at;
  }
  return cases;
}

/** Path parameters that are no digest: case, length, traversal, NUL, encodings. */
const BAD_DIGESTS = [
  DIGEST.toUpperCase(),
  DIGEST.slice(1),
  DIGEST + "0",
  "..%2F..%2F..%2Fetc%2Fpasswd",
  "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "..%5C..%5Cwindows",
  `${DIGEST.slice(0, 63)}%00`,
  "%ED%A0%80",
  "g".repeat(64),
  "x".repeat(10_000),
  `${DIGEST.slice(0, 2)}%2F${DIGEST}`,
  "%20" + DIGEST.slice(1),
];

function digestPathCases(): HostileCase[] {
  const cases: HostileCase[] = [];
  const routes: [string, (d: string) => string, string | null][] = [
    ["GET", (d) => `/get_file/${d}`, null],
    ["POST", (d) => `/upload_file/${d}?hostname=h&filepath=%2Fx`, "bytes"],
    ["GET", (d) => `/v1/blobs/${d}`, null],
    ["HEAD", (d) => `/v1/blobs/${d}`, null],
    ["PUT", (d) => `/v1/blobs/${d}`, "bytes"],
  ];
  for (const [method, path, body] of routes) {
    for (const digest of BAD_DIGESTS) {
      cases.push({
        name: `path: ${method} ${path("{" + digest.slice(0, 24) + "}")}`,
        expect: [400, 404],
        request: (c) => ({
          method,
          path: path(digest),
          body,
          key: method === "GET" || method === "HEAD" ? c.keys.read : c.keys.write,
        }),
      });
    }
  }
  return cases;
}

/** JSON bodies that are broken or of the wrong shape. */
const BAD_JSON: [string, string | Uint8Array<ArrayBuffer>][] = [
  ["an empty body", ""],
  ["half an object", "{"],
  ["an array", "[]"],
  ["null", "null"],
  ["a number", "1"],
  ["a string", '"text"'],
  ["truncated after a key", '{"a":'],
  ["10,000 nested arrays", "[".repeat(10_000) + "]".repeat(10_000)],
  ["a number too large for a double", '{"file_size": 1e400}'],
  ["bytes that are not UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
  ["a lone surrogate in a key", '{"\\ud800": 1}'],
  ["__proto__ pollution", '{"__proto__": {"scope": "admin"}, "constructor": {"prototype": 1}}'],
  ["a trailing comma", '{"a": 1,}'],
  ["single quotes", "{'a': 1}"],
  ["NUL bytes", "\u0000\u0000"],
  ["a byte order mark then JSON", "\ufeff{}"],
];

const JSON_ROUTES: [string, string, Scope][] = [
  ["POST", "/put_file", "write"],
  ["POST", "/v1/files/batch", "write"],
  ["POST", "/v1/files/deleted", "write"],
  ["POST", "/v1/blobs/missing", "read"],
  ["POST", "/v1/uploads", "write"],
  ["POST", "/api_keys", "admin"],
];

function jsonCases(): HostileCase[] {
  const cases: HostileCase[] = [];
  for (const [method, path, scope] of JSON_ROUTES) {
    for (const [what, body] of BAD_JSON) {
      cases.push({
        name: `json: ${method} ${path} with ${what}`,
        expect: [400, 422],
        request: (c) => ({ method, path, headers: JSON_HEADERS, body, key: c.keys[scope] }),
      });
    }
    cases.push({
      name: `json: ${method} ${path} with a body over the byte cap (Content-Length)`,
      expect: [413],
      request: (c) => ({
        method,
        path,
        headers: JSON_HEADERS,
        body: `{"x":"${"a".repeat(5 * 1024 * 1024)}"}`,
        key: c.keys[scope],
      }),
    });
    cases.push({
      name: `json: ${method} ${path} with a streamed body over the byte cap`,
      expect: [413],
      request: (c) => ({
        method,
        path,
        headers: JSON_HEADERS,
        body: chunks(64, 128 * 1024),
        key: c.keys[scope],
      }),
    });
  }
  return cases;
}

/** A stream of `count` chunks of `size` bytes each (no Content-Length). */
function chunks(count: number, size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  const chunk = new Uint8Array(size).fill(0x61);
  return new ReadableStream({
    pull(controller) {
      if (sent++ >= count) return controller.close();
      controller.enqueue(chunk);
    },
  });
}

function file(overrides: Record<string, unknown>): string {
  return JSON.stringify({
    filepath: "/hostile/f",
    hostname: "hostile-host",
    sha256: digestOf("f"),
    file_size: 1,
    ...overrides,
  });
}

function fieldCases(): HostileCase[] {
  const bad: [string, Record<string, unknown>][] = [
    ["a negative size", { file_size: -1 }],
    ["a fractional size", { file_size: 0.5 }],
    ["a size past 2^53", { file_size: 2 ** 53 }],
    ["an uppercase digest", { sha256: DIGEST.toUpperCase() }],
    ["a digest of the wrong type", { sha256: 12 }],
    ["a NUL in the path", { filepath: "/a\u0000b" }],
    ["a 5,000-character path", { filepath: "/" + "p".repeat(5000) }],
    ["an empty hostname", { hostname: "" }],
    ["a 300-character hostname", { hostname: "h".repeat(300) }],
    ["the empty digest with a size", { sha256: digestOf(""), file_size: 3 }],
    ["size 0 with another digest", { file_size: 0 }],
    ["a mode of the wrong type", { file_mode: "0644" }],
    ["an object as path", { filepath: { $gt: "" } }],
    ["an array as hostname", { hostname: ["a", "b"] }],
    ["a lone surrogate in the path", { filepath: "/alias/\ud800" }],
    ["an infinite-looking time", { file_mtime: "Infinity" }],
  ];
  const cases: HostileCase[] = [];
  for (const [what, change] of bad) {
    cases.push({
      name: `field: POST /put_file with ${what}`,
      expect: [400, 422],
      request: () => ({
        method: "POST",
        path: "/put_file",
        headers: JSON_HEADERS,
        body: file(change),
      }),
    });
  }
  const envelopes: [string, string, string][] = [
    ["/v1/files/batch", "files that is not a list", '{"files": {"0": {}}}'],
    ["/v1/files/batch", "1,001 files", JSON.stringify({ files: Array(1001).fill({}) })],
    ["/v1/files/deleted", "no hostname", '{"filepaths": ["/a"]}'],
    [
      "/v1/files/deleted",
      "10,001 paths",
      JSON.stringify({ hostname: "h", filepaths: Array(10_001).fill("/a") }),
    ],
    ["/v1/files/deleted", "a NUL path", '{"hostname": "h", "filepaths": ["/a\\u0000"]}'],
    ["/v1/blobs/missing", "a digest as a number", '{"blobs": [{"digest": 1, "size": 1}]}'],
    [
      "/v1/blobs/missing",
      "10,001 digests",
      JSON.stringify({ blobs: Array(10_001).fill({ digest: DIGEST, size: 1 }) }),
    ],
    ["/v1/uploads", "a negative size", JSON.stringify({ digest: DIGEST, size: -1 })],
    ["/v1/uploads", "a size over the cap", JSON.stringify({ digest: DIGEST, size: 2 ** 52 })],
    ["/v1/uploads", "size 0 with another digest", JSON.stringify({ digest: DIGEST, size: 0 })],
    ["/api_keys", "an unknown scope", '{"name": "x", "scope": "root"}'],
    ["/api_keys", "a 101-character name", JSON.stringify({ name: "n".repeat(101) })],
    ["/api_keys", "hosts on an admin key", '{"name": "x", "scope": "admin", "hosts": ["h"]}'],
  ];
  for (const [path, what, body] of envelopes) {
    cases.push({
      name: `field: POST ${path} with ${what}`,
      expect: [400, 413, 422],
      request: (c) => ({
        method: "POST",
        path,
        headers: JSON_HEADERS,
        body,
        key: path === "/api_keys"
          ? c.keys.admin
          : path === "/v1/blobs/missing"
          ? c.keys.read
          : c.keys.write,
      }),
    });
  }
  return cases;
}

function queryCases(): HostileCase[] {
  const queries: [string, number[]][] = [
    ["", [422]],
    ["?hostname=seed-host", [422]],
    ["?filepath=%2Fseed%2F1", [422]],
    ["?hostname=&filepath=", [422]],
    [`?hostname=seed-host&filepath=${"p".repeat(5000)}`, [422]],
    ["?hostname=seed-host&filepath=%ED%A0%80", [400]],
    ["?hostname=%FF&filepath=%2Fa", [400]],
    ["?hostname=seed-host&filepath=%", [400]],
    ["?hostname=seed-host&filepath=%2Fseed%2F1%00", [404, 422]],
    ["?hostname=other-host&filepath=%2Fseed%2F1", [404]],
    ["?hostname[$ne]=x&filepath[$ne]=y", [422]],
  ];
  return queries.map(([query, expect]) => ({
    name: `query: POST /upload_file/{seeded}${query.slice(0, 60)}`,
    expect,
    request: (c) => ({
      method: "POST",
      path: `/upload_file/${c.blob.digest}${query}`,
      headers: { "content-type": "application/octet-stream" },
      body: c.blob.bytes,
    }),
  }));
}

function rangeCases(): HostileCase[] {
  const ranges: [Record<string, string>, number[]][] = [
    [{ range: "bytes=999999-" }, [416]],
    [{ range: "bytes=-0" }, [416]],
    [{ range: "bytes=5-2" }, [200]],
    [{ range: "bytes=abc" }, [200]],
    [{ range: "bytes=0-0,2-3" }, [200]],
    [{ range: "items=0-1" }, [200]],
    [{ range: "bytes=-99999999999999999999" }, [206]],
    [{ range: "bytes=18446744073709551616-" }, [416]],
    [{ range: "bytes=0-18446744073709551616" }, [206]],
    [{ range: "bytes=" + "0".repeat(5000) + "-1" }, [206]],
    [{ range: "bytes=1-2 junk" }, [200]],
    [{ range: "bytes=1-2", "if-range": "garbage" }, [200]],
    [{ "if-none-match": "*" }, [304]],
    [{ "if-none-match": '"' + "x".repeat(8000) + '"' }, [200]],
  ];
  return ranges.map(([headers, expect]) => ({
    name: `range: GET /v1/blobs/{seeded} with ${JSON.stringify(headers).slice(0, 70)}`,
    expect,
    request: (c) => ({
      method: "GET",
      path: `/v1/blobs/${c.blob.digest}`,
      headers,
      key: c.keys.read,
    }),
  }));
}

function batchCases(): HostileCase[] {
  const good = { digest: digestOf("framed"), bytes: encoder.encode("framed") };
  const frames = encodeFrames([good]);
  const bodies: [string, string | Uint8Array<ArrayBuffer>, number[]][] = [
    ["a header without a newline", `${good.digest} 6`, [400]],
    ["a digest that is not hex", `${"z".repeat(64)} 6\nframed`, [400]],
    ["a size past 16 digits", `${good.digest} 99999999999999999\nframed`, [400]],
    ["a negative size", `${good.digest} -6\nframed`, [400]],
    ["a size with a leading zero", `${good.digest} 06\nframed`, [400]],
    ["a body shorter than its size", `${good.digest} 600\nframed`, [400]],
    ["a header of 10 KB", "x".repeat(10_000), [400]],
    ["binary garbage", new Uint8Array(4096).map((_, i) => (i * 37) & 0xff), [400]],
    ["a CRLF header", `${good.digest} 6\r\nframed`, [400]],
    ["a tab for the space", `${good.digest}\t6\nframed`, [400]],
    [
      "a frame cut inside the next header",
      concat(frames, encoder.encode(good.digest.slice(0, 10))),
      [400],
    ],
    ["10,001 empty blobs", frameHeader(digestOf(""), 0).repeat(10_001), [413]],
    [
      "a blob over the per-blob cap",
      concat(encoder.encode(frameHeader(DIGEST, 2 * 1024 * 1024)), new Uint8Array(2 * 1024 * 1024)),
      [200],
    ],
    ["bytes that do not hash to the digest", `${DIGEST} 6\nframed`, [200]],
  ];
  const cases: HostileCase[] = bodies.map(([what, body, expect]) => ({
    name: `batch: POST /v1/blobs/batch with ${what}`,
    expect,
    request: () => ({ method: "POST", path: "/v1/blobs/batch", headers: BATCH_HEADERS, body }),
  }));
  for (const type of ["text/plain", "application/json", "multipart/form-data; boundary=x", ""]) {
    cases.push({
      name: `batch: POST /v1/blobs/batch as "${type}"`,
      expect: [400],
      request: () => ({
        method: "POST",
        path: "/v1/blobs/batch",
        headers: type ? { "content-type": type } : {} as Record<string, string>,
        body: frames,
      }),
    });
  }
  cases.push({
    name: "batch: POST /v1/blobs/batch over the request cap (streamed, well framed)",
    expect: [413],
    request: () => ({
      method: "POST",
      path: "/v1/blobs/batch",
      headers: BATCH_HEADERS,
      body: megabyteFrames(20),
    }),
  });
  return cases;
}

/** `count` well-framed blobs of 1 MiB each (at the per-blob cap), streamed. */
function megabyteFrames(count: number): ReadableStream<Uint8Array> {
  const bytes = new Uint8Array(1024 * 1024).fill(0x62);
  const frame = concat(encoder.encode(frameHeader(digestOf(bytes), bytes.byteLength)), bytes);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ >= count) return controller.close();
      controller.enqueue(frame);
    },
  });
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function uploadCases(): HostileCase[] {
  const patch = (
    name: string,
    expect: number[],
    headers: (path: string) => Record<string, string>,
    body: BodyInit | null,
    path: (c: CorpusContext) => Promise<string> = (c) => c.newUpload(),
  ): HostileCase => ({
    name: `upload: PATCH ${name}`,
    expect,
    request: async (c) => {
      const at = await path(c);
      return {
        method: "PATCH",
        path: at,
        headers: { "content-type": "application/offset+octet-stream", ...headers(at) },
        body,
      };
    },
  });
  return [
    patch("without Upload-Offset", [400], () => ({}), "abc"),
    patch("with Upload-Offset -1", [400], () => ({ "upload-offset": "-1" }), "abc"),
    patch("with Upload-Offset 1e3", [400], () => ({ "upload-offset": "1e3" }), "abc"),
    patch(
      "with a 17-digit Upload-Offset",
      [400],
      () => ({ "upload-offset": "1".repeat(17) }),
      "abc",
    ),
    patch("at the wrong offset", [409], () => ({ "upload-offset": "5" }), "abc"),
    patch("with more bytes than the size", [400], () => ({ "upload-offset": "0" }), "x".repeat(64)),
    patch(
      "completing with bytes of another digest",
      [400],
      () => ({ "upload-offset": "0" }),
      "x".repeat(16),
    ),
    patch(
      "of an unknown upload",
      [404],
      () => ({ "upload-offset": "0" }),
      "abc",
      () => Promise.resolve("/v1/uploads/0123456789abcdef01234567"),
    ),
    patch(
      "of a traversal id",
      [400, 404],
      () => ({ "upload-offset": "0" }),
      "abc",
      () => Promise.resolve("/v1/uploads/..%2F..%2Fblobs"),
    ),
    patch(
      "of a 5,000-character id",
      [400, 404],
      () => ({ "upload-offset": "0" }),
      "abc",
      () => Promise.resolve(`/v1/uploads/${"i".repeat(5000)}`),
    ),
    {
      name: "upload: POST /v1/uploads with a digest that is not one",
      expect: [400, 422],
      request: () => ({
        method: "POST",
        path: "/v1/uploads",
        headers: JSON_HEADERS,
        body: JSON.stringify({ digest: "../../etc/passwd", size: 3 }),
      }),
    },
    {
      name: "upload: GET of an unknown upload",
      expect: [404],
      request: () => ({ method: "GET", path: "/v1/uploads/0123456789abcdef01234567" }),
    },
    {
      name: "upload: HEAD of a traversal id",
      expect: [400, 404],
      request: () => ({ method: "HEAD", path: "/v1/uploads/%2e%2e" }),
    },
    {
      name: "upload: DELETE of an unknown upload",
      expect: [404],
      request: () => ({ method: "DELETE", path: "/v1/uploads/0123456789abcdef01234567" }),
    },
    {
      name: "upload: another key's upload is not found",
      expect: [404],
      request: (c) => ({ method: "GET", path: c.upload, key: c.keys.bound }),
    },
    {
      name: "upload: PATCH another key's upload",
      expect: [404],
      request: (c) => ({
        method: "PATCH",
        path: c.upload,
        headers: { "upload-offset": "0" },
        body: "abc",
        key: c.keys.bound,
      }),
    },
    {
      name: "upload: DELETE another key's upload",
      expect: [404],
      request: (c) => ({ method: "DELETE", path: c.upload, key: c.keys.bound }),
    },
  ];
}

function methodCases(): HostileCase[] {
  const pairs: [string, string, number[]][] = [
    ["DELETE", "/v1/files/batch", [405]],
    ["GET", "/v1/blobs/batch", [400, 405]],
    ["DELETE", "/v1/blobs/batch", [403]],
    ["GET", "/v1/audit?limit=0", [403]],
    ["PATCH", "/v1/stats", [405]],
    ["PUT", "/v1/uploads", [405]],
    ["POST", `/v1/blobs/${DIGEST}`, [405]],
    ["GET", "/v1/nothing", [404]],
    ["GET", "/../../etc/passwd", [404]],
    ["GET", "/%2e%2e/%2e%2e/etc/passwd", [404]],
    ["GET", "/v1/blobs", [404, 405]],
    ["PROPFIND", "/v1", [404, 405]],
    ["GET", "/get_file/", [404]],
    ["POST", "/health", [404, 405]],
    ["DELETE", "/", [404, 405]],
    ["GET", "/health?verbose=%FF", [400]],
    ["GET", "/v1?x=%ED%A0%80", [400]],
    ["PUT", "/v1/openapi.json", [405]],
    ["GET", "/v1/openapi.json/../../etc/passwd", [404]],
  ];
  return pairs.map(([method, path, expect]) => ({
    name: `method: ${method} ${path}`,
    expect,
    request: () => ({ method, path }),
  }));
}

/** Raw HTTP/1.1 over the socket: what fetch would never send. */
function rawCases(): HostileCase[] {
  const head = (c: CorpusContext, lines: string[]) =>
    [...lines, "Host: 127.0.0.1", `X-API-Key: ${c.keys.write}`, "Connection: close", "", ""].join(
      "\r\n",
    );
  const put = (_: CorpusContext) => `PUT /v1/blobs/${digestOf("raw")} HTTP/1.1`;
  const cases: HostileCase[] = [
    {
      name: "raw: Content-Length larger than the body, then the client stops sending",
      expect: [400],
      raw: (c) => head(c, [put(c), "Content-Length: 1000"]) + "raw",
    },
    {
      name: "raw: Content-Length smaller than the body",
      expect: [400],
      raw: (c) => head(c, [put(c), "Content-Length: 1"]) + "raw and more",
    },
    {
      name: "raw: two different Content-Length headers",
      expect: [400],
      raw: (c) => head(c, [put(c), "Content-Length: 3", "Content-Length: 4"]) + "raw!",
    },
    {
      name: "raw: Content-Length that is not a number",
      expect: [400],
      raw: (c) => head(c, [put(c), "Content-Length: three"]) + "raw",
    },
    {
      name: "raw: a negative Content-Length",
      expect: [400],
      raw: (c) => head(c, [put(c), "Content-Length: -3"]) + "raw",
    },
    {
      name: "raw: Content-Length and Transfer-Encoding together",
      expect: [400],
      raw: (c) =>
        head(c, [put(c), "Content-Length: 3", "Transfer-Encoding: chunked"]) +
        "3\r\nraw\r\n0\r\n\r\n",
    },
    {
      name: "raw: a chunk size that is not hex",
      expect: [400],
      raw: (c) => head(c, [put(c), "Transfer-Encoding: chunked"]) + "zz\r\nraw\r\n0\r\n\r\n",
    },
    {
      name: "raw: a chunk longer than its size",
      expect: [400],
      raw: (c) => head(c, [put(c), "Transfer-Encoding: chunked"]) + "1\r\nraw\r\n0\r\n\r\n",
    },
    {
      name: "raw: a chunked body that never ends",
      expect: [400],
      raw: (c) => head(c, [put(c), "Transfer-Encoding: chunked"]) + "3\r\nraw\r\n",
    },
    {
      name: "raw: a chunk size of 2^64",
      expect: [400],
      raw: (c) => head(c, [put(c), "Transfer-Encoding: chunked"]) + "10000000000000000\r\nraw\r\n",
    },
    {
      name: "raw: an unknown transfer coding",
      expect: [400, 501],
      raw: (c) => head(c, [put(c), "Transfer-Encoding: gzip, rot13"]) + "raw",
    },
    {
      name: "raw: a 100 KB header",
      expect: [400, 431],
      raw: (c) => head(c, ["GET /v1/stats HTTP/1.1", `X-Junk: ${"j".repeat(100_000)}`]),
    },
    {
      name: "raw: 5,000 headers",
      expect: [400, 431],
      raw: (c) =>
        head(c, [
          "GET /v1/stats HTTP/1.1",
          ...Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`),
        ]),
    },
    {
      name: "raw: a header line without a colon",
      expect: [400],
      raw: (c) => head(c, ["GET /v1/stats HTTP/1.1", "NoColonHere"]),
    },
    {
      name: "raw: a header name with a space",
      expect: [400],
      raw: (c) => head(c, ["GET /v1/stats HTTP/1.1", "Bad Name: v"]),
    },
    {
      name: "raw: a request line with no version",
      expect: [400],
      raw: () => "GET /v1/stats\r\n\r\n",
    },
    {
      name: "raw: HTTP/9.9",
      expect: [400, 505],
      raw: () => "GET /v1/stats HTTP/9.9\r\nHost: x\r\n\r\n",
    },
    {
      name: "raw: a method with control characters",
      expect: [400],
      raw: () => "G\u0001T /v1/stats HTTP/1.1\r\nHost: x\r\n\r\n",
    },
    {
      name: "raw: a 100 KB request target",
      expect: [400, 404, 414, 431],
      raw: (c) => head(c, [`GET /v1/blobs/${"a".repeat(100_000)} HTTP/1.1`]),
    },
    {
      name: "raw: a path with dot segments",
      expect: [400, 404],
      raw: (c) => head(c, ["GET /v1/../../../etc/passwd HTTP/1.1"]),
    },
    {
      name: "raw: a path with a NUL byte",
      expect: [400, 404],
      raw: (c) => head(c, ["GET /v1/blobs/a\u0000b HTTP/1.1"]),
    },
    {
      name: "raw: an absolute-form target naming another host",
      expect: [400, 404],
      raw: (c) => head(c, ["GET http://evil.example/../etc/passwd HTTP/1.1"]),
    },
    {
      name: "raw: a bare LF request",
      expect: [400, 404],
      raw: () => "GET /nothing HTTP/1.1\nHost: x\n\n",
    },
    {
      name: "raw: a key with control characters",
      expect: [400, 401],
      raw: () =>
        "GET /v1/stats HTTP/1.1\r\nHost: x\r\nX-API-Key: abc\u0001def\r\nConnection: close\r\n\r\n",
    },
    {
      name: "raw: TRACE",
      expect: [400, 404, 405],
      raw: () => "TRACE /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    },
    {
      name: "raw: a Range header with a NUL",
      expect: [200, 400],
      raw: (c) =>
        `GET /v1/blobs/${c.blob.digest} HTTP/1.1\r\nHost: x\r\nX-API-Key: ${c.keys.read}\r\n` +
        "Range: bytes=\u00001-2\r\nConnection: close\r\n\r\n",
    },
    {
      // The route never reads a GET body: it may answer before the lie shows.
      name: "raw: a body on GET with a lying length",
      expect: [200, 400],
      raw: (c) => head(c, [`GET /v1/blobs/${c.blob.digest} HTTP/1.1`, "Content-Length: 50"]) + "x",
    },
    {
      name: "raw: a blob batch whose Content-Length cuts a frame",
      expect: [400],
      raw: (c) => {
        const body = `${digestOf("cut")} 3\ncut`;
        return head(c, [
          "POST /v1/blobs/batch HTTP/1.1",
          `Content-Type: ${BLOB_BATCH_CONTENT_TYPE}`,
          `Content-Length: ${body.length - 2}`,
        ]) + body;
      },
    },
    {
      name: "raw: a blob batch sent chunked and cut inside a frame",
      expect: [400],
      raw: (c) =>
        head(c, [
          "POST /v1/blobs/batch HTTP/1.1",
          `Content-Type: ${BLOB_BATCH_CONTENT_TYPE}`,
          "Transfer-Encoding: chunked",
        ]) + `46\r\n${digestOf("cut")} 9\ncut\r\n`,
    },
    {
      name: "raw: a classic multipart upload whose boundary never closes",
      expect: [400, 404],
      raw: (c) => {
        const body = `--b\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nabc`;
        return head(c, [
          `POST /upload_file/${c.blob.digest}?hostname=${c.blob.hostname}&filepath=${
            encodeURIComponent(c.blob.filepath)
          } HTTP/1.1`,
          "Content-Type: multipart/form-data; boundary=b",
          `Content-Length: ${body.length}`,
        ]) + body;
      },
    },
    {
      name: "raw: a multipart upload with a 100 KB boundary",
      expect: [400, 404],
      raw: (c) =>
        head(c, [
          `POST /upload_file/${c.blob.digest}?hostname=${c.blob.hostname}&filepath=%2Fx HTTP/1.1`,
          `Content-Type: multipart/form-data; boundary=${"b".repeat(100_000)}`,
          "Content-Length: 3",
        ]) + "abc",
    },
    {
      name: "raw: a resumable append whose Content-Length lies",
      expect: [400],
      raw: async (c) => {
        const at = await c.newUpload();
        return head(c, [
          `PATCH ${at} HTTP/1.1`,
          "Upload-Offset: 0",
          "Content-Type: application/offset+octet-stream",
          "Content-Length: 8",
        ]) + "abc";
      },
    },
    {
      name: "raw: JSON over a lying Content-Length",
      expect: [400, 422],
      raw: (c) =>
        head(c, [
          "POST /v1/files/batch HTTP/1.1",
          "Content-Type: application/json",
          "Content-Length: 100",
        ]) +
        '{"files": []}',
    },
    {
      name: "raw: Expect 100-continue with a body that never comes",
      expect: [400, 417],
      raw: (c) => head(c, [put(c), "Expect: 100-continue", "Content-Length: 10"]),
    },
    {
      name: "raw: only whitespace",
      expect: [400],
      raw: () => "\r\n\r\n\r\n   \r\n",
    },
    {
      name: "raw: TLS bytes on the plain port",
      expect: [400],
      raw: () => new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]),
    },
  ];
  return cases;
}

/** Query strings no client sends, on every documented GET route (read key). */
function readQueryCases(operations: readonly DocumentedOperation[]): HostileCase[] {
  const queries = [
    "?limit=-1",
    "?limit=99999999999999999999",
    "?limit=1e3",
    "?cursor=%00%01garbage",
    "?cursor=" + "c".repeat(5000),
    "?since=not-a-time&until=%FF",
    "?q=%ED%A0%80",
    "?host[$ne]=x&path=../../../etc/passwd",
    "?path=" + "%2e%2e%2f".repeat(50),
  ];
  const cases: HostileCase[] = [];
  for (const op of operations) {
    if (op.method !== "get" || op.scope === null || op.path === "/v1/blobs/{digest}") continue;
    for (const query of queries) {
      cases.push({
        name: `read query: GET ${op.path}${query.slice(0, 50)}`,
        // A parameter a route does not take is ignored: then the answer is 2xx or 404.
        expect: [200, 400, 404, 413, 422],
        request: (c) => ({ method: "GET", path: filled(op.path) + query, key: c.keys.admin }),
      });
    }
  }
  return cases;
}

export function hostileCorpus(operations: readonly DocumentedOperation[]): HostileCase[] {
  return [
    ...authCases(operations),
    ...readQueryCases(operations),
    ...digestPathCases(),
    ...jsonCases(),
    ...fieldCases(),
    ...queryCases(),
    ...rangeCases(),
    ...batchCases(),
    ...uploadCases(),
    ...methodCases(),
    ...rawCases(),
  ];
}
