/**
 * The classic wire API (DESIGN.md section 5) against the real app: `createApp` with a
 * SQLite `:memory:` metadata store and an fs blob store in a temp directory, called
 * in-process with `app.request()`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Limits } from "../server/limits.ts";
import { appFixture } from "./app_fixture.ts";
import { hashApiKey } from "../lib/auth.ts";
import { type Digest, digestOf, EMPTY_DIGEST } from "../lib/digest.ts";
import { PROBLEM_CONTENT_TYPE, problemSchema } from "../lib/models/problem.ts";
import { putFileResponseSchema } from "../lib/wire/classic.ts";

// ---- the app under test ----

/** The app fixture with the classic calls: `request` sends no key unless told. */
async function testApp(limits: Partial<Limits> = {}) {
  const f = await appFixture({ limits, resumable: false });
  const { app, keys } = f;
  return {
    app,
    metadata: f.stores.metadata,
    blobs: f.stores.blobs,
    dir: f.dir,
    blobRoot: f.blobRoot,
    keys,
    keyUsage: f.keyUsage,
    logged: f.internalErrors,
    request(path: string, init: RequestInit = {}): Promise<Response> {
      return Promise.resolve(app.request(path, init));
    },
    /** POST /put_file as JSON with the write key. */
    putFile(body: unknown, key = keys.write): Promise<Response> {
      return Promise.resolve(app.request("/put_file", {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json" },
        body: JSON.stringify(body),
      }));
    },
    /** POST /upload_file/{digest} with a raw body and the write key. */
    upload(
      digest: string,
      where: { hostname: string; filepath: string },
      body: BodyInit | null,
      headers: Record<string, string> = {},
    ): Promise<Response> {
      return Promise.resolve(app.request(uploadPath(digest, where), {
        method: "POST",
        headers: {
          "x-api-key": keys.write,
          "content-type": "application/octet-stream",
          ...headers,
        },
        body,
        ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
      }));
    },
    blobPath: f.blobPath,
    [Symbol.asyncDispose]: () => f[Symbol.asyncDispose](),
  };
}

type TestApp = Awaited<ReturnType<typeof testApp>>;

function uploadPath(digest: string, where: { hostname: string; filepath: string }): string {
  const query = new URLSearchParams({ hostname: where.hostname, filepath: where.filepath });
  return `/upload_file/${digest}?${query}`;
}

function fileBody(hostname: string, filepath: string, content: string | Uint8Array) {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  return {
    filepath,
    hostname,
    ip_address: "10.0.0.7",
    sha256: digestOf(bytes),
    file_size: bytes.byteLength,
    file_mode: 0o100644,
    file_uid: 1000,
    file_gid: 1000,
    file_mtime: 1_700_000_000.25,
    file_atime: 1_700_000_001.5,
    file_ctime: 1_700_000_002.75,
  };
}

/** Registers a file and uploads its bytes as multipart field `file`, as classic clients do. */
async function registerAndUpload(t: TestApp, hostname: string, filepath: string, content: string) {
  const registered = await t.putFile(fileBody(hostname, filepath, content));
  assert.equal(registered.status, 201);
  await registered.body?.cancel();
  const uploaded = await t.request(uploadPath(digestOf(content), { hostname, filepath }), {
    method: "POST",
    headers: { "x-api-key": t.keys.write },
    body: multipart("file", content),
  });
  assert.equal(uploaded.status, 200, await uploaded.clone().text());
  return await uploaded.json();
}

function multipart(
  field: string,
  content: string | Uint8Array<ArrayBuffer>,
  extra: [string, string][] = [],
) {
  const form = new FormData();
  for (const [name, value] of extra) form.append(name, value);
  form.append(field, new Blob([content]), "upload.bin");
  return form;
}

/** A body that sends `chunk` and then fails: a client that went away. */
function failingBody(chunk: Uint8Array): ReadableStream<Uint8Array> {
  return ReadableStream.from((async function* () {
    yield chunk;
    await Promise.resolve();
    throw new Error("connection reset by peer");
  })());
}

/** Asserts an RFC 9457 problem with `detail`, no stack and no filesystem path; returns it. */
async function assertProblem(t: TestApp, response: Response, status: number) {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.equal(response.headers.get("content-type"), PROBLEM_CONTENT_TYPE);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  const problem = problemSchema.parse(JSON.parse(text));
  assert.equal(problem.status, status);
  assert.ok(problem.detail.length > 0, "has a detail");
  for (const leak of [t.dir, Deno.cwd(), "file://", "node_modules", "    at "]) {
    assert.ok(!text.includes(leak), `body leaks "${leak}": ${text}`);
  }
  for (const key of Object.values(t.keys)) assert.ok(!text.includes(key), "body echoes an API key");
  return problem;
}

async function blobDirEntries(t: TestApp, digest: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(join(t.blobRoot, digest.slice(0, 2)))) {
      names.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names;
}

/** Nothing of `digest` anywhere: not indexed, not in the blob store, no temp file. */
async function assertNothingStored(t: TestApp, digest: Digest) {
  assert.equal(await t.metadata.blobs.has(digest), false, "not in the blob index");
  assert.equal(await t.blobs.has(digest), false, "not in the blob store");
  assert.deepEqual(await blobDirEntries(t, digest), [], "no file left in the blob's directory");
}

// ---- health ----

Deno.test("GET / answers with the classic banner and the version", async () => {
  await using t = await testApp();
  const response = await t.request("/");
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    message: "PutPlace API - File Metadata Storage",
    status: "running",
    version: "0.0.0-test",
  });
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
});

Deno.test("GET /health is 200 and names both stores when they are reachable", async () => {
  await using t = await testApp();
  const response = await t.request("/health");
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.status, "healthy");
  assert.deepEqual(body.database, { status: "connected", type: "sqlite" });
  assert.deepEqual(body.storage, { status: "connected", type: "fs" });
});

