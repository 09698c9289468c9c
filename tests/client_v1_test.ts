/**
 * ppclient and the /v1 API, against a real ppserver: discovery and the fallback to the
 * classic routes, which route each blob takes (blob batches, PUT, resumable uploads
 * that resume after dropped connections), files that change before their upload.
 */
import assert from "node:assert/strict";
import { startPpserver } from "./_servers/ppserver.ts";
import {
  classicOnlyProxy,
  cuttingProxy,
  isV1Path,
  pseudoRandom,
  recordingProxy,
  runInProcess,
  serverBlobs,
  serverDeletedPaths,
  serverFiles,
  sha256,
  tempDir,
  writeTree,
} from "./client_fixtures.ts";

Deno.test("against a classic-only server (404 for /v1) the client uses the classic routes, and says deletions cannot be reported", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, {
    "a.txt": "alpha\n",
    "copy-of-a.txt": "alpha\n",
    "big.bin": pseudoRandom(2 * 1024 * 1024, 5),
    "empty": "",
  });
  const requests: string[] = [];
  await using classic = classicOnlyProxy(server.url, (request, url) => {
    requests.push(`${request.method} ${url.pathname.replace(/[0-9a-f]{64}/, "<digest>")}`);
    return null;
  });
  const args = ["scan", tree.path, "--url", classic.url, "-k", server.adminKey, "--json", "-v"];
  const first = await runInProcess(args, { home: home.path });
  assert.equal(first.code, 0, first.stderr);
  const summary = JSON.parse(first.stdout);
  assert.equal(summary.api, "classic");
  assert.equal(summary.registered, 4);
  assert.equal(summary.uploaded, 2);
  assert.equal(summary.deduplicated, 2);
  assert.match(first.stderr, /speaks only the classic API/);
  assert.deepEqual(
    [...new Set(requests)].sort(),
    ["GET /get_file/<digest>", "GET /health", "POST /put_file", "POST /upload_file/<digest>"],
    "nothing but the classic routes (GET /v1 was answered 404 by the proxy; GET /get_file " +
      "checks the key)",
  );
  assert.equal(requests.filter((r) => r === "POST /put_file").length, 4, "one request per file");
  assert.equal((await serverFiles(server)).length, 4);
  assert.equal((await serverBlobs(server)).length, 2);

  await Deno.remove(`${tree.path}/copy-of-a.txt`);
  const again = await runInProcess(args, { home: home.path });
  assert.equal(again.code, 0, again.stderr);
  const second = JSON.parse(again.stdout);
  assert.equal(second.deleted, 0);
  assert.equal(second.gone_unreported, 1);
  assert.match(
    again.stderr,
    /1 files under .* are gone since the last scan; the server speaks only the classic API/,
  );
  assert.deepEqual(await serverDeletedPaths(server), [], "a classic server cannot be told");
});

Deno.test("/v1 scan: small blobs go in blob batches, a blob over the per-blob cap is streamed with PUT, nothing uses the classic routes", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const big = pseudoRandom(3 * 1024 * 1024 + 17, 9);
  const files: Record<string, string | Uint8Array> = { "big.bin": big, "big-copy.bin": big };
  for (let i = 0; i < 50; i++) files[`small/${i}.txt`] = `small file ${i % 40}\n`;
  await writeTree(tree.path, files);
  await using proxy = recordingProxy(server.url);
  const run = await runInProcess(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  assert.equal(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.api, "v1");
  assert.equal(summary.registered, 52);
  assert.equal(summary.uploaded, 41, "40 distinct small contents and the big one");
  assert.equal(summary.deduplicated, 11);
  const counts = (request: string) => proxy.requests.filter((r) => r === request).length;
  assert.equal(counts(`PUT /v1/blobs/${sha256(big)}`), 1, "the big blob is sent once");
  assert.ok(counts("POST /v1/blobs/batch") >= 1);
  assert.ok(counts("POST /v1/blobs/batch") <= 5, "small blobs share batches");
  assert.ok(counts("POST /v1/files/batch") <= 5, "files are registered in batches");
  assert.equal(proxy.requests.filter((r) => !r.includes("/v1") && r !== "GET /health").length, 0);
  assert.equal((await serverFiles(server)).length, 52);
  assert.equal((await serverBlobs(server)).length, 41);
});

