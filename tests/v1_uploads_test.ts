/**
 * Resumable uploads (`/v1/uploads`) on the real app: in-process through `app.request()`,
 * over a real socket for connections cut mid-append and concurrent resumptions, and
 * across a SIGKILL of a real ppserver process for acknowledged offsets.
 */
import assert from "node:assert/strict";
import { issueApiKey } from "../lib/auth.ts";
import { join } from "node:path";
import { type AppFixture, appFixture, bytesOf, json, problem } from "./app_fixture.ts";
import { startPpserver } from "./_servers/ppserver.ts";
import { digestOf, EMPTY_DIGEST } from "../lib/digest.ts";
import { openResumableUploads, startSweeping } from "../server/resumable_uploads.ts";
import { blobKey } from "../lib/blob_store/_layout.ts";
import { type BlobStore } from "../lib/blob_store/mod.ts";
import { openBlobStore } from "../lib/blob_store/open.ts";
import { openMetadataStore } from "../lib/metadata_store/open.ts";

const SIZE = 2_500_000;
const BYTES = bytesOf(SIZE, 42);
const DIGEST = digestOf(BYTES);

interface Created {
  id: string;
  location: string;
  offset: number;
}

async function create(
  f: AppFixture,
  digest = DIGEST,
  size = SIZE,
): Promise<Created> {
  const response = await f.request("/v1/uploads", json({ digest, size }));
  const text = await response.text();
  assert.equal(response.status, 201, text);
  const body = JSON.parse(text);
  assert.equal(response.headers.get("location"), body.location);
  return body;
}

function patch(
  f: AppFixture,
  location: string,
  offset: number | string,
  body: BodyInit | null,
  headers: Record<string, string> = {},
): Promise<Response> {
  return f.request(location, {
    method: "PATCH",
    headers: {
      "upload-offset": String(offset),
      "content-type": "application/offset+octet-stream",
      ...headers,
    },
    body,
  });
}

async function offsetOf(f: AppFixture, location: string): Promise<number> {
  const response = await f.request(location, { method: "HEAD" });
  assert.equal(response.status, 200);
  return Number(response.headers.get("upload-offset"));
}

/** Polls until `check` holds (a wait, not a timing assertion); fails after ~10 s. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Never happened: ${what}`);
}

/** A request body that sends `first`, then waits for `release()` before sending `rest`. */
function heldBody(first: Uint8Array, rest: Uint8Array) {
  const released = Promise.withResolvers<void>();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(first);
    },
    async pull(controller) {
      await released.promise;
      if (rest.byteLength > 0) controller.enqueue(rest);
      controller.close();
    },
  });
  return { stream, release: () => released.resolve() };
}

async function partSize(f: AppFixture, id: string): Promise<number> {
  return (await Deno.stat(join(f.uploadsDir, `${id}.part`))).size;
}

async function storedBytes(f: AppFixture, digest = DIGEST): Promise<Uint8Array | null> {
  const blob = await f.stores.blobs.get(digest);
  return blob ? new Uint8Array(await new Response(blob.body).arrayBuffer()) : null;
}

// ---- create and query ----

Deno.test("POST /v1/uploads creates an upload at offset 0 with Location and Upload-* headers", async () => {
  await using f = await appFixture();
  const response = await f.request("/v1/uploads", json({ digest: DIGEST, size: SIZE }));
  assert.equal(response.status, 201);
  const body = await response.json();
  assert.match(body.id, /^[0-9a-f]{32}$/);
  assert.equal(body.location, `/v1/uploads/${body.id}`);
  assert.equal(response.headers.get("location"), body.location);
  assert.equal(response.headers.get("upload-offset"), "0");
  assert.equal(response.headers.get("upload-length"), String(SIZE));
  assert.ok(Date.parse(response.headers.get("upload-expires") ?? "") > Date.now());
  assert.deepEqual(
    { digest: body.digest, size: body.size, offset: body.offset },
    { digest: DIGEST, size: SIZE, offset: 0 },
  );
  const expires = Date.parse(body.expires_at) - Date.parse(body.created_at);
  assert.equal(expires, 24 * 3600 * 1000);
});

