/**
 * ppserver with several worker processes on one data directory (`serve --workers N`):
 * concurrent writers through every worker lose and duplicate nothing, a resumable upload
 * goes on whichever worker each append lands on, and a worker killed with SIGKILL loses
 * nothing it acknowledged while the others go on and the supervisor starts it again.
 */
import assert from "node:assert/strict";
import { digestOf } from "../lib/digest.ts";
import { BLOB_BATCH_CONTENT_TYPE, encodeFrames } from "../lib/wire/blob_batch.ts";
import { startPpserver } from "./_servers/ppserver.ts";
import { pseudoRandom, serverFiles } from "./client_fixtures.ts";

const WORKERS = 3;

function fileRecord(hostname: string, filepath: string, digest: string, size: number) {
  return {
    filepath,
    hostname,
    ip_address: "10.0.0.1",
    sha256: digest,
    file_size: size,
    file_mode: 0o100644,
    file_uid: 1000,
    file_gid: 1000,
    file_mtime: 1_700_000_000,
    file_atime: 1_700_000_000,
    file_ctime: 1_700_000_000,
  };
}

/** Shared contents: every writer sends all of them, so each digest races between workers. */
const blobs = Array.from({ length: 40 }, (_, i) => {
  const bytes = new TextEncoder().encode(`shared blob ${i} `.repeat(1 + (i % 30)));
  return { digest: digestOf(bytes), bytes };
});

/** Fresh connections each time, so requests spread over the workers. */
function freshClient(): Deno.HttpClient {
  return Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
}

