/**
 * Black-box tests of outages: a server stopped and restarted mid-scan is waited out with
 * all work paused (one line saying so and until when), then the scan resumes and
 * completes; files fail one by one only for reasons of their own.
 */
import assert from "node:assert/strict";
import { startPpserver } from "./_servers/ppserver.ts";
import {
  bigTree,
  classicOnlyProxy,
  serverFiles,
  spawnClient,
  tempDir,
  watch,
} from "./client_fixtures.ts";

Deno.test("a server stopped and restarted mid-scan: the scan pauses, resumes and completes, exit 0", async () => {
  await using data = await tempDir("ppserver-data-");
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const total = 4000;
  await bigTree(tree.path, total, 40);
  const first = await startPpserver({ dataDir: data.path });
  const port = Number(new URL(first.url).port);
  const child = spawnClient(
    ["scan", tree.path, "--url", first.url, "-k", first.adminKey, "--json", "-v", "-j", "2"],
    { home: home.path },
  );
  const stderr = watch(child.stderr, /\n?ppclient: (uploaded|deduplicated) [0-9a-f]{64} /);
  const stdout = new Response(child.stdout).text();
  await stderr.seen;
  await first.stop();
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  await using second = await startPpserver({
    dataDir: data.path,
    adminKey: first.adminKey,
    port,
  });
  const status = await child.status;
  const [out, err] = await Promise.all([stdout, stderr.all]);
  assert.equal(status.code, 0, err.slice(-3000));
  const paused = err.match(
    /ppclient: the server at \S+ cannot be used \(.*\); all work paused, trying again until \d\d:\d\d:\d\d \(--retry-for 5 min\)\n/g,
  );
  assert.equal(paused?.length, 1, "one line says the work is paused, and until when");
  assert.match(err, /ppclient: the server at \S+ answers again after \d+ s; resuming\n/);
  const summary = JSON.parse(out);
  assert.equal(summary.failed, 0, "no file failed because of the outage");
  assert.equal(summary.registered, total);
  assert.equal((await serverFiles(second)).length, total);
});

Deno.test("a server gone longer than --retry-for stops a classic scan with one error, not one per file", async () => {
  await using data = await tempDir("ppserver-data-");
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await bigTree(tree.path, 3000, 30);
  const server = await startPpserver({ dataDir: data.path });
  await using classic = classicOnlyProxy(server.url);
  const child = spawnClient(
    ["scan", tree.path, "--url", classic.url, "-k", server.adminKey, "-v", "--retry-for", "1s"],
    { home: home.path },
  );
  const stderr = watch(child.stderr, /\n?ppclient: (uploaded|deduplicated) [0-9a-f]{64} /);
  const stdout = new Response(child.stdout).text();
  await stderr.seen;
  await server.stop();
  const status = await child.status;
  const [out, err] = await Promise.all([stdout, stderr.all]);
  assert.equal(status.code, 1, err.slice(-2000));
  assert.match(out, /^ppclient: stopped by an error, partial summary\n/);
  assert.match(out, /failed +0\n/, "no file failed for the server's outage");
  const fatal = err.match(/could not be used for 1 s \(--retry-for\)/g);
  assert.equal(fatal?.length, 1, err.slice(-2000));
});