Deno.test("HEAD and GET /v1/uploads/{id} report the durable offset", async () => {
  await using f = await appFixture();
  const { location, id } = await create(f);
  assert.equal((await patch(f, location, 0, BYTES.slice(0, 1000))).status, 200);
  const head = await f.request(location, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("upload-offset"), "1000");
  assert.equal(head.headers.get("upload-length"), String(SIZE));
  assert.equal(head.headers.get("cache-control"), "no-store");
  assert.equal(await head.text(), "");
  const get = await f.request(location);
  const body = await get.json();
  assert.equal(body.offset, 1000);
  assert.equal(body.id, id);
  assert.equal(await partSize(f, id), 1000, "the acknowledged bytes are on disk");
});

Deno.test("POST /v1/uploads answers 200 already stored for a stored blob and for the empty blob", async () => {
  await using f = await appFixture();
  const small = new TextEncoder().encode("small");
  await f.request(`/v1/blobs/${digestOf(small)}`, { method: "PUT", body: small });
  for (const [digest, size] of [[digestOf(small), 5], [EMPTY_DIGEST, 0]] as const) {
    const response = await f.request("/v1/uploads", json({ digest, size }));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: "already_stored", digest, size });
  }
  assert.deepEqual([...Deno.readDirSync(f.uploadsDir)], []);
});

Deno.test("POST /v1/uploads refuses size 0 with another digest (400), over the cap (413), bad bodies (422)", async () => {
  await using f = await appFixture({ limits: { maxUploadBytes: 1000 } });
  await problem(await f.request("/v1/uploads", json({ digest: DIGEST, size: 0 })), 400);
  await problem(await f.request("/v1/uploads", json({ digest: DIGEST, size: 1001 })), 413);
  for (
    const body of [{ digest: "x", size: 1 }, { digest: DIGEST }, { digest: DIGEST, size: 1.5 }]
  ) {
    await problem(await f.request("/v1/uploads", json(body)), 422);
  }
  await problem(
    await f.request(
      "/v1/uploads",
      json({ digest: DIGEST, size: 10 }, {
        headers: { "x-api-key": f.keys.read },
      }),
    ),
    403,
  );
});

// ---- append ----

Deno.test("PATCH in parts completes the upload: the blob is stored and the upload is gone", async () => {
  await using f = await appFixture();
  const { location, id } = await create(f);
  const cuts = [0, 1, 700_000, 1_048_576 + 3, SIZE];
  for (let i = 0; i < cuts.length - 1; i++) {
    const response = await patch(f, location, cuts[i], BYTES.slice(cuts[i], cuts[i + 1]));
    const body = await response.json();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("upload-offset"), String(cuts[i + 1]));
    if (i < cuts.length - 2) {
      assert.equal(body.complete, false);
      assert.equal(body.offset, cuts[i + 1]);
    } else {
      assert.deepEqual(body, {
        complete: true,
        digest: DIGEST,
        size: SIZE,
        offset: SIZE,
        status: "stored",
      });
    }
  }
  assert.deepEqual(await storedBytes(f), BYTES);
  assert.equal(await f.stores.metadata.blobs.has(DIGEST), true);
  await problem(await f.request(location, { method: "GET" }), 404);
  assert.equal(await Deno.stat(join(f.uploadsDir, `${id}.part`)).catch(() => null), null);
  const download = await f.request(`/v1/blobs/${DIGEST}`, {
    headers: { "x-api-key": f.keys.read },
  });
  assert.deepEqual(new Uint8Array(await download.arrayBuffer()), BYTES);
});