Deno.test("a blob of 8 MiB or more goes through a resumable upload in pieces that resumes after the connection drops twice", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const size = 30 * 1024 * 1024 + 123;
  const path = `${tree.path}/large.bin`;
  {
    using file = await Deno.open(path, { write: true, create: true });
    for (let written = 0, seed = 1; written < size; seed++) {
      const chunk = pseudoRandom(Math.min(4 * 1024 * 1024, size - written), seed);
      await file.write(chunk);
      written += chunk.length;
    }
  }
  const digest = sha256(await Deno.readFile(path));
  await using proxy = cuttingProxy(server.url, "up", [9 * 1024 * 1024, 20 * 1024 * 1024]);
  const run = await runInProcess(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json", "-v", "-j", "2"],
    { home: home.path },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(proxy.cutsLeft(), 0, "both cuts happened");
  const resumes = [...run.stderr.matchAll(/resuming the upload of [0-9a-f]{64} at byte (\d+)/g)]
    .map((m) => Number(m[1]));
  // Two cuts, two resumptions at least: a HEAD that races the server still writing the cut
  // request's bytes sees an older offset, gets 409 on PATCH and resumes once more.
  assert.ok(resumes.length >= 2, run.stderr);
  assert.ok(resumes.every((at, i) => i === 0 || at >= resumes[i - 1]), `resumed at ${resumes}`);
  assert.ok(resumes[resumes.length - 1] > 0, `resumed at ${resumes}`);
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.uploaded, 1);
  assert.equal(summary.uploaded_bytes, size);
  assert.deepEqual(await serverBlobs(server), [digest]);
  assert.deepEqual((await serverFiles(server)).map((f) => f.sha256), [digest]);
  const uploads = [...Deno.readDirSync(`${server.dataDir}/uploads`)];
  assert.deepEqual(uploads, [], "the completed upload left nothing behind");
});

Deno.test("over plain http a large file goes up in one PATCH that streams the whole file", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const size = 30 * 1024 * 1024 + 5;
  const bytes = pseudoRandom(size, 43);
  await writeTree(tree.path, { "large.bin": bytes });
  await using proxy = recordingProxy(server.url);
  const run = await runInProcess(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(proxy.requests.filter((r) => r.startsWith("PATCH /v1/uploads/")).length, 1);
  assert.equal(JSON.parse(run.stdout).uploaded_bytes, size);
  assert.deepEqual(await serverBlobs(server), [sha256(bytes)]);
});

Deno.test("with an injected fetch (bodies not streamed over node:http) a large file goes up in one PATCH per 8 MiB piece", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const size = 30 * 1024 * 1024 + 5;
  const bytes = pseudoRandom(size, 41);
  await writeTree(tree.path, { "large.bin": bytes });
  const patches: number[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    if (request.method === "PATCH") {
      patches.push(Number(request.headers.get("upload-offset")));
    }
    return await fetch(request);
  };
  const run = await runInProcess(
    ["scan", tree.path, "--url", server.url, "-k", server.adminKey, "--json"],
    { home: home.path, fetch: recording },
  );
  assert.equal(run.code, 0, run.stderr);
  const piece = 8 * 1024 * 1024;
  assert.deepEqual(patches, [0, piece, 2 * piece, 3 * piece]);
  assert.equal(JSON.parse(run.stdout).uploaded_bytes, size);
  assert.deepEqual(await serverBlobs(server), [sha256(bytes)]);
});

Deno.test("/v1: a large file rewritten while its resumable upload streams is failed as changed; its last piece is never sent", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const size = 64 * 1024 * 1024;
  const path = `${tree.path}/large.bin`;
  await writeTree(tree.path, { "large.bin": pseudoRandom(size, 31) });
  let rewritten = false;
  // When the PATCH arrives, before its body is read, the file's last bytes change in place
  // (same file, same size): the client has read at most what the connection buffers.
  await using proxy = recordingProxy(server.url, async (request, url) => {
    if (request.method === "PATCH" && url.pathname.startsWith("/v1/uploads/") && !rewritten) {
      rewritten = true;
      using file = await Deno.open(path, { write: true });
      await file.seek(size - 16, Deno.SeekMode.Start);
      await file.write(new Uint8Array(16).fill(7));
    }
    return null;
  });
  const run = await runInProcess(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  assert.equal(rewritten, true, "the upload went through a PATCH");
  assert.equal(run.code, 1, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout).failed_by_reason, { changed: 1 });
  // The upload checks the file's identity (stat) rather than hashing it a second time.
  assert.match(run.stderr, /large\.bin: was modified after it was hashed/);
  const now = sha256(await Deno.readFile(path));
  assert.deepEqual(await serverBlobs(server, [now]), [], "nothing stored under either digest");
});

