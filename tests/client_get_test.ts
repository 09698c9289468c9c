/**
 * `ppclient get` as a child process against a real ppserver: downloads to a file and to
 * stdout, verified; resumption of a partial file with --continue and of a cut connection;
 * exit codes for a missing blob, a malformed digest and corrupted bytes.
 */
import assert from "node:assert/strict";
import { startPpserver } from "./_servers/ppserver.ts";
import {
  cuttingProxy,
  interceptingProxy,
  pseudoRandom,
  runClient,
  sha256,
  spawnClient,
  tempDir,
} from "./client_fixtures.ts";

const BLOB = pseudoRandom(6 * 1024 * 1024 + 321, 31);
const DIGEST = sha256(BLOB);

async function serverWithBlob() {
  const server = await startPpserver();
  const put = await fetch(`${server.url}/v1/blobs/${DIGEST}`, {
    method: "PUT",
    headers: { "x-api-key": server.adminKey, "content-type": "application/octet-stream" },
    body: BLOB,
  });
  const answer = await put.text();
  assert.equal(put.status, 201, answer);
  return server;
}

Deno.test("get DIGEST -o FILE writes the blob, verified, and says so on stderr", async () => {
  await using server = await serverWithBlob();
  await using home = await tempDir("ppclient-home-");
  const out = `${home.path}/blob.bin`;
  const run = await runClient(
    ["get", DIGEST, "-o", out, "--url", server.url, "-k", server.adminKey],
    { home: home.path },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /blob\.bin: 6\.0 MiB \(6291777 bytes\), digest verified\n$/);
  assert.deepEqual(await Deno.readFile(out), BLOB);
});

Deno.test({
  name: "get DIGEST -o /dev/null downloads and verifies the blob (a device is not synced)",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using server = await serverWithBlob();
    await using home = await tempDir("ppclient-home-");
    const run = await runClient(
      ["get", DIGEST, "-o", "/dev/null", "--url", server.url, "-k", server.adminKey],
      { home: home.path },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /\/dev\/null: 6\.0 MiB \(6291777 bytes\), digest verified\n$/);
  },
});

Deno.test("get DIGEST without -o streams the blob to stdout", async () => {
  await using server = await serverWithBlob();
  await using home = await tempDir("ppclient-home-");
  const child = spawnClient(
    ["get", DIGEST, "--url", server.url, "-k", server.adminKey, "--quiet"],
    { home: home.path },
  );
  const output = await child.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.equal(output.stderr.length, 0);
  assert.equal(sha256(output.stdout), DIGEST);
});

Deno.test("get --continue checks the partial file and downloads only the rest with Range", async () => {
  await using server = await serverWithBlob();
  await using home = await tempDir("ppclient-home-");
  const ranges: (string | null)[] = [];
  await using proxy = interceptingProxy(server.url, (request, url) => {
    if (request.method === "GET" && url.pathname.startsWith("/v1/blobs/")) {
      ranges.push(request.headers.get("range"));
    }
    return null;
  });
  const out = `${home.path}/partial.bin`;
  await Deno.writeFile(out, BLOB.subarray(0, 1_000_000));
  const args = ["get", DIGEST, "-o", out, "--continue", "--url", proxy.url, "-k", server.adminKey];
  const run = await runClient(args, { home: home.path });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(ranges, ["bytes=1000000-"]);
  assert.deepEqual(await Deno.readFile(out), BLOB);

  // A complete file is only checked.
  const again = await runClient(args, { home: home.path });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(ranges.length, 1, "no download for a complete file");

  // A partial file that is not the blob's start fails the check at the end and is removed.
  await Deno.writeFile(out, new Uint8Array(1000));
  const wrong = await runClient(args, { home: home.path });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /hash to ".*"; ".*partial\.bin" was removed/);
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
});

Deno.test("a download cut off mid-way goes on from the bytes already written", async () => {
  await using server = await serverWithBlob();
  await using home = await tempDir("ppclient-home-");
  await using proxy = cuttingProxy(server.url, "down", [2 * 1024 * 1024]);
  const out = `${home.path}/blob.bin`;
  const run = await runClient(
    ["get", DIGEST, "-o", out, "--url", proxy.url, "-k", server.adminKey, "-v"],
    { home: home.path },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(proxy.cutsLeft(), 0);
  assert.match(run.stderr, /retry 1 of GET \/v1\/blobs\//);
  assert.deepEqual(await Deno.readFile(out), BLOB);
});

Deno.test("get exit codes: 1 for a blob the server does not hold, 2 for a malformed digest or --continue without -o", async () => {
  await using server = await serverWithBlob();
  await using home = await tempDir("ppclient-home-");
  const common = ["--url", server.url, "-k", server.adminKey];
  const missing = await runClient(["get", "a".repeat(64), ...common], { home: home.path });
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, "");
  assert.match(missing.stderr, /GET \/v1\/blobs\/aaaaaaaaaaaa\.\.\. failed with 404/);
  const malformed = await runClient(["get", "xyz", ...common], { home: home.path });
  assert.equal(malformed.code, 2);
  assert.match(malformed.stderr, /Invalid digest "xyz"/);
  const noOutput = await runClient(["get", DIGEST, "--continue", ...common], { home: home.path });
  assert.equal(noOutput.code, 2);
  assert.match(noOutput.stderr, /--continue needs --output FILE/);
  const refused = await runClient(
    ["get", DIGEST, "--url", server.url, "-k", "0".repeat(64)],
    { home: home.path },
  );
  assert.equal(refused.code, 3);
});

Deno.test("bytes that do not hash to the digest (a corrupted blob store) exit 1 and leave no output file", async () => {
  await using server = await serverWithBlob();
  await using home = await tempDir("ppclient-home-");
  const stored = `${server.dataDir}/blobs/${DIGEST.slice(0, 2)}/${DIGEST}`;
  const corrupted = BLOB.slice();
  corrupted[12345] ^= 0xff;
  await Deno.chmod(stored, 0o644);
  await Deno.writeFile(stored, corrupted);
  const out = `${home.path}/blob.bin`;
  const run = await runClient(
    ["get", DIGEST, "-o", out, "--url", server.url, "-k", server.adminKey],
    { home: home.path },
  );
  assert.equal(run.code, 1);
  assert.match(run.stderr, /The bytes downloaded for ".*" hash to "[0-9a-f]{12}\.\.\."/);
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
});