Deno.test("a completed upload on the fs blob store is published without a copy: the blob is its part file", async () => {
  await using f = await appFixture();
  const { location, id } = await create(f);
  assert.equal((await patch(f, location, 0, BYTES.slice(0, 1_000_000))).status, 200);
  const part = await Deno.stat(join(f.uploadsDir, `${id}.part`));
  const done = await patch(f, location, 1_000_000, BYTES.slice(1_000_000));
  assert.equal((await done.json()).status, "stored");
  const blob = await Deno.stat(join(f.dir, "blobs", blobKey(DIGEST)));
  assert.equal(blob.ino, part.ino, "the blob is the same file as the upload's part");
  assert.equal(blob.size, SIZE);
  assert.deepEqual(await storedBytes(f), BYTES);
});

Deno.test("a blob store that cannot adopt files (S3, another filesystem) gets the completed upload through put()", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ppserver-no-adopt-" });
  try {
    await using metadata = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
    await using fsStore = await openBlobStore({ kind: "fs", root: join(dir, "blobs") });
    let puts = 0;
    // The real fs store without its adopt capability, as S3 has none.
    const blobs: BlobStore = {
      kind: "fs-without-adopt",
      has: (digest) => fsStore.has(digest),
      put: (digest, size, body) => {
        puts++;
        return fsStore.put(digest, size, body);
      },
      putMany: (many) => fsStore.putMany(many),
      get: (digest, range) => fsStore.get(digest, range),
      delete: (digest) => fsStore.delete(digest),
      ping: () => fsStore.ping(),
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
    const uploads = await openResumableUploads({
      dir: join(dir, "uploads"),
      stores: { metadata, blobs },
      expirySeconds: 3600,
      maxUploadBytes: SIZE,
    });
    const caller = { keyId: "the-key", admin: false };
    const created = await uploads.create(DIGEST, SIZE, caller);
    assert.equal(created.kind, "created");
    const id = created.kind === "created" ? created.upload.id : "";
    const first = await uploads.append(
      id,
      caller,
      0,
      new Blob([BYTES.slice(0, 1_000_000)]).stream(),
    );
    assert.equal(first.kind, "partial");
    const done = await uploads.append(
      id,
      caller,
      1_000_000,
      new Blob([BYTES.slice(1_000_000)]).stream(),
    );
    assert.deepEqual(done, { kind: "complete", digest: DIGEST, size: SIZE, created: true });
    assert.equal(puts, 1);
    assert.equal(await metadata.blobs.has(DIGEST), true);
    const stored = await fsStore.get(DIGEST);
    assert.ok(stored);
    assert.deepEqual(new Uint8Array(await new Response(stored.body).arrayBuffer()), BYTES);
    assert.deepEqual([...Deno.readDirSync(join(dir, "uploads"))], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an upload appended to by a fresh server (no hash in memory) is still verified on completion", async () => {
  await using f = await appFixture();
  const { location, id } = await create(f);
  assert.equal((await patch(f, location, 0, BYTES.slice(0, 1_000_000))).status, 200);
  // Another process's bytes: the part now differs from what this server hashed so far.
  const wrong = BYTES.slice(0, 1_000_000);
  wrong[10] ^= 1;
  await Deno.writeFile(join(f.uploadsDir, `${id}.part`), wrong);
  const fresh = await openResumableUploads({
    dir: f.uploadsDir,
    stores: f.stores,
    expirySeconds: 3600,
    maxUploadBytes: SIZE,
  });
  const stream = new Blob([BYTES.slice(1_000_000)]).stream();
  await assert.rejects(
    fresh.append(id, { keyId: "an-admin", admin: true }, 1_000_000, stream),
    (error: Error & { code?: string }) => error.code === "digest_mismatch",
  );
  assert.equal(await f.stores.blobs.has(DIGEST), false);
  assert.equal(await Deno.stat(join(f.uploadsDir, `${id}.part`)).catch(() => null), null);
});

Deno.test("PATCH at a wrong offset is 409 with the real offset in Upload-Offset; nothing is written", async () => {
  await using f = await appFixture();
  const { location, id } = await create(f);
  await patch(f, location, 0, BYTES.slice(0, 10));
  for (const wrong of [0, 5, 11, SIZE]) {
    const response = await patch(f, location, wrong, BYTES.slice(wrong, wrong + 10));
    const body = await problem(response, 409);
    assert.equal(response.headers.get("upload-offset"), "10");
    assert.match(body.detail, /is at offset 10, not/);
  }
  assert.equal(await partSize(f, id), 10);
});

Deno.test("PATCH without a valid Upload-Offset is 400", async () => {
  await using f = await appFixture();
  const { location } = await create(f);
  for (const offset of [undefined, "", "-1", "1.5", "abc", "99999999999999999"]) {
    const headers = new Headers({ "content-type": "application/offset+octet-stream" });
    if (offset !== undefined) headers.set("upload-offset", offset);
    await problem(
      await f.request(location, { method: "PATCH", headers, body: BYTES.slice(0, 4) }),
      400,
    );
  }
  assert.equal(await offsetOf(f, location), 0);
});

Deno.test("PATCH with more bytes than the size is 400 and keeps the offset, declared or streamed", async () => {
  await using f = await appFixture();
  const bytes = new TextEncoder().encode("exactly twenty bytes");
  const { location, id } = await create(f, digestOf(bytes), 20);
  await patch(f, location, 0, bytes.slice(0, 5));
  await problem(
    await patch(f, location, 5, bytes.slice(5, 10), { "content-length": "16" }),
    400,
  );
  const streamed = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.slice(5));
      controller.enqueue(new TextEncoder().encode("and more"));
      controller.close();
    },
  });
  const body = await problem(await patch(f, location, 5, streamed), 400);
  assert.match(body.detail, /More bytes than the 20 declared/);
  assert.equal(await offsetOf(f, location), 5);
  assert.equal(await partSize(f, id), 5);
  const done = await patch(f, location, 5, bytes.slice(5));
  assert.equal((await done.json()).status, "stored");
});