Deno.test("GET /health is 503 when the blob directory is gone, without naming its path", async () => {
  await using t = await testApp();
  await Deno.remove(t.blobRoot, { recursive: true });
  const response = await t.request("/health");
  const text = await response.text();
  assert.equal(response.status, 503);
  const body = JSON.parse(text);
  assert.equal(body.storage.status, "disconnected");
  assert.equal(body.database.status, "connected");
  assert.ok(!text.includes(t.dir), text);
});

Deno.test("GET /health is 503 when the metadata store cannot be used", async () => {
  await using t = await testApp();
  await t.metadata[Symbol.asyncDispose]();
  const response = await t.request("/health");
  assert.equal(response.status, 503);
  const body = await response.json();
  assert.equal(body.database.status, "disconnected");
  assert.equal(body.storage.status, "connected");
});

// ---- authentication ----

Deno.test("a request without an API key is 401 with a detail", async () => {
  await using t = await testApp();
  const digest = digestOf("x");
  const attempts: [string, RequestInit][] = [
    ["/put_file", { method: "POST", body: JSON.stringify(fileBody("h", "/f", "x")) }],
    [`/get_file/${digest}`, {}],
    [uploadPath(digest, { hostname: "h", filepath: "/f" }), { method: "POST", body: "x" }],
    ["/api_keys", {}],
    ["/api_keys", { method: "POST", body: JSON.stringify({ name: "k" }) }],
  ];
  for (const [path, init] of attempts) {
    const response = await t.request(path, init);
    const problem = await assertProblem(t, response, 401);
    assert.match(problem.detail, /X-API-Key/);
    assert.equal(response.headers.get("www-authenticate"), "ApiKey");
  }
  assert.equal(await t.metadata.files.count(), 0);
});

Deno.test("a malformed, unknown or empty API key is 401", async () => {
  await using t = await testApp();
  for (const key of ["not-a-key", "0".repeat(64), t.keys.admin.toUpperCase(), " "]) {
    const response = await t.request("/api_keys", { headers: { "x-api-key": key } });
    await assertProblem(t, response, 401);
  }
});

Deno.test("a revoked API key is 401", async () => {
  await using t = await testApp();
  const record = await t.metadata.apiKeys.findByHash(hashApiKey(t.keys.write));
  assert.ok(record);
  await t.metadata.apiKeys.revoke(record.id, new Date());
  const response = await t.putFile(fileBody("h", "/f", "x"));
  await assertProblem(t, response, 401);
  assert.equal(await t.metadata.files.count(), 0);
});

Deno.test("a read key can look files up but cannot register or upload (403)", async () => {
  await using t = await testApp();
  const lookup = await t.request(`/get_file/${digestOf("x")}`, {
    headers: { "x-api-key": t.keys.read },
  });
  await assertProblem(t, lookup, 404);
  const register = await t.putFile(fileBody("h", "/f", "x"), t.keys.read);
  const problem = await assertProblem(t, register, 403);
  assert.match(problem.detail, /"read"/);
  assert.equal(await t.metadata.files.count(), 0);

  await (await t.putFile(fileBody("h", "/f", "x"))).body?.cancel();
  const upload = await t.request(uploadPath(digestOf("x"), { hostname: "h", filepath: "/f" }), {
    method: "POST",
    headers: { "x-api-key": t.keys.read },
    body: "x",
  });
  await assertProblem(t, upload, 403);
  assert.equal(await t.metadata.blobs.has(digestOf("x")), false);
});

Deno.test("a write key cannot manage API keys (403)", async () => {
  await using t = await testApp();
  const headers = { "x-api-key": t.keys.write };
  await assertProblem(t, await t.request("/api_keys", { headers }), 403);
  await assertProblem(
    t,
    await t.request("/api_keys", { method: "POST", headers, body: JSON.stringify({ name: "x" }) }),
    403,
  );
  const [first] = await t.metadata.apiKeys.list();
  await assertProblem(
    t,
    await t.request(`/api_keys/${first.id}/revoke`, { method: "PUT", headers }),
    403,
  );
  await assertProblem(
    t,
    await t.request(`/api_keys/${first.id}`, { method: "DELETE", headers }),
    403,
  );
  assert.equal((await t.metadata.apiKeys.get(first.id))?.revoked_at, null);
  assert.equal(await t.metadata.apiKeys.count(), 3);
});

Deno.test("Authorization: Bearer <key> authenticates like X-API-Key", async () => {
  await using t = await testApp();
  const response = await t.request("/put_file", {
    method: "POST",
    headers: { authorization: `Bearer ${t.keys.write}`, "content-type": "application/json" },
    body: JSON.stringify(fileBody("h", "/f", "x")),
  });
  assert.equal(response.status, 201);
  await response.body?.cancel();
  const bad = await t.request("/api_keys", {
    headers: { authorization: `Bearer ${"1".repeat(64)}` },
  });
  await assertProblem(t, bad, 401);
});

Deno.test("using a key records when it was last used", async () => {
  await using t = await testApp();
  const before = (await t.metadata.apiKeys.list()).find((k) => k.scope === "read");
  assert.equal(before?.last_used_at, null);
  await (await t.request(`/get_file/${digestOf("x")}`, { headers: { "x-api-key": t.keys.read } }))
    .body?.cancel();
  // The write runs in the background and resolves once durable.
  await t.keyUsage.settled();
  const after = await t.metadata.apiKeys.get(before!.id);
  assert.ok(after?.last_used_at, "last_used_at is set");
});

// ---- POST /put_file ----

Deno.test("POST /put_file registers a file: 201 with the stored file, _id and the upload URL", async () => {
  await using t = await testApp();
  const input = fileBody("host-a", "/srv/a.txt", "hello\n");
  const response = await t.putFile(input);
  assert.equal(response.status, 201);
  const body = putFileResponseSchema.parse(await response.json());
  assert.match(body._id, /^[0-9a-f]{24}$/);
  assert.deepEqual(body, {
    ...input,
    _id: body._id,
    created_at: body.created_at,
    updated_at: body.updated_at,
    has_file_content: false,
    upload_required: true,
    upload_url: `/upload_file/${input.sha256}`,
  });
  const stored = await t.metadata.files.get("host-a", "/srv/a.txt");
  assert.equal(stored?.id, body._id);
  assert.equal(stored?.created_at, body.created_at);
});

