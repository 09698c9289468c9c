/**
 * Black-box tests of the API key check at start: a refused key stops ppclient before any
 * work (exit 3), whatever the scan cache holds, naming the problem.
 */
import assert from "node:assert/strict";
import { startPpserver } from "./_servers/ppserver.ts";
import {
  ageFiles,
  classicOnlyProxy,
  recordingProxy,
  runClient,
  serverFiles,
  tempDir,
  writeTree,
} from "./client_fixtures.ts";

async function createKey(
  server: { url: string; adminKey: string },
  name: string,
  scope: "read" | "write",
): Promise<{ key: string; id: string }> {
  const response = await fetch(`${server.url}/api_keys`, {
    method: "POST",
    headers: { "x-api-key": server.adminKey, "content-type": "application/json" },
    body: JSON.stringify({ name, scope }),
  });
  assert.equal(response.status, 201);
  const body = await response.json();
  return { key: body.api_key, id: body._id };
}

Deno.test("with a warm scan cache, an unknown, a revoked and a read-only key each exit 3 before any work", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n", "sub/b.txt": "b\n" });
  const writer = await createKey(server, "laptop-01", "write");
  // Every scan goes through the recorder: one server URL, so one warm scan cache.
  await using recorder = recordingProxy(server.url);
  const scan = (key: string) =>
    runClient(["scan", tree.path, "--url", recorder.url, "-k", key, "--hostname", "h"], {
      home: home.path,
    });

  await ageFiles();
  const warm = await scan(writer.key);
  assert.equal(warm.code, 0, warm.stderr);
  const again = await scan(writer.key);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /unchanged +2 /, "the cache is warm: nothing would be sent");

  // Only the key check reaches the server's authenticated routes.
  recorder.requests.length = 0;
  const unknown = await scan("0".repeat(64));
  assert.equal(unknown.code, 3);
  assert.equal(unknown.stdout, "");
  assert.equal(
    unknown.stderr,
    `ppclient: The server at "${recorder.url}" refused the API key: ` +
      "Unknown API key: this server has no such key\n",
  );
  assert.deepEqual(recorder.requests, ["GET /health", "GET /v1", "GET /v1/whoami"]);

  const revoke = await fetch(`${server.url}/api_keys/${writer.id}/revoke`, {
    method: "PUT",
    headers: { "x-api-key": server.adminKey },
  });
  assert.equal(revoke.status, 200);
  const revoked = await scan(writer.key);
  assert.equal(revoked.code, 3);
  assert.equal(revoked.stdout, "");
  assert.match(
    revoked.stderr,
    /^ppclient: The server at ".*" refused the API key: API key "laptop-01" was revoked at \d{4}-\S+\n$/,
  );
  assert.doesNotMatch(revoked.stderr, /abandoned/);

  const reader = await createKey(server, "dashboard", "read");
  const readOnly = await scan(reader.key);
  assert.equal(readOnly.code, 3);
  assert.equal(readOnly.stdout, "");
  assert.equal(
    readOnly.stderr,
    `ppclient: The API key "dashboard" has scope "read"; "ppclient scan" needs a "write" key\n`,
  );
  assert.equal((await serverFiles(server)).length, 2);
});

Deno.test("ppclient get checks its key too: a read key is enough, an unknown one exits 3", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  const digest = "0".repeat(64);
  const unknown = await runClient(["get", digest, "--url", server.url, "-k", "f".repeat(64)], {
    home: home.path,
  });
  assert.equal(unknown.code, 3);
  assert.equal(unknown.stdout, "");
  assert.match(unknown.stderr, /refused the API key: Unknown API key/);
  const reader = await createKey(server, "reader", "read");
  const missing = await runClient(["get", digest, "--url", server.url, "-k", reader.key], {
    home: home.path,
  });
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /404/);
});

Deno.test("against a classic-only server a refused key exits 3 before any work (GET /get_file)", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n" });
  await using classic = classicOnlyProxy(server.url);
  const run = await runClient(["scan", tree.path, "--url", classic.url, "-k", "0".repeat(64)], {
    home: home.path,
  });
  assert.equal(run.code, 3);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /refused the API key: Invalid API key/);
  assert.deepEqual(await serverFiles(server), []);
});