Deno.test("an upload whose bytes do not hash to its digest is 400 on completion and discarded", async () => {
  await using f = await appFixture();
  const claimed = digestOf("something else entirely");
  const { location, id } = await create(f, claimed, 1000);
  assert.equal((await patch(f, location, 0, BYTES.slice(0, 600))).status, 200);
  const body = await problem(await patch(f, location, 600, BYTES.slice(600, 1000)), 400);
  assert.match(body.detail, /bytes hash to/);
  await problem(await f.request(location), 404);
  assert.equal(await Deno.stat(join(f.uploadsDir, `${id}.part`)).catch(() => null), null);
  assert.equal(await f.stores.blobs.has(claimed), false);
  assert.equal(await f.stores.metadata.blobs.has(claimed), false);
});

Deno.test("an upload that holds all its bytes but was never published completes on an empty PATCH", async () => {
  await using f = await appFixture();
  const bytes = new TextEncoder().encode("all bytes arrived before a crash");
  const { location, id } = await create(f, digestOf(bytes), bytes.byteLength);
  // As a process killed between the last write and publishing leaves it.
  await Deno.writeFile(join(f.uploadsDir, `${id}.part`), bytes);
  assert.equal(await offsetOf(f, location), bytes.byteLength);
  const response = await patch(f, location, bytes.byteLength, null);
  assert.equal(response.status, 200);
  assert.equal((await response.json()).status, "stored");
  assert.deepEqual(await storedBytes(f, digestOf(bytes)), bytes);
});

Deno.test("an upload completed after the blob was stored another way answers already stored", async () => {
  await using f = await appFixture();
  const bytes = BYTES.slice(0, 5000);
  const { location } = await create(f, digestOf(bytes), 5000);
  await patch(f, location, 0, bytes.slice(0, 100));
  await f.request(`/v1/blobs/${digestOf(bytes)}`, { method: "PUT", body: bytes });
  const done = await patch(f, location, 100, bytes.slice(100));
  assert.equal((await done.json()).status, "already_stored");
});