Deno.test("POST /put_file again upserts: the same _id, and a new digest is kept as history", async () => {
  await using t = await testApp();
  const first = await (await t.putFile(fileBody("h", "/f", "one"))).json();
  const again = await t.putFile(fileBody("h", "/f", "one"));
  assert.equal(again.status, 201);
  const same = await again.json();
  assert.equal(same._id, first._id);
  assert.equal(same.updated_at, first.updated_at, "an unchanged file is not rewritten");

  const changed = await (await t.putFile(fileBody("h", "/f", "two!"))).json();
  assert.equal(changed._id, first._id);
  assert.equal(changed.sha256, digestOf("two!"));
  assert.equal(changed.upload_required, true);
  const history = await t.metadata.files.history("h", "/f");
  assert.deepEqual(history.map((h) => [h.sha256, h.file_size]), [[digestOf("one"), 3]]);
  assert.equal(await t.metadata.files.count(), 1);
});

Deno.test("POST /put_file ignores server-managed fields a client sends", async () => {
  await using t = await testApp();
  const input = fileBody("h", "/f", "claimed but never uploaded");
  const response = await t.putFile({
    ...input,
    has_file_content: true,
    storage_path: "/etc/passwd",
    created_at: "1999-01-01T00:00:00.000Z",
    updated_at: "1999-01-01T00:00:00.000Z",
    _id: "ffffffffffffffffffffffff",
    id: "ffffffffffffffffffffffff",
    upload_required: false,
    upload_url: null,
  });
  assert.equal(response.status, 201);
  const body = await response.json();
  assert.equal(body.has_file_content, false);
  assert.equal(body.upload_required, true);
  assert.equal(body.upload_url, `/upload_file/${input.sha256}`);
  assert.notEqual(body._id, "ffffffffffffffffffffffff");
  assert.notEqual(body.created_at, "1999-01-01T00:00:00.000Z");
  assert.equal("storage_path" in body, false);
  assert.equal(await t.metadata.blobs.has(input.sha256), false);
  const again = await (await t.putFile(fileBody("h2", "/g", "claimed but never uploaded"))).json();
  assert.equal(again.upload_required, true, "another host still has to upload");
});

Deno.test("POST /put_file needs no upload for an empty file", async () => {
  await using t = await testApp();
  const body = await (await t.putFile(fileBody("h", "/empty", ""))).json();
  assert.equal(body.sha256, EMPTY_DIGEST);
  assert.equal(body.upload_required, false);
  assert.equal(body.upload_url, null);
  assert.equal(body.has_file_content, true);
});

Deno.test("POST /put_file needs no upload once the blob is stored, from any host", async () => {
  await using t = await testApp();
  await registerAndUpload(t, "host-a", "/a", "shared bytes");
  const body = await (await t.putFile(fileBody("host-b", "/b", "shared bytes"))).json();
  assert.equal(body.upload_required, false);
  assert.equal(body.upload_url, null);
  assert.equal(body.has_file_content, true);
});

Deno.test("POST /put_file accepts the minimal body and fills the stat defaults", async () => {
  await using t = await testApp();
  const response = await t.putFile({
    filepath: "/m",
    hostname: "h",
    sha256: digestOf("m"),
    file_size: 1,
  });
  assert.equal(response.status, 201);
  const body = await response.json();
  assert.equal(body.file_mode, 0);
  assert.equal(body.ip_address, "");
});

// ---- POST /upload_file/{sha256} ----

Deno.test("POST /upload_file stores multipart field file: 200 with the classic answer, blob on disk, epoch recorded", async () => {
  await using t = await testApp();
  const content = "uploaded as multipart\n";
  const digest = digestOf(content);
  const body = await registerAndUpload(t, "host-a", "/srv/up.txt", content);
  assert.deepEqual(body, {
    message: "File uploaded successfully",
    sha256: digest,
    size: content.length,
    hostname: "host-a",
    filepath: "/srv/up.txt",
    status: "uploaded",
  });
  assert.equal(await Deno.readTextFile(t.blobPath(digest)), content);
  const file = await t.metadata.files.get("host-a", "/srv/up.txt");
  assert.deepEqual(await t.metadata.blobs.get(digest), {
    digest,
    size: content.length,
    stored_at: (await t.metadata.blobs.get(digest))!.stored_at,
    epoch_file_id: file!.id,
  });
  const lookup = await t.request(`/get_file/${digest}`, { headers: { "x-api-key": t.keys.read } });
  assert.equal((await lookup.json()).has_file_content, true);
});

Deno.test("POST /upload_file takes the file field after other fields and ignores other file fields", async () => {
  await using t = await testApp();
  const content = "the real file";
  await (await t.putFile(fileBody("h", "/f", content))).body?.cancel();
  const form = new FormData();
  form.append("note", "first a plain field");
  form.append("other", new Blob(["not this one"]), "other.bin");
  form.append("file", new Blob([content]), "f.bin");
  form.append("after", "a field after the file");
  const response = await t.request(
    uploadPath(digestOf(content), { hostname: "h", filepath: "/f" }),
    {
      method: "POST",
      headers: { "x-api-key": t.keys.write },
      body: form,
    },
  );
  assert.equal(response.status, 200, await response.clone().text());
  await response.body?.cancel();
  assert.equal(await Deno.readTextFile(t.blobPath(digestOf(content))), content);
});

Deno.test("POST /upload_file stores a raw application/octet-stream body", async () => {
  await using t = await testApp();
  const bytes = new Uint8Array(100_000).map((_, i) => (i * 7919) >> 3);
  const digest = digestOf(bytes);
  await (await t.putFile(fileBody("h", "/raw.bin", bytes))).body?.cancel();
  const response = await t.upload(digest, { hostname: "h", filepath: "/raw.bin" }, bytes);
  assert.equal(response.status, 200);
  assert.equal((await response.json()).size, bytes.byteLength);
  assert.deepEqual(await Deno.readFile(t.blobPath(digest)), bytes);
  assert.equal(await t.metadata.blobs.has(digest), true);
});

