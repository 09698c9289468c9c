/**
 * The app over a real socket (`Deno.serve` on port 0): what `app.request()` cannot show,
 * such as many clients at once and a client that goes away mid-upload.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { appFixture } from "./app_fixture.ts";
import { digestOf } from "../lib/digest.ts";

/** The real app on a real port; `settled()` waits for every request handler to finish. */
async function servedApp() {
  const f = await appFixture({ resumable: false });
  const key = f.keys.write;
  const handlers: Promise<unknown>[] = [];
  const uploadStatuses: number[] = [];
  const uploadArrived = Promise.withResolvers<void>();
  const server = await f.serve((request, answered) => {
    const upload = new URL(request.url).pathname.startsWith("/upload_file/");
    if (upload) uploadArrived.resolve();
    handlers.push(answered.then((r) => upload && uploadStatuses.push(r.status), () => {}));
  });
  const url = server.url;
  return {
    url,
    port: server.port,
    key,
    metadata: f.stores.metadata,
    blobs: f.stores.blobs,
    blobRoot: f.blobRoot,
    logged: f.internalErrors,
    uploadArrived: uploadArrived.promise,
    /** The statuses the app answered uploads with, in the order they finished. */
    uploadStatuses,
    settled: () => Promise.all(handlers),
    async register(hostname: string, filepath: string, bytes: Uint8Array) {
      const response = await fetch(`${url}/put_file`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json" },
        body: JSON.stringify({
          hostname,
          filepath,
          sha256: digestOf(bytes),
          file_size: bytes.byteLength,
        }),
      });
      assert.equal(response.status, 201);
      return await response.json();
    },
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      await f[Symbol.asyncDispose]();
    },
  };
}

function patterned(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 131 + seed) >> 2;
  return bytes;
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

Deno.test("concurrent uploads of one digest over a socket all answer 200 and leave one blob", async () => {
  await using served = await servedApp();
  const bytes = patterned(1_500_000, 1);
  const digest = digestOf(bytes);
  const hosts = Array.from({ length: 8 }, (_, i) => `host-${i}`);
  for (const host of hosts) await served.register(host, "/data.bin", bytes);

  const responses = await Promise.all(hosts.map((hostname, i) => {
    const query = new URLSearchParams({ hostname, filepath: "/data.bin" });
    const form = new FormData();
    form.append("file", new Blob([bytes]), "data.bin");
    return fetch(`${served.url}/upload_file/${digest}?${query}`, {
      method: "POST",
      headers: { "x-api-key": served.key },
      body: i % 2 === 0 ? bytes : form,
    });
  }));
  for (const response of responses) {
    const body = await response.json();
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.size, bytes.byteLength);
  }
  const shard = join(served.blobRoot, digest.slice(0, 2));
  assert.deepEqual(await entries(shard), [digest], "one blob, no temp files");
  assert.equal(digestOf(await Deno.readFile(join(shard, digest))), digest);
  const record = await served.metadata.blobs.get(digest);
  const epoch = await served.metadata.files.getById(record!.epoch_file_id!);
  assert.ok(hosts.includes(epoch!.hostname), "the epoch file is one of the uploaders");
});

for (const kind of ["raw", "multipart"] as const) {
  Deno.test(`a client that disconnects mid-upload (${kind}) leaves nothing, and the server keeps serving`, async () => {
    await using served = await servedApp();
    const bytes = patterned(200_000, 2);
    const digest = digestOf(bytes);
    await served.register("host-a", "/f.bin", bytes);
    const path = `/upload_file/${digest}?hostname=host-a&filepath=%2Ff.bin`;

    const boundary = "----putplace-test-boundary";
    const head = kind === "raw"
      ? `Content-Type: application/octet-stream\r\nContent-Length: ${bytes.byteLength}\r\n`
      : `Content-Type: multipart/form-data; boundary=${boundary}\r\n` +
        `Content-Length: ${bytes.byteLength + 1000}\r\n`;
    const preamble = kind === "raw" ? "" : `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="file"; filename="f.bin"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`;
    const connection = await Deno.connect({ hostname: "127.0.0.1", port: served.port });
    const encoder = new TextEncoder();
    await writeAll(
      connection,
      encoder.encode(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${served.key}\r\n${head}\r\n${preamble}`,
      ),
    );
    await writeAll(connection, bytes.subarray(0, 80_000));
    await served.uploadArrived;
    connection.close();
    await served.settled();
    assert.deepEqual(served.uploadStatuses, [400], "the app answered the vanished client with 400");

    assert.equal(await served.blobs.has(digest), false);
    assert.equal(await served.metadata.blobs.has(digest), false);
    assert.deepEqual(await entries(join(served.blobRoot, digest.slice(0, 2))), [], "no temp file");

    const health = await fetch(`${served.url}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const retry = await fetch(`${served.url}${path}`, {
      method: "POST",
      headers: { "x-api-key": served.key, "content-type": "application/octet-stream" },
      body: bytes,
    });
    assert.equal(retry.status, 200, await retry.clone().text());
    await retry.body?.cancel();
    assert.equal(await served.metadata.blobs.has(digest), true);
    assert.deepEqual(await entries(join(served.blobRoot, digest.slice(0, 2))), [digest]);
  });
}

Deno.test("a multipart upload the blob store refuses early answers 503, and the server keeps serving", async () => {
  await using served = await servedApp();
  const bytes = patterned(5_000_000, 3);
  const digest = digestOf(bytes);
  await served.register("host-a", "/big.bin", bytes);
  // A file where the blob's directory should be: the store fails before reading the body.
  await Deno.writeTextFile(join(served.blobRoot, digest.slice(0, 2)), "in the way");
  for (let attempt = 0; attempt < 3; attempt++) {
    const form = new FormData();
    form.append("file", new Blob([bytes]), "big.bin");
    const response = await fetch(
      `${served.url}/upload_file/${digest}?hostname=host-a&filepath=%2Fbig.bin`,
      { method: "POST", headers: { "x-api-key": served.key }, body: form },
    );
    assert.equal(response.status, 503);
    await response.body?.cancel();
  }
  await served.settled();
  const health = await fetch(`${served.url}/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  assert.equal(await served.metadata.blobs.has(digest), false);
  assert.equal(served.logged.length, 3, "each refusal was logged for the operator");
  served.logged.length = 0;
});

async function writeAll(connection: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) offset += await connection.write(bytes.subarray(offset));
}