Deno.test("DELETE /v1/uploads/{id} abandons the upload and its bytes", async () => {
  await using f = await appFixture();
  const { location, id } = await create(f);
  await patch(f, location, 0, BYTES.slice(0, 100));
  const response = await f.request(location, { method: "DELETE" });
  assert.equal(response.status, 204);
  assert.deepEqual([...Deno.readDirSync(f.uploadsDir)], []);
  await problem(await f.request(location), 404);
  await problem(await patch(f, location, 100, BYTES.slice(100, 200)), 404);
  await problem(await f.request(location, { method: "DELETE" }), 404);
  assert.equal((await f.request(`/v1/uploads/${id}`, { method: "HEAD" })).status, 404);
});

Deno.test("ids that are not uploads are 404 and never reach the filesystem", async () => {
  await using f = await appFixture();
  for (const id of ["nope", "0".repeat(32), "..%2F..%2Fetc%2Fpasswd", "A".repeat(32)]) {
    await problem(await f.request(`/v1/uploads/${id}`), 404);
    await problem(await patch(f, `/v1/uploads/${id}`, 0, "x"), 404);
    await problem(await f.request(`/v1/uploads/${id}`, { method: "DELETE" }), 404);
  }
});

Deno.test("/v1/uploads needs a write key", async () => {
  await using f = await appFixture();
  const { location } = await create(f);
  await problem(await f.app.request(location), 401);
  await problem(await f.request(location, { headers: { "x-api-key": f.keys.read } }), 403);
});

// ---- concurrency ----

Deno.test("a second PATCH while one is running is 409 with the durable offset; the first completes", async () => {
  await using f = await appFixture();
  const { location, id } = await create(f);
  const first = heldBody(BYTES.slice(0, 1_500_000), BYTES.slice(1_500_000));
  const running = patch(f, location, 0, first.stream);
  await eventually(async () => await partSize(f, id) >= 1_048_576, "the first append writes");
  const second = await patch(f, location, 0, BYTES);
  const body = await problem(second, 409);
  assert.match(body.detail, /being appended to by another request/);
  assert.equal(second.headers.get("upload-offset"), "0", "only durable bytes are reported");
  assert.equal(await offsetOf(f, location), 0);
  await problem(await f.request(location, { method: "DELETE" }), 409);
  first.release();
  const done = await running;
  assert.equal(done.status, 200);
  assert.equal((await done.json()).status, "stored");
  assert.deepEqual(await storedBytes(f), BYTES);
});

Deno.test("two uploads of one digest completed at the same time both succeed and leave one blob", async () => {
  await using f = await appFixture();
  const a = await create(f);
  const b = await create(f);
  assert.notEqual(a.id, b.id);
  await Promise.all([
    patch(f, a.location, 0, BYTES.slice(0, 1000)),
    patch(f, b.location, 0, BYTES.slice(0, 2000)),
  ]);
  const [doneA, doneB] = await Promise.all([
    patch(f, a.location, 1000, BYTES.slice(1000)),
    patch(f, b.location, 2000, BYTES.slice(2000)),
  ]);
  assert.equal(doneA.status, 200);
  assert.equal(doneB.status, 200);
  const statuses = [(await doneA.json()).status, (await doneB.json()).status].sort();
  assert.ok(statuses.includes("stored") || statuses.every((s) => s === "already_stored"));
  assert.deepEqual(await storedBytes(f), BYTES);
  assert.deepEqual([...Deno.readDirSync(f.uploadsDir)], []);
});

// ---- expiry ----