Deno.test("POST /upload_file streams a raw body that arrives in many chunks", async () => {
  await using t = await testApp();
  const chunks = Array.from({ length: 40 }, (_, i) => new Uint8Array(50_000).fill(i));
  const whole = new Uint8Array(chunks.length * 50_000);
  chunks.forEach((chunk, i) => whole.set(chunk, i * 50_000));
  const digest = digestOf(whole);
  await (await t.putFile(fileBody("h", "/big", whole))).body?.cancel();
  const response = await t.upload(
    digest,
    { hostname: "h", filepath: "/big" },
    ReadableStream.from(chunks),
  );
  assert.equal(response.status, 200, await response.clone().text());
  await response.body?.cancel();
  assert.equal(digestOf(await Deno.readFile(t.blobPath(digest))), digest);
});

Deno.test("POST /upload_file with bytes that do not match is 400 and changes nothing", async () => {
  await using t = await testApp();
  const content = "the real bytes";
  const digest = digestOf(content);
  await (await t.putFile(fileBody("h", "/f", content))).body?.cancel();
  for (
    const body of [
      () => multipart("file", "forged bytes!!"),
      () => "forged bytes!!",
      () => "",
      () => `${content}x`,
    ]
  ) {
    const response = await t.request(uploadPath(digest, { hostname: "h", filepath: "/f" }), {
      method: "POST",
      headers: { "x-api-key": t.keys.write },
      body: body(),
    });
    await assertProblem(t, response, 400);
    await assertNothingStored(t, digest);
  }
  const sameSize = await t.upload(digest, { hostname: "h", filepath: "/f" }, "forged bytes!!");
  assert.equal((await assertProblem(t, sameSize, 400)).code, "digest_mismatch");
  const again = await (await t.putFile(fileBody("h2", "/g", content))).json();
  assert.equal(again.upload_required, true);
  assert.equal(again.has_file_content, false);
});

Deno.test("a failed upload of a stored blob leaves the blob and its epoch file as they were", async () => {
  await using t = await testApp();
  const content = "stored once";
  const digest = digestOf(content);
  await registerAndUpload(t, "host-a", "/a", content);
  const epoch = (await t.metadata.blobs.get(digest))?.epoch_file_id;
  const before = await Deno.stat(t.blobPath(digest));
  await (await t.putFile(fileBody("host-b", "/b", content))).body?.cancel();

  const where = { hostname: "host-b", filepath: "/b" };
  await assertProblem(t, await t.upload(digest, where, "stored twice"), 400);
  await assertProblem(t, await t.upload(digest, where, failingBody(new Uint8Array(3))), 400);
  const after = await Deno.stat(t.blobPath(digest));
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
  assert.equal(await Deno.readTextFile(t.blobPath(digest)), content);
  assert.equal((await t.metadata.blobs.get(digest))?.epoch_file_id, epoch);
  const found =
    await (await t.request(`/get_file/${digest}`, { headers: { "x-api-key": t.keys.read } }))
      .json();
  assert.equal(found.hostname, "host-a");
});

Deno.test("a mismatched upload before the first good one does not become the epoch", async () => {
  await using t = await testApp();
  const content = "contested";
  const digest = digestOf(content);
  await (await t.putFile(fileBody("host-b", "/b", content))).body?.cancel();
  await (await t.putFile(fileBody("host-a", "/a", content))).body?.cancel();
  await assertProblem(
    t,
    await t.upload(digest, { hostname: "host-b", filepath: "/b" }, "forged!!!"),
    400,
  );
  await assertNothingStored(t, digest);
  const ok = await t.upload(digest, { hostname: "host-a", filepath: "/a" }, content);
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  const fileA = await t.metadata.files.get("host-a", "/a");
  assert.equal((await t.metadata.blobs.get(digest))?.epoch_file_id, fileA?.id);
});

Deno.test("re-uploading a stored blob is 200 and does not rewrite it", async () => {
  await using t = await testApp();
  const content = "uploaded twice";
  const digest = digestOf(content);
  await registerAndUpload(t, "h", "/f", content);
  const before = await Deno.stat(t.blobPath(digest));
  const record = await t.metadata.blobs.get(digest);
  const again = await t.upload(digest, { hostname: "h", filepath: "/f" }, content);
  assert.equal(again.status, 200);
  assert.equal((await again.json()).status, "uploaded");
  const viaForm = await registerAndUpload(t, "h", "/f", content);
  assert.equal(viaForm.size, content.length);
  const after = await Deno.stat(t.blobPath(digest));
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
  assert.deepEqual(await t.metadata.blobs.get(digest), record);
  assert.deepEqual(await blobDirEntries(t, digest), [digest]);
});

Deno.test("an upload is refused as soon as more bytes arrive than the file registered", async () => {
  await using t = await testApp();
  const content = "small file";
  const digest = digestOf(content);
  await (await t.putFile(fileBody("h", "/f", content))).body?.cancel();
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(64 * 1024));
      if (pulled === 1000) controller.close();
    },
  }, { highWaterMark: 0 });
  const response = await t.upload(digest, { hostname: "h", filepath: "/f" }, endless);
  const problem = await assertProblem(t, response, 400);
  assert.match(problem.detail, /declared 10 bytes|10 declared|more than/);
  assert.ok(pulled < 10, `the server read ${pulled} chunks of a body it could refuse after one`);
  await assertNothingStored(t, digest);
});

Deno.test("POST /upload_file of an empty file is 200 with size 0", async () => {
  await using t = await testApp();
  await (await t.putFile(fileBody("h", "/empty", ""))).body?.cancel();
  const response = await t.upload(EMPTY_DIGEST, { hostname: "h", filepath: "/empty" }, "");
  assert.equal(response.status, 200);
  assert.equal((await response.json()).size, 0);
});