/** Polls until `check` holds (a wait, not a timing assertion); fails after ~20 s. */
async function until(check: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting until ${what}`);
}

Deno.test(`${WORKERS} workers, concurrent writers on one data directory: no record lost or duplicated, every blob stored once with its bytes`, async () => {
  await using server = await startPpserver({ workers: WORKERS });
  await until(() => server.workerPids().length === WORKERS, "every worker runs");
  using client = freshClient();
  const headers = { "x-api-key": server.adminKey };
  const writers = 6;
  const rounds = 4;
  const perBatch = 50;
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let round = 0; round < rounds; round++) {
      const files = Array.from({ length: perBatch }, (_, i) => {
        const blob = blobs[(w + round + i) % blobs.length];
        return fileRecord(`writer-${w}`, `/r${round}/f${i}`, blob.digest, blob.bytes.length);
      });
      const registered = await fetch(`${server.url}/v1/files/batch`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ files }),
        client,
      });
      assert.equal(registered.status, 200, await registered.clone().text());
      await registered.body?.cancel();
      const stored = await fetch(`${server.url}/v1/blobs/batch`, {
        method: "POST",
        headers: { ...headers, "content-type": BLOB_BATCH_CONTENT_TYPE },
        body: encodeFrames(blobs),
        client,
      });
      assert.equal(stored.status, 200);
      const answer = await stored.json();
      assert.equal(answer.counts.stored + answer.counts.already_stored, blobs.length);
    }
  }));

  const files = await serverFiles(server);
  assert.equal(files.length, writers * rounds * perBatch, "every record once");
  const keys = new Set(files.map((f) => `${f.hostname}\0${f.filepath}`));
  assert.equal(keys.size, files.length, "no (host, path) twice");
  const missing = await fetch(`${server.url}/v1/blobs/missing`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ blobs: blobs.map((b) => ({ digest: b.digest, size: b.bytes.length })) }),
  });
  assert.deepEqual(await missing.json(), { missing: [] });
  for (const { digest, bytes } of blobs) {
    const got = await fetch(`${server.url}/v1/blobs/${digest}`, { headers, client });
    assert.equal(got.status, 200);
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), bytes);
  }
});

Deno.test(`${WORKERS} workers: a resumable upload is appended to through whichever worker each request reaches`, async () => {
  await using server = await startPpserver({ workers: WORKERS });
  await until(() => server.workerPids().length === WORKERS, "every worker runs");
  using client = freshClient();
  const headers = { "x-api-key": server.adminKey };
  const bytes = pseudoRandom(600_000, 9);
  const digest = digestOf(bytes);
  const created = await fetch(`${server.url}/v1/uploads`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ digest, size: bytes.length }),
    client,
  });
  assert.equal(created.status, 201);
  const { location } = await created.json();
  const piece = 50_000;
  for (let offset = 0; offset < bytes.length; offset += piece) {
    // Each append on a new connection: the kernel spreads them over the workers.
    const head = await fetch(`${server.url}${location}`, { method: "HEAD", headers, client });
    assert.equal(head.headers.get("upload-offset"), String(offset));
    const append = await fetch(`${server.url}${location}`, {
      method: "PATCH",
      headers: {
        ...headers,
        "upload-offset": String(offset),
        "content-type": "application/offset+octet-stream",
      },
      body: bytes.subarray(offset, offset + piece),
      client,
    });
    assert.ok(append.status === 204 || append.status === 200, `append at ${offset}`);
    await append.body?.cancel();
  }
  const got = await fetch(`${server.url}/v1/blobs/${digest}`, { headers, client });
  assert.equal(got.status, 200);
  assert.equal(digestOf(new Uint8Array(await got.arrayBuffer())), digest);
});

Deno.test(`${WORKERS} workers: SIGKILL of one worker loses nothing acknowledged; the others go on and it is started again`, async () => {
  await using server = await startPpserver({ workers: WORKERS });
  await until(() => server.workerPids().length === WORKERS, "every worker runs");
  using client = freshClient();
  const headers = { "x-api-key": server.adminKey };
  const acknowledged: { digest: string; bytes: Uint8Array }[] = [];
  const registeredPaths: string[] = [];
  let failures = 0;
  let stop = false;
  const load = Promise.all(Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const bytes = new TextEncoder().encode(`writer ${w} blob ${i} `.repeat(1 + (i % 20)));
      const digest = digestOf(bytes);
      try {
        const stored = await fetch(`${server.url}/v1/blobs/batch`, {
          method: "POST",
          headers: { ...headers, "content-type": BLOB_BATCH_CONTENT_TYPE },
          body: encodeFrames([{ digest, bytes }]),
          client,
        });
        if (stored.status === 200) {
          const answer = await stored.json();
          if (answer.counts.stored + answer.counts.already_stored === 1) {
            acknowledged.push({ digest, bytes });
          }
        } else {
          await stored.body?.cancel();
        }
        const path = `/w${w}/f${i}`;
        const registered = await fetch(`${server.url}/v1/files/batch`, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify({ files: [fileRecord("killed", path, digest, bytes.length)] }),
          client,
        });
        if (registered.status === 200) registeredPaths.push(path);
        await registered.body?.cancel();
      } catch {
        failures++; // the connection went to the worker that was killed
      }
    }
  }));
  await until(() => acknowledged.length >= 20, "some writes were acknowledged");
  const [victim] = server.workerPids();
  Deno.kill(victim, "SIGKILL");
  const before = acknowledged.length;
  await until(() => acknowledged.length >= before + 40, "the other workers go on");
  await until(
    () => server.workerPids().length === WORKERS && !server.workerPids().includes(victim),
    "the supervisor started the killed worker again",
  );
  stop = true;
  await load;
  assert.match(server.output(), /A worker exited; starting it again/);
  assert.ok(failures < acknowledged.length, `${failures} requests failed`);

  for (const { digest, bytes } of acknowledged) {
    const got = await fetch(`${server.url}/v1/blobs/${digest}`, { headers, client });
    assert.equal(got.status, 200, `acknowledged blob ${digest}`);
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), bytes);
  }
  const onServer = new Set(
    (await serverFiles(server)).filter((f) => f.hostname === "killed").map((f) => f.filepath),
  );
  for (const path of registeredPaths) assert.ok(onServer.has(path), `registered ${path}`);
});