Deno.test("sweepExpiredUploads() removes uploads untouched for the expiry and keeps the others", async () => {
  await using f = await appFixture({ expirySeconds: 3600 });
  const old = await create(f);
  await patch(f, old.location, 0, BYTES.slice(0, 10));
  const fresh = await create(f, digestOf("fresh"), 5);
  const now = Date.now();
  assert.equal(await f.uploads.sweepExpiredUploads(new Date(now + 1000)), 0);
  // An hour on, both are due; touch `fresh` so only `old` is.
  const later = new Date(now + 3600_000 + 5000);
  await Deno.utime(join(f.uploadsDir, `${fresh.id}.part`), later, later);
  await Deno.utime(join(f.uploadsDir, `${fresh.id}.json`), later, later);
  assert.equal(await f.uploads.sweepExpiredUploads(later), 1);
  await problem(await f.request(old.location), 404);
  assert.equal((await f.request(fresh.location)).status, 200);
  assert.deepEqual(
    [...Deno.readDirSync(f.uploadsDir)].map((e) => e.name).sort(),
    [`${fresh.id}.json`, `${fresh.id}.part`],
  );
});

Deno.test("sweepExpiredUploads() keeps an upload being appended to and removes stray files", async () => {
  await using f = await appFixture({ expirySeconds: 60 });
  const busy = await create(f);
  const held = heldBody(BYTES.slice(0, 1_200_000), BYTES.slice(1_200_000, 1_300_000));
  const running = patch(f, busy.location, 0, held.stream);
  await eventually(async () => await partSize(f, busy.id) >= 1_048_576, "the append writes");
  const stray = "f".repeat(32);
  await Deno.writeTextFile(join(f.uploadsDir, `${stray}.json.tmp`), "{");
  await Deno.writeTextFile(join(f.uploadsDir, "unrelated.txt"), "not ours");
  assert.equal(await f.uploads.sweepExpiredUploads(new Date(Date.now() + 3600_000)), 1);
  held.release();
  const response = await running;
  assert.equal(response.status, 200);
  assert.equal((await response.json()).offset, 1_300_000);
  assert.deepEqual(
    [...Deno.readDirSync(f.uploadsDir)].map((e) => e.name).sort(),
    [`${busy.id}.json`, `${busy.id}.part`, "unrelated.txt"],
  );
});

Deno.test("startSweeping() sweeps at once and stops when told", async () => {
  await using f = await appFixture({ expirySeconds: 60 });
  const { location, id } = await create(f);
  const past = new Date(Date.now() - 3600_000);
  for (const name of [`${id}.json`, `${id}.part`]) {
    await Deno.utime(join(f.uploadsDir, name), past, past);
  }
  const errors: unknown[] = [];
  const stop = startSweeping(f.uploads, (error) => errors.push(error), 60_000);
  try {
    await eventually(async () => (await f.request(location)).status === 404, "the sweep");
  } finally {
    stop();
  }
  assert.deepEqual(errors, []);
});

// ---- over a real socket ----

/**
 * Sends a PATCH's headers and the first `sent` of `bytes` on a raw socket, then hangs up:
 * at once, or after a pause that lets the server read what was sent (bytes still queued in
 * the runtime when the hangup arrives may be dropped with the connection's error).
 */
async function cutPatch(
  url: string,
  key: string,
  location: string,
  offset: number,
  bytes: Uint8Array,
  sent: number,
  pauseMs = 0,
): Promise<void> {
  const { port } = new URL(url);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  const head = new TextEncoder().encode(
    `PATCH ${location} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: ${key}\r\n` +
      `upload-offset: ${offset}\r\ncontent-type: application/offset+octet-stream\r\n` +
      `content-length: ${bytes.byteLength}\r\n\r\n`,
  );
  for (const part of [head, bytes.subarray(0, sent)]) {
    let written = 0;
    while (written < part.byteLength) written += await conn.write(part.subarray(written));
  }
  if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  conn.close();
}