Deno.test("POST /upload_file for a file not registered with that digest is 404", async () => {
  await using t = await testApp();
  const digest = digestOf("registered");
  await (await t.putFile(fileBody("h", "/f", "registered"))).body?.cancel();
  await assertProblem(
    t,
    await t.upload(digest, { hostname: "h", filepath: "/other" }, "registered"),
    404,
  );
  await assertProblem(
    t,
    await t.upload(digest, { hostname: "other", filepath: "/f" }, "registered"),
    404,
  );
  await assertProblem(
    t,
    await t.upload(digestOf("other"), { hostname: "h", filepath: "/f" }, "other"),
    404,
  );
  await assertNothingStored(t, digest);
});

Deno.test("POST /upload_file without hostname or filepath is 422", async () => {
  await using t = await testApp();
  const digest = digestOf("x");
  for (const query of ["", "?hostname=h", "?filepath=/f", "?hostname=&filepath=/f"]) {
    const response = await t.request(`/upload_file/${digest}${query}`, {
      method: "POST",
      headers: { "x-api-key": t.keys.write },
      body: "x",
    });
    await assertProblem(t, response, 422);
  }
});

Deno.test("an upload body that ends early is 400 and leaves nothing", async () => {
  await using t = await testApp();
  const content = "x".repeat(10_000);
  const digest = digestOf(content);
  await (await t.putFile(fileBody("h", "/f", content))).body?.cancel();
  const response = await t.upload(
    digest,
    { hostname: "h", filepath: "/f" },
    failingBody(new TextEncoder().encode(content.slice(0, 4000))),
  );
  await assertProblem(t, response, 400);
  await assertNothingStored(t, digest);
});

Deno.test("a truncated multipart upload is 400 and leaves nothing", async () => {
  await using t = await testApp();
  const content = "y".repeat(10_000);
  const digest = digestOf(content);
  await (await t.putFile(fileBody("h", "/f", content))).body?.cancel();
  const full = new Uint8Array(await new Response(multipart("file", content)).arrayBuffer());
  const boundary = new TextDecoder().decode(full.subarray(2, full.indexOf(13)));
  for (const cut of [full.byteLength - 10, 6000, 40]) {
    const response = await t.request(uploadPath(digest, { hostname: "h", filepath: "/f" }), {
      method: "POST",
      headers: {
        "x-api-key": t.keys.write,
        "content-type": `multipart/form-data; boundary=${boundary}`,
      },
      body: full.slice(0, cut),
    });
    await assertProblem(t, response, 400);
    await assertNothingStored(t, digest);
  }
});

Deno.test("a truncated multipart upload with other file fields is 400, not a crash", async () => {
  await using t = await testApp();
  const content = "z".repeat(5000);
  const digest = digestOf(content);
  await (await t.putFile(fileBody("h", "/f", content))).body?.cancel();
  const boundary = "----putplace";
  const part = (name: string, bytes: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="x.bin"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n${bytes}\r\n`;
  const bodies = [
    part("other", content).slice(0, 300), // cut inside a file part that is not "file"
    part("file", content) + part("file", content).slice(0, 300), // cut inside a second "file"
    part("other", "x") + part("file", content).slice(0, 300), // cut inside "file"
  ];
  for (const body of bodies) {
    const response = await t.request(uploadPath(digest, { hostname: "h", filepath: "/f" }), {
      method: "POST",
      headers: {
        "x-api-key": t.keys.write,
        "content-type": `multipart/form-data; boundary=${boundary}`,
      },
      body,
    });
    assert.ok([200, 400, 422].includes(response.status), `status ${response.status}`);
    await response.body?.cancel();
  }
});

Deno.test("random corruptions of a multipart upload answer 200 with the right blob or a 4xx problem", async () => {
  await using t = await testApp();
  const content = "fuzzed upload\n".repeat(20);
  const digest = digestOf(content);
  await (await t.putFile(fileBody("h", "/f", content))).body?.cancel();
  const boundary = "XyZ";
  const good = new TextEncoder().encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n${content}\r\n--${boundary}--\r\n`,
  );
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const seen = new Set<number>();
  for (let i = 0; i < 400; i++) {
    const bytes = good.slice();
    for (let n = Math.floor(random() * 4) + 1; n > 0; n--) {
      bytes[Math.floor(random() * bytes.byteLength)] = Math.floor(random() * 256);
    }
    const cut = random() < 0.3 ? Math.floor(random() * bytes.byteLength) : bytes.byteLength;
    const response = await t.request(uploadPath(digest, { hostname: "h", filepath: "/f" }), {
      method: "POST",
      headers: {
        "x-api-key": t.keys.write,
        "content-type": `multipart/form-data; boundary=${boundary}`,
      },
      body: bytes.slice(0, cut),
    });
    seen.add(response.status);
    if (response.status === 200) {
      await response.body?.cancel();
      assert.equal(await Deno.readTextFile(t.blobPath(digest)), content);
      await t.blobs.delete(digest);
      await t.metadata.blobs.remove(digest);
    } else {
      await assertProblem(t, response, response.status);
      assert.ok(response.status >= 400 && response.status < 500, `status ${response.status}`);
    }
  }
  assert.ok(seen.has(200) && seen.has(400), `statuses seen: ${[...seen]}`);
  assert.deepEqual(await blobDirEntries(t, digest), []);
});

Deno.test("a multipart upload without a file field is 422", async () => {
  await using t = await testApp();
  const digest = digestOf("x");
  await (await t.putFile(fileBody("h", "/f", "x"))).body?.cancel();
  const form = new FormData();
  form.append("file", "x"); // a plain field, not a file part
  form.append("upload", new Blob(["x"]), "x.bin");
  const response = await t.request(uploadPath(digest, { hostname: "h", filepath: "/f" }), {
    method: "POST",
    headers: { "x-api-key": t.keys.write },
    body: form,
  });
  const problem = await assertProblem(t, response, 422);
  assert.match(problem.detail, /"file"/);
  await assertNothingStored(t, digest);
});

Deno.test("a multipart upload without a boundary is 422", async () => {
  await using t = await testApp();
  const digest = digestOf("x");
  await (await t.putFile(fileBody("h", "/f", "x"))).body?.cancel();
  const response = await t.upload(digest, { hostname: "h", filepath: "/f" }, "x", {
    "content-type": "multipart/form-data",
  });
  await assertProblem(t, response, 422);
});

