/**
 * Runs the hostile-input corpus (corpus.ts) against an app served on a real socket, after
 * storing blobs every way the API allows (classic upload, PUT, small-blob batch, resumable
 * upload). Every case runs; the failures are reported together. Then every blob stored
 * before must still be held, byte for byte, and its file still registered.
 */
import assert from "node:assert/strict";
import { digestOf } from "../../lib/digest.ts";
import { problemSchema } from "../../lib/models/problem.ts";
import { BLOB_BATCH_CONTENT_TYPE, encodeFrames } from "../../lib/wire/blob_batch.ts";
import { apiKeyCreatedSchema } from "../../lib/wire/classic.ts";
import { uploadStatusSchema } from "../../lib/wire/v1.ts";
import { scopeSchema } from "../../lib/models/api_key.ts";
import { z } from "zod";
import type { AppFixture } from "../app_fixture.ts";
import { bytesOf, fileAt } from "../file_fixture.ts";
import { type CorpusContext, type HostileCase, hostileCorpus, type RequestSpec } from "./corpus.ts";

/** What no answer may contain: stacks, paths, driver and runtime error names. */
const LEAKS =
  /\bat [\w.<>$]+ \(|file:\/\/|\/tmp\/|\/work\/|\/home\/|\/root\/|node_modules|\.ts:\d+|Mongo[A-Z]\w*|ECONN\w+|SqliteError|SQLITE_\w+|S3ServiceException|NoSuchKey|AccessDenied|TypeError|RangeError|ReferenceError|SyntaxError|Uncaught/;

const RAW_TIMEOUT_MS = 10_000;

interface Outcome {
  status: number | "closed";
  contentType: string;
  text: string;
}

export interface CorpusReport {
  cases: number;
  failures: string[];
  statuses: Map<string, number>;
}

export async function runHostileCorpus(f: AppFixture): Promise<CorpusReport> {
  await using server = await f.serve();
  const url = server.url;
  const send = async (spec: RequestSpec): Promise<Response> => {
    const headers = new Headers(spec.headers);
    const key = spec.key === undefined ? f.keys.write : spec.key;
    if (key !== null) headers.set("x-api-key", key);
    return await fetch(`${url}${spec.path}`, {
      method: spec.method,
      headers,
      body: spec.body ?? null,
      ...(spec.body instanceof ReadableStream ? { duplex: "half" } : {}),
    });
  };
  const expectOk = async (spec: RequestSpec, status: number): Promise<unknown> => {
    const response = await send(spec);
    const text = await response.text();
    assert.equal(response.status, status, `${spec.method} ${spec.path}: ${text}`);
    return text === "" ? null : JSON.parse(text);
  };

  // ---- what is stored before the corpus runs ----
  const stored: { digest: string; bytes: Uint8Array; hostname: string; filepath: string }[] = [];
  const register = async (filepath: string, bytes: Uint8Array) => {
    const file = fileAt("seed-host", filepath, bytes);
    await expectOk(
      { method: "POST", path: "/put_file", headers: json, body: JSON.stringify(file) },
      201,
    );
    stored.push({ digest: file.sha256, bytes, hostname: file.hostname, filepath });
    return file.sha256;
  };
  const json = { "content-type": "application/json" };
  const classic = bytesOf(70_000, 1);
  const classicDigest = await register("/seed/classic.bin", classic);
  await expectOk({
    method: "POST",
    path: `/upload_file/${classicDigest}?hostname=seed-host&filepath=%2Fseed%2Fclassic.bin`,
    headers: { "content-type": "application/octet-stream" },
    body: classic,
  }, 200);
  const put = bytesOf(30_000, 2);
  await expectOk({
    method: "PUT",
    path: `/v1/blobs/${await register("/seed/put.bin", put)}`,
    body: put,
  }, 201);
  const small = [bytesOf(100, 3), bytesOf(2000, 4), bytesOf(1, 5)];
  const smallDigests: string[] = [];
  for (const [i, bytes] of small.entries()) {
    smallDigests.push(await register(`/seed/small-${i}`, bytes));
  }
  await expectOk({
    method: "POST",
    path: "/v1/blobs/batch",
    headers: { "content-type": BLOB_BATCH_CONTENT_TYPE },
    body: encodeFrames(small.map((bytes, i) => ({ digest: smallDigests[i], bytes }))),
  }, 200);
  const resumable = bytesOf(200_000, 6);
  const resumableDigest = await register("/seed/resumable.bin", resumable);
  const created = uploadStatusSchema.parse(
    await expectOk({
      method: "POST",
      path: "/v1/uploads",
      headers: json,
      body: JSON.stringify({ digest: resumableDigest, size: resumable.byteLength }),
    }, 201),
  );
  await expectOk({
    method: "PATCH",
    path: created.location,
    headers: { "upload-offset": "0", "content-type": "application/offset+octet-stream" },
    body: resumable,
  }, 200);

  const admin = { "x-api-key": f.keys.admin, ...json };
  const newKey = async (body: unknown) =>
    apiKeyCreatedSchema.parse(
      await expectOk({
        method: "POST",
        path: "/api_keys",
        headers: admin,
        body: JSON.stringify(body),
        key: f.keys.admin,
      }, 201),
    );
  const revoked = await newKey({ name: "revoked", scope: "write" });
  await expectOk(
    { method: "PUT", path: `/api_keys/${revoked._id}/revoke`, key: f.keys.admin },
    200,
  );
  const bound = await newKey({ name: "bound", scope: "write", hosts: ["bound-host"] });

  const newUpload = async (size = 16): Promise<string> => {
    const body = JSON.stringify({ digest: digestOf("y".repeat(size)), size });
    const answer = uploadStatusSchema.parse(
      await expectOk({ method: "POST", path: "/v1/uploads", headers: json, body }, 201),
    );
    return answer.location;
  };
  const ctx: CorpusContext = {
    keys: { ...f.keys, revoked: revoked.api_key, bound: bound.api_key },
    blob: stored[0] as CorpusContext["blob"],
    newUpload,
    upload: await newUpload(),
  };

  // ---- the corpus: every documented operation, and the classic routes ----
  const documentation = await send({ method: "GET", path: "/v1/openapi.json", key: null });
  const paths = z.record(
    z.string(),
    z.record(z.string(), z.object({ "x-putplace-scope": scopeSchema.optional() })),
  )
    .parse((await documentation.json()).paths);
  const operations = Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method,
      path,
      scope: op["x-putplace-scope"] ?? null,
    }))
  );
  const corpus = hostileCorpus(operations);
  const failures: string[] = [];
  const statuses = new Map<string, number>();
  for (const hostile of corpus) {
    let outcome: Outcome;
    let head = false;
    try {
      if ("raw" in hostile) outcome = await sendRaw(server.port, await hostile.raw(ctx));
      else {
        const spec = await hostile.request(ctx);
        head = spec.method === "HEAD";
        outcome = await fetchOutcome(send, spec);
      }
    } catch (error) {
      failures.push(`${hostile.name}: the case itself failed: ${error}`);
      continue;
    }
    const label = String(outcome.status);
    if (Deno.env.get("HOSTILE_VERBOSE")) console.log(label, hostile.name);
    statuses.set(label, (statuses.get(label) ?? 0) + 1);
    const problem = judge(hostile, outcome, "raw" in hostile, head);
    if (problem) failures.push(`${hostile.name}: ${problem}`);
  }

  // ---- afterwards: every blob stored before is intact, its file still registered ----
  for (const blob of stored) {
    const response = await send({
      method: "GET",
      path: `/v1/blobs/${blob.digest}`,
      key: f.keys.read,
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (response.status !== 200 || digestOf(bytes) !== blob.digest) {
      failures.push(`after the corpus: blob ${blob.digest} is not intact (${response.status})`);
    }
    const file = await f.stores.metadata.files.get(blob.hostname, blob.filepath);
    if (file?.sha256 !== blob.digest) {
      failures.push(`after the corpus: ${blob.filepath} no longer holds ${blob.digest}`);
    }
  }
  const health = await send({ method: "GET", path: "/health", key: null });
  await health.body?.cancel();
  if (health.status !== 200) failures.push(`after the corpus: /health is ${health.status}`);
  return { cases: corpus.length, failures, statuses };
}

async function fetchOutcome(
  send: (spec: RequestSpec) => Promise<Response>,
  spec: RequestSpec,
): Promise<Outcome> {
  let response: Response;
  try {
    response = await send(spec);
  } catch {
    // The server answered early (413) and closed while a streamed body was still going.
    return { status: "closed", contentType: "", text: "" };
  }
  const text = await response.text().catch(() => "");
  const headers = [...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  return {
    status: response.status,
    contentType: response.headers.get("content-type") ?? "",
    text: `${headers}\n\n${text}`,
  };
}

/** Writes `bytes`, half-closes, and reads what comes back until the server closes. */
async function sendRaw(port: number, bytes: Uint8Array | string): Promise<Outcome> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const timer = setTimeout(() => connection.close(), RAW_TIMEOUT_MS);
  const received: Uint8Array[] = [];
  try {
    try {
      let offset = 0;
      while (offset < data.byteLength) offset += await connection.write(data.subarray(offset));
      await connection.closeWrite();
    } catch {
      // The server may refuse and close before it has read everything.
    }
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      let n: number | null;
      try {
        n = await connection.read(buffer);
      } catch {
        break;
      }
      if (n === null) break;
      received.push(buffer.slice(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      connection.close();
    } catch {
      // already closed by the timeout
    }
  }
  const text = new TextDecoder().decode(concat(received));
  // Interim answers (100 Continue) come before the final one.
  const status = [...text.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)].find((m) => !m[1].startsWith("1"));
  if (!status) return { status: "closed", contentType: "", text };
  const contentType = text.match(/^content-type:\s*(.+)$/im)?.[1].trim() ?? "";
  return { status: Number(status[1]), contentType, text };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Why an outcome breaks the rules; null when it keeps them. */
function judge(
  hostile: HostileCase,
  outcome: Outcome,
  raw: boolean,
  head: boolean,
): string | null {
  if (LEAKS.test(outcome.text)) {
    return `the answer leaks internals: ${outcome.text.match(LEAKS)?.[0]}`;
  }
  if (outcome.status === "closed") {
    // Only HTTP framing the server's HTTP layer refuses may end without an answer, and a
    // streamed body over a cap may be cut after the server answered.
    if (raw || hostile.expect?.includes(413)) return null;
    return "the connection closed without an answer";
  }
  const status = outcome.status;
  if (status >= 500) return `answered ${status}: ${outcome.text.slice(0, 300)}`;
  const expected = hostile.expect;
  if (expected ? !expected.includes(status) : status < 400 || status >= 500) {
    return `answered ${status}, expected ${expected?.join(" or ") ?? "4xx"}: ${
      outcome.text.slice(0, 300)
    }`;
  }
  if (status >= 400 && head) {
    // A HEAD answer has the problem's headers but no body.
    if (!outcome.contentType.startsWith("application/problem+json")) {
      return `answered HEAD ${status} without problem+json headers (${outcome.contentType})`;
    }
  } else if (status >= 400 && outcome.contentType.startsWith("application/problem+json")) {
    // A raw answer may be chunked: the JSON is between the first { and the last }.
    const json = outcome.text.slice(outcome.text.indexOf("{"), outcome.text.lastIndexOf("}") + 1);
    const parsed = problemSchema.safeParse(safeJson(json));
    if (!parsed.success || parsed.data.status !== status) {
      return `not a problem body: ${json.slice(0, 200)}`;
    }
  } else if (status >= 400 && !raw) {
    return `answered ${status} without problem+json (${outcome.contentType})`;
  }
  return null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