/** Resumes an upload from the server's offset until it completes, retrying while busy. */
async function resume(url: string, key: string, location: string, bytes: Uint8Array) {
  for (let attempt = 0; attempt < 500; attempt++) {
    const head = await fetch(`${url}${location}`, {
      method: "HEAD",
      headers: { "x-api-key": key },
    });
    const offset = Number(head.headers.get("upload-offset"));
    const response = await fetch(`${url}${location}`, {
      method: "PATCH",
      headers: {
        "x-api-key": key,
        "upload-offset": String(offset),
        "content-type": "application/offset+octet-stream",
      },
      body: bytes.slice(offset),
    });
    if (response.status !== 409) return response;
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("The upload stayed busy");
}

Deno.test("a PATCH cut off mid-body keeps every byte the server read and resumes to completion", async () => {
  await using f = await appFixture();
  await using server = await f.serve();
  const key = f.keys.write;
  for (const sent of [0, 1, 65_537, 1_048_579, SIZE - 1]) {
    const { location, id } = await create(f);
    await cutPatch(server.url, key, location, 0, BYTES, sent, 200);
    await eventually(async () => {
      const head = await fetch(`${server.url}${location}`, {
        method: "HEAD",
        headers: { "x-api-key": key },
      });
      return Number(head.headers.get("upload-offset")) === sent && await partSize(f, id) === sent;
    }, `offset ${sent} after the cut`);
    const done = await resume(server.url, key, location, BYTES);
    assert.equal(done.status, 200, `resumed from ${sent}`);
    assert.equal((await done.json()).complete, true);
    assert.deepEqual(await storedBytes(f), BYTES, `resumed from ${sent}`);
    // Start over for the next offset.
    await f.stores.blobs.delete(DIGEST);
    await f.stores.metadata.blobs.remove(DIGEST);
  }
  assert.deepEqual(f.internalErrors, []);
});

Deno.test("a PATCH hung up at once reports an offset that is on disk and no more than was sent", async () => {
  await using f = await appFixture();
  await using server = await f.serve();
  const key = f.keys.write;
  for (const sent of [1, 4096, 65_537, 1_048_579]) {
    const { location, id } = await create(f);
    const before = server.handled("PATCH");
    await cutPatch(server.url, key, location, 0, BYTES, sent);
    await eventually(
      () => Promise.resolve(server.handled("PATCH") > before),
      `the append cut at ${sent} ends`,
    );
    const head = await fetch(`${server.url}${location}`, {
      method: "HEAD",
      headers: { "x-api-key": key },
    });
    const offset = Number(head.headers.get("upload-offset"));
    assert.ok(offset <= sent, `offset ${offset} after sending ${sent}`);
    assert.equal(await partSize(f, id), offset);
    const done = await resume(server.url, key, location, BYTES);
    assert.equal(done.status, 200);
    await done.body?.cancel();
    assert.deepEqual(await storedBytes(f), BYTES, "the kept prefix is exactly the sent bytes");
    await f.stores.blobs.delete(DIGEST);
    await f.stores.metadata.blobs.remove(DIGEST);
  }
  assert.deepEqual(f.internalErrors, []);
});

Deno.test("a second cut after a resume keeps both parts; the upload then completes", async () => {
  await using f = await appFixture();
  await using server = await f.serve();
  const key = f.keys.write;
  const { location } = await create(f);
  await cutPatch(server.url, key, location, 0, BYTES, 300_000, 200);
  await eventually(async () => {
    const head = await fetch(`${server.url}${location}`, {
      method: "HEAD",
      headers: { "x-api-key": key },
    });
    return head.headers.get("upload-offset") === "300000";
  }, "the first cut");
  await cutPatch(server.url, key, location, 300_000, BYTES.subarray(300_000), 1_200_000, 200);
  await eventually(async () => {
    const head = await fetch(`${server.url}${location}`, {
      method: "HEAD",
      headers: { "x-api-key": key },
    });
    return head.headers.get("upload-offset") === "1500000";
  }, "the second cut");
  const done = await resume(server.url, key, location, BYTES);
  assert.equal(done.status, 200);
  await done.body?.cancel();
  assert.deepEqual(await storedBytes(f), BYTES);
});

Deno.test("concurrent resumptions of one upload over sockets: one appends, the other gets 409, then it completes", async () => {
  await using f = await appFixture();
  await using server = await f.serve();
  const key = f.keys.write;
  const { location, id } = await create(f);
  const headers = (offset: number) => ({
    "x-api-key": key,
    "upload-offset": String(offset),
    "content-type": "application/offset+octet-stream",
  });
  const held = heldBody(BYTES.slice(0, 1_500_000), BYTES.slice(1_500_000));
  const first = fetch(`${server.url}${location}`, {
    method: "PATCH",
    headers: headers(0),
    body: held.stream,
  });
  await eventually(async () => await partSize(f, id) >= 1_048_576, "the first append writes");
  const racers = await Promise.all(
    [0, 0, 1_500_000].map((offset) =>
      fetch(`${server.url}${location}`, {
        method: "PATCH",
        headers: headers(offset),
        body: BYTES.slice(offset),
      })
    ),
  );
  for (const racer of racers) {
    assert.equal(racer.status, 409);
    assert.equal(racer.headers.get("upload-offset"), "0");
    await racer.body?.cancel();
  }
  held.release();
  const done = await first;
  assert.equal(done.status, 200);
  assert.equal((await done.json()).status, "stored");
  assert.deepEqual(await storedBytes(f), BYTES);
});

Deno.test("an acknowledged offset survives a SIGKILL of the server process; the upload then completes", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "ppserver-v1-kill-" });
  try {
    let adminKey: string;
    let location: string;
    {
      const server = await startPpserver({ dataDir });
      adminKey = server.adminKey;
      const headers = { "x-api-key": adminKey };
      const created = await fetch(`${server.url}/v1/uploads`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ digest: DIGEST, size: SIZE }),
      });
      assert.equal(created.status, 201);
      location = (await created.json()).location;
      const appended = await fetch(`${server.url}${location}`, {
        method: "PATCH",
        headers: { ...headers, "upload-offset": "0" },
        body: BYTES.slice(0, 1_234_567),
      });
      assert.equal(appended.status, 200);
      assert.equal((await appended.json()).offset, 1_234_567);
      assert.equal((await server.kill()).signal, "SIGKILL");
    }
    await using again = await startPpserver({ dataDir, adminKey });
    const headers = { "x-api-key": adminKey };
    const head = await fetch(`${again.url}${location}`, { method: "HEAD", headers });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("upload-offset"), "1234567");
    const done = await fetch(`${again.url}${location}`, {
      method: "PATCH",
      headers: { ...headers, "upload-offset": "1234567" },
      body: BYTES.slice(1_234_567),
    });
    assert.equal(done.status, 200);
    assert.equal((await done.json()).status, "stored");
    const download = await fetch(`${again.url}/v1/blobs/${DIGEST}`, { headers });
    assert.deepEqual(new Uint8Array(await download.arrayBuffer()), BYTES);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("an upload belongs to the key that created it: another write key gets 404 for it, an admin key reaches it", async () => {
  await using f = await appFixture();
  const { location } = await create(f);
  assert.equal((await patch(f, location, 0, BYTES.slice(0, 1000))).status, 200);
  const other = (await issueApiKey(f.stores.metadata.apiKeys, {
    name: "another writer",
    description: null,
    scope: "write",
  })).key;
  const asOther = { "x-api-key": other };
  for (const method of ["GET", "HEAD", "DELETE"]) {
    const response = await f.request(location, { method, headers: asOther });
    assert.equal(response.status, 404, method);
    await response.body?.cancel();
  }
  const append = await patch(f, location, 1000, BYTES.slice(1000, 2000), asOther);
  assert.match((await problem(append, 404)).detail, /No upload/);
  const status = await f.request(location, { headers: { "x-api-key": f.keys.admin } });
  assert.equal(status.status, 200);
  assert.equal((await status.json()).offset, 1000, "the other key's bytes were not appended");
  assert.equal((await patch(f, location, 1000, BYTES.slice(1000))).status, 200);
  assert.equal(await f.stores.blobs.has(DIGEST), true);
});