Deno.test("an upload over the size limit is 413, declared or streamed, and leaves nothing", async () => {
  await using t = await testApp({ maxUploadBytes: 1000 });
  const content = "z".repeat(1001);
  const digest = digestOf(content);
  await (await t.putFile(fileBody("h", "/f", content))).body?.cancel();
  const where = { hostname: "h", filepath: "/f" };
  const declared = await t.upload(digest, where, content, { "content-length": "1001" });
  await assertProblem(t, declared, 413);
  const streamed = await t.upload(
    digest,
    where,
    ReadableStream.from([
      new TextEncoder().encode(content.slice(0, 600)),
      new TextEncoder().encode(content.slice(600)),
    ]),
  );
  await assertProblem(t, streamed, 413);
  const form = await t.request(uploadPath(digest, where), {
    method: "POST",
    headers: { "x-api-key": t.keys.write },
    body: multipart("file", content),
  });
  await assertProblem(t, form, 413);
  await assertNothingStored(t, digest);
  const small = "z".repeat(1000);
  await (await t.putFile(fileBody("h", "/small", small))).body?.cancel();
  const fits = await t.upload(digestOf(small), { hostname: "h", filepath: "/small" }, small);
  assert.equal(fits.status, 200, "exactly the limit is allowed");
  await fits.body?.cancel();
});

Deno.test("a blob store that cannot write answers 503 naming no path, and nothing is indexed", async () => {
  await using t = await testApp();
  const content = "nowhere to go";
  const digest = digestOf(content);
  await (await t.putFile(fileBody("h", "/f", content))).body?.cancel();
  await Deno.remove(t.blobRoot, { recursive: true });
  await Deno.writeTextFile(t.blobRoot, "a file where the blob directory was");
  for (const body of [() => content, () => multipart("file", content)]) {
    const response = await t.request(uploadPath(digest, { hostname: "h", filepath: "/f" }), {
      method: "POST",
      headers: { "x-api-key": t.keys.write },
      body: body(),
    });
    const problem = await assertProblem(t, response, 503);
    assert.equal(problem.code, "unavailable");
  }
  assert.equal(await t.metadata.blobs.has(digest), false);
  assert.equal(t.logged.length, 2, "both failures were logged for the operator");
  t.logged.length = 0;
});

Deno.test("a metadata store failure answers 503 without driver details", async () => {
  await using t = await testApp();
  await t.metadata[Symbol.asyncDispose]();
  const problem = await assertProblem(t, await t.putFile(fileBody("h", "/f", "x")), 503);
  assert.equal(problem.detail, "Metadata store failed");
  t.logged.length = 0;
});

// ---- GET /get_file/{sha256} ----

Deno.test("GET /get_file returns the file with that digest", async () => {
  await using t = await testApp();
  const input = fileBody("h", "/f", "find me");
  const registered = await (await t.putFile(input)).json();
  const response = await t.request(`/get_file/${input.sha256}`, {
    headers: { "x-api-key": t.keys.read },
  });
  assert.equal(response.status, 200);
  const { upload_required: _u, upload_url: _url, ...expected } = registered;
  assert.deepEqual(await response.json(), expected);
});

Deno.test("GET /get_file returns the epoch file first, even when other files are older", async () => {
  await using t = await testApp();
  const content = "on three hosts";
  const digest = digestOf(content);
  await (await t.putFile(fileBody("host-old", "/old", content))).body?.cancel();
  await (await t.putFile(fileBody("host-older", "/older", content))).body?.cancel();
  await registerAndUpload(t, "host-epoch", "/epoch", content);
  const found =
    await (await t.request(`/get_file/${digest}`, { headers: { "x-api-key": t.keys.read } }))
      .json();
  assert.equal(found.hostname, "host-epoch");
  assert.equal(found.has_file_content, true);
});

Deno.test("GET /get_file falls back to the oldest file when the epoch file has new bytes", async () => {
  await using t = await testApp();
  const content = "moved on";
  const digest = digestOf(content);
  await registerAndUpload(t, "host-epoch", "/e", content);
  await (await t.putFile(fileBody("host-b", "/b", content))).body?.cancel();
  await (await t.putFile(fileBody("host-epoch", "/e", "different now"))).body?.cancel();
  const found =
    await (await t.request(`/get_file/${digest}`, { headers: { "x-api-key": t.keys.read } }))
      .json();
  assert.equal(found.hostname, "host-b");
  assert.equal(found.sha256, digest);
});

Deno.test("GET /get_file skips a deleted epoch file, and is 404 once every file is deleted", async () => {
  await using t = await testApp();
  const content = "soon deleted";
  const digest = digestOf(content);
  await (await t.putFile(fileBody("host-old", "/old", content))).body?.cancel();
  await registerAndUpload(t, "host-epoch", "/epoch", content);
  const now = new Date();
  await t.metadata.files.markDeleted("host-epoch", ["/epoch"], now);
  const lookup = () => t.request(`/get_file/${digest}`, { headers: { "x-api-key": t.keys.read } });
  assert.equal((await (await lookup()).json()).hostname, "host-old");
  await t.metadata.files.markDeleted("host-old", ["/old"], now);
  await assertProblem(t, await lookup(), 404);
});

Deno.test("an upload rewrites a blob the index knows but the blob store lost", async () => {
  await using t = await testApp();
  const content = "lost and found";
  const digest = digestOf(content);
  await registerAndUpload(t, "h", "/f", content);
  await Deno.remove(t.blobPath(digest));
  const again = await t.upload(digest, { hostname: "h", filepath: "/f" }, content);
  assert.equal(again.status, 200);
  await again.body?.cancel();
  assert.equal(await Deno.readTextFile(t.blobPath(digest)), content);
});

Deno.test("GET /get_file of an unknown digest is 404", async () => {
  await using t = await testApp();
  const response = await t.request(`/get_file/${digestOf("nobody")}`, {
    headers: { "x-api-key": t.keys.read },
  });
  await assertProblem(t, response, 404);
});