Deno.test("/v1: a file rewritten after its registration is failed as changed; its new bytes are never stored under the old digest", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const original = pseudoRandom(2 * 1024 * 1024, 21);
  await writeTree(tree.path, {
    "small.txt": "before\n",
    "large.bin": original,
    "calm.txt": "calm\n",
  });
  // Between the server's answer to the registration and the uploads, both files change.
  await using proxy = recordingProxy(server.url, async (request, url) => {
    if (url.pathname !== "/v1/files/batch") return null;
    const answer = await fetch(`${server.url}${url.pathname}`, {
      method: "POST",
      headers: request.headers,
      body: await request.text(),
    });
    await Deno.writeTextFile(`${tree.path}/small.txt`, "after!\n");
    await Deno.writeFile(`${tree.path}/large.bin`, pseudoRandom(original.length, 22));
    return new Response(await answer.arrayBuffer(), {
      status: answer.status,
      headers: answer.headers,
    });
  });
  const run = await runInProcess(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  assert.equal(run.code, 1);
  const summary = JSON.parse(run.stdout);
  assert.deepEqual(summary.failed_by_reason, { changed: 2 });
  assert.equal(summary.registered, 1);
  // A rewrite truncates, then writes: the client may see the file empty for a moment.
  assert.match(run.stderr, /small\.txt: (was modified|changed size) after it was hashed/);
  assert.match(run.stderr, /large\.bin: (was modified|changed size) after it was hashed/);
  assert.deepEqual(await serverBlobs(server), [sha256("calm\n")]);
  const onServer = await serverFiles(server);
  assert.equal(onServer.find((f) => f.filepath.endsWith("small.txt"))?.sha256, sha256("before\n"));
});

Deno.test("GET /v1 discovery: a server without the batch features is scanned over the classic routes", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n" });
  // A /v1 that exists but announces no batch registration (an older or partial server).
  await using proxy = recordingProxy(server.url, async (_request, url) => {
    if (url.pathname !== "/v1") return null;
    const capabilities = await (await fetch(`${server.url}/v1`)).json();
    capabilities.features = ["stats"];
    return Response.json(capabilities);
  });
  const run = await runInProcess(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).api, "classic");
  assert.ok(proxy.requests.includes("POST /put_file"));
  assert.ok(
    !proxy.requests.some((r) => isV1Path(new URL(r.split(" ")[1], "http://x")) && r !== "GET /v1"),
  );
});

Deno.test("/v1 scan keeps to the caps the server announces: files per batch, blobs per batch, per-blob size", async () => {
  await using server = await startPpserver({
    env: {
      PUTPLACE_MAX_BATCH_FILES: "7",
      PUTPLACE_MAX_BLOB_BATCH_COUNT: "5",
      PUTPLACE_MAX_BLOB_BATCH_BLOB_BYTES: "100",
    },
  });
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const files: Record<string, string> = {};
  for (let i = 0; i < 30; i++) files[`small/${i}.txt`] = `small ${i}\n`;
  for (let i = 0; i < 3; i++) files[`medium/${i}.txt`] = `${i}`.repeat(200);
  await writeTree(tree.path, files);
  await using proxy = recordingProxy(server.url);
  const run = await runInProcess(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  assert.equal(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.registered, 33);
  assert.equal(summary.uploaded, 33);
  const count = (prefix: string) => proxy.requests.filter((r) => r.startsWith(prefix)).length;
  assert.ok(count("POST /v1/files/batch") >= 5, "at most 7 files per batch (no 413 either)");
  assert.ok(count("POST /v1/blobs/batch") >= 6, "at most 5 blobs per batch");
  assert.equal(count("PUT /v1/blobs/"), 3, "blobs over 100 bytes are sent alone");
  assert.equal((await serverBlobs(server)).length, 33);
});

Deno.test("a batch the server finds too large (413) is split and sent again until it fits", async () => {
  await using server = await startPpserver({ env: { PUTPLACE_MAX_BATCH_FILES: "4" } });
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const files: Record<string, string> = {};
  for (let i = 0; i < 20; i++) files[`f${i}.txt`] = `file ${i}\n`;
  await writeTree(tree.path, files);
  // The server announces more than it accepts (an operator lowered the cap behind a cache).
  await using proxy = recordingProxy(server.url, async (_request, url) => {
    if (url.pathname !== "/v1") return null;
    const capabilities = await (await fetch(`${server.url}/v1`)).json();
    capabilities.limits.batch_files = 1000;
    return Response.json(capabilities);
  });
  const run = await runInProcess(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).registered, 20);
  assert.ok(proxy.requests.filter((r) => r === "POST /v1/files/batch").length > 5);
  assert.equal((await serverFiles(server)).length, 20);
});