Deno.test("a malformed digest in a path is 400, never a file lookup", async () => {
  await using t = await testApp();
  const digest = digestOf("x");
  const bad = [
    digest.toUpperCase(),
    digest.slice(1),
    `${digest}0`,
    `${digest.slice(2)}zz`,
    "..%2F..%2Fetc%2Fpasswd",
    `${digest.slice(0, 2)}%2F${digest.slice(2)}`,
    "%00",
  ];
  for (const value of bad) {
    const lookup = await t.request(`/get_file/${value}`, { headers: { "x-api-key": t.keys.read } });
    await assertProblem(t, lookup, 400);
    const upload = await t.request(`/upload_file/${value}?hostname=h&filepath=/f`, {
      method: "POST",
      headers: { "x-api-key": t.keys.write },
      body: "x",
    });
    await assertProblem(t, upload, 400);
  }
  const entries: string[] = [];
  for await (const entry of Deno.readDir(t.blobRoot)) entries.push(entry.name);
  assert.deepEqual(entries, ["packs"], "no blob and no temp file was written");
  const packs = [...Deno.readDirSync(join(t.blobRoot, "packs"))].map((e) => e.name);
  assert.deepEqual(packs.filter((name) => name.endsWith(".pack")), []);
});

// ---- /api_keys ----

Deno.test("POST /api_keys creates a key, shows it once, and it works", async () => {
  await using t = await testApp();
  const response = await t.request("/api_keys", {
    method: "POST",
    headers: { "x-api-key": t.keys.admin },
    body: JSON.stringify({ name: "laptop", description: "Alice's laptop" }),
  });
  assert.equal(response.status, 201);
  const body = await response.json();
  assert.match(body.api_key, /^[0-9a-f]{64}$/);
  assert.equal(body.name, "laptop");
  assert.equal(body.description, "Alice's laptop");
  assert.equal(body.scope, "write");
  assert.equal(body.is_active, true);
  assert.equal(body.revoked_at, null);
  assert.match(body._id, /^[0-9a-f]{24}$/);
  assert.equal("key_hash" in body, false);
  const use = await t.putFile(fileBody("laptop", "/f", "x"), body.api_key);
  assert.equal(use.status, 201);
  await use.body?.cancel();
  const manage = await t.request("/api_keys", { headers: { "x-api-key": body.api_key } });
  await assertProblem(t, manage, 403);
});

Deno.test("POST /api_keys with a scope makes a key of that scope", async () => {
  await using t = await testApp();
  const body = await (await t.request("/api_keys", {
    method: "POST",
    headers: { "x-api-key": t.keys.admin },
    body: JSON.stringify({ name: "viewer", scope: "read" }),
  })).json();
  assert.equal(body.scope, "read");
  await assertProblem(t, await t.putFile(fileBody("h", "/f", "x"), body.api_key), 403);
});

Deno.test("POST /api_keys with bad input is 422", async () => {
  await using t = await testApp();
  for (
    const body of [
      "{}",
      JSON.stringify({ name: "" }),
      JSON.stringify({ name: "   " }),
      JSON.stringify({ name: "x".repeat(101) }),
      JSON.stringify({ name: "k", scope: "root" }),
      JSON.stringify({ name: 5 }),
      "{not json",
      "[]",
    ]
  ) {
    const response = await t.request("/api_keys", {
      method: "POST",
      headers: { "x-api-key": t.keys.admin },
      body,
    });
    await assertProblem(t, response, 422);
  }
  assert.equal(await t.metadata.apiKeys.count(), 3);
});

Deno.test("GET /api_keys lists keys without any key or hash in the body", async () => {
  await using t = await testApp();
  const created = await (await t.request("/api_keys", {
    method: "POST",
    headers: { "x-api-key": t.keys.admin },
    body: JSON.stringify({ name: "new" }),
  })).json();
  const response = await t.request("/api_keys", { headers: { "x-api-key": t.keys.admin } });
  assert.equal(response.status, 200);
  const text = await response.text();
  const list = JSON.parse(text);
  assert.deepEqual(list.map((k: { name: string }) => k.name).sort(), [
    "admin key",
    "new",
    "read key",
    "write key",
  ]);
  for (const key of [...Object.values(t.keys), created.api_key]) {
    assert.ok(!text.includes(key), "a key appears in the list");
    assert.ok(!text.includes(hashApiKey(key)), "a key hash appears in the list");
  }
  for (const item of list) {
    assert.equal("api_key" in item, false);
    assert.equal("key_hash" in item, false);
  }
});

Deno.test("PUT /api_keys/{id}/revoke revokes a key; revoking again keeps the first time; unknown is 404", async () => {
  await using t = await testApp();
  const created = await (await t.request("/api_keys", {
    method: "POST",
    headers: { "x-api-key": t.keys.admin },
    body: JSON.stringify({ name: "soon revoked" }),
  })).json();
  const revoke = () =>
    t.request(`/api_keys/${created._id}/revoke`, {
      method: "PUT",
      headers: { "x-api-key": t.keys.admin },
    });
  const response = await revoke();
  assert.equal(response.status, 200);
  assert.match((await response.json()).message, /revoked/);
  const first = (await t.metadata.apiKeys.get(created._id))?.revoked_at;
  assert.ok(first);
  await assertProblem(t, await t.putFile(fileBody("h", "/f", "x"), created.api_key), 401);
  const again = await revoke();
  assert.equal(again.status, 200);
  await again.body?.cancel();
  assert.equal((await t.metadata.apiKeys.get(created._id))?.revoked_at, first);
  const listed = await (await t.request("/api_keys", { headers: { "x-api-key": t.keys.admin } }))
    .json();
  assert.equal(listed.find((k: { _id: string }) => k._id === created._id).is_active, false);
  await assertProblem(
    t,
    await t.request("/api_keys/0123456789abcdef01234567/revoke", {
      method: "PUT",
      headers: { "x-api-key": t.keys.admin },
    }),
    404,
  );
});

Deno.test("DELETE /api_keys/{id} deletes a key; unknown is 404; a key cannot delete itself", async () => {
  await using t = await testApp();
  const created = await (await t.request("/api_keys", {
    method: "POST",
    headers: { "x-api-key": t.keys.admin },
    body: JSON.stringify({ name: "soon gone" }),
  })).json();
  const del = (id: string) =>
    t.request(`/api_keys/${id}`, { method: "DELETE", headers: { "x-api-key": t.keys.admin } });
  const response = await del(created._id);
  assert.equal(response.status, 200);
  assert.match((await response.json()).message, /deleted/);
  assert.equal(await t.metadata.apiKeys.get(created._id), null);
  await assertProblem(t, await t.putFile(fileBody("h", "/f", "x"), created.api_key), 401);
  await assertProblem(t, await del(created._id), 404);
  const self = (await t.metadata.apiKeys.list()).find((k) => k.scope === "admin");
  await assertProblem(t, await del(self!.id), 409);
  assert.ok(await t.metadata.apiKeys.get(self!.id));
});

// ---- bad input to POST /put_file ----

Deno.test("POST /put_file with a body that is not JSON is 422", async () => {
  await using t = await testApp();
  const bodies: BodyInit[] = [
    "",
    "{",
    '{"filepath": "/f",}',
    "not json at all",
    new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), // invalid UTF-8
    "[".repeat(200_000),
  ];
  for (const body of bodies) {
    const response = await t.request("/put_file", {
      method: "POST",
      headers: { "x-api-key": t.keys.write, "content-type": "application/json" },
      body,
    });
    await assertProblem(t, response, 422);
  }
  assert.equal(await t.metadata.files.count(), 0);
});

Deno.test("POST /put_file with wrong types, missing fields or bad values is 422 naming the field", async () => {
  await using t = await testApp();
  const good = fileBody("h", "/f", "x");
  const cases: [string, unknown][] = [
    ["", null],
    ["", []],
    ["", "a string"],
    ["", 42],
    ["filepath", { ...good, filepath: undefined }],
    ["hostname", { ...good, hostname: undefined }],
    ["sha256", { ...good, sha256: undefined }],
    ["file_size", { ...good, file_size: undefined }],
    ["filepath", { ...good, filepath: "" }],
    ["filepath", { ...good, filepath: 7 }],
    ["filepath", { ...good, filepath: "/a\u0000b" }],
    ["hostname", { ...good, hostname: ["h"] }],
    ["hostname", { ...good, hostname: "x".repeat(256) }],
    ["sha256", { ...good, sha256: good.sha256.toUpperCase() }],
    ["sha256", { ...good, sha256: good.sha256.slice(1) }],
    ["sha256", { ...good, sha256: `${good.sha256}a` }],
    ["sha256", { ...good, sha256: "../../etc/passwd" }],
    ["sha256", { ...good, sha256: 123 }],
    ["file_size", { ...good, file_size: -1 }],
    ["file_size", { ...good, file_size: 1.5 }],
    ["file_size", { ...good, file_size: "1" }],
    ["file_size", { ...good, file_size: 2 ** 53 }],
    ["file_mode", { ...good, file_mode: -5 }],
    ["file_uid", { ...good, file_uid: "1000" }],
    ["file_mtime", { ...good, file_mtime: "yesterday" }],
    ["sha256", { ...good, file_size: 0 }],
    ["sha256", { ...good, sha256: EMPTY_DIGEST }],
  ];
  for (const [field, body] of cases) {
    const response = await t.putFile(body);
    const problem = await assertProblem(t, response, 422);
    if (field) assert.match(problem.detail, new RegExp(field), problem.detail);
  }
  const huge = await t.request("/put_file", {
    method: "POST",
    headers: { "x-api-key": t.keys.write, "content-type": "application/json" },
    body: JSON.stringify(good).replace(/"file_size":\d+/, '"file_size":1e400'),
  });
  await assertProblem(t, huge, 422);
  assert.equal(await t.metadata.files.count(), 0);
});

Deno.test("a JSON body over the limit is 413, declared or streamed", async () => {
  await using t = await testApp({ maxJsonBytes: 512 });
  const big = JSON.stringify({ ...fileBody("h", "/f", "x"), filepath: `/${"p".repeat(600)}` });
  const declared = await t.request("/put_file", {
    method: "POST",
    headers: { "x-api-key": t.keys.write, "content-length": String(big.length) },
    body: big,
  });
  await assertProblem(t, declared, 413);
  const streamed = await t.request("/put_file", {
    method: "POST",
    headers: { "x-api-key": t.keys.write },
    body: ReadableStream.from([
      new TextEncoder().encode(big.slice(0, 300)),
      new TextEncoder().encode(big.slice(300)),
    ]),
    duplex: "half",
  } as RequestInit);
  await assertProblem(t, streamed, 413);
  const keys = await t.request("/api_keys", {
    method: "POST",
    headers: { "x-api-key": t.keys.admin },
    body: JSON.stringify({ name: "k", description: "d".repeat(600) }),
  });
  await assertProblem(t, keys, 413);
  assert.equal(await t.metadata.files.count(), 0);
  const fits = await t.putFile(fileBody("h", "/f", "x"));
  assert.equal(fits.status, 201);
  await fits.body?.cancel();
});

Deno.test("a JSON body that ends early is a 4xx problem", async () => {
  await using t = await testApp();
  const response = await t.request("/put_file", {
    method: "POST",
    headers: { "x-api-key": t.keys.write },
    body: failingBody(new TextEncoder().encode('{"filepath": "/f"')),
    duplex: "half",
  } as RequestInit);
  await assertProblem(t, response, 400);
});

Deno.test("an unknown route or method is a 404 problem", async () => {
  await using t = await testApp();
  for (
    const [path, method] of [
      ["/nope", "GET"],
      ["/put_file", "GET"],
      ["/get_file", "GET"],
      ["/v0/files", "POST"],
      ["/../../etc/passwd", "GET"],
    ]
  ) {
    const response = await t.request(path, { method, headers: { "x-api-key": t.keys.admin } });
    await assertProblem(t, response, 404);
  }
});
