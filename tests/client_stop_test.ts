/**
 * Black-box tests of how ppclient stops: SIGTERM and SIGHUP act like one Ctrl-C (summary,
 * exit 143 / 129), one signal delivered twice is counted once, `--json` prints one JSON
 * object even for a fatal error, and relative paths resolve against the user's directory
 * under `deno task` (INIT_CWD).
 */
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { fileURLToPath } from "node:url";
import { startPpserver } from "./_servers/ppserver.ts";
import {
  bigTree,
  interceptingProxy,
  runClient,
  serverFiles,
  spawnClient,
  tempDir,
  uploadGate,
  watch,
  writeTree,
} from "./client_fixtures.ts";

for (const [signal, code] of [["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  Deno.test(`${signal} acts like one Ctrl-C: in-flight files finish, the summary prints, exit ${code}`, async () => {
    await using server = await startPpserver();
    await using gate = uploadGate(server.url, { classic: false });
    await using home = await tempDir("ppclient-home-");
    await using tree = await tempDir("ppclient-tree-");
    await bigTree(tree.path, 2000, 20);
    const child = spawnClient(
      ["scan", tree.path, "--url", gate.url, "-k", server.adminKey, "--json"],
      { home: home.path },
    );
    const stderr = watch(child.stderr, new RegExp(`${signal} received; finishing`));
    const stdout = new Response(child.stdout).text();
    await gate.arrived;
    child.kill(signal);
    await stderr.seen;
    gate.release();
    const status = await child.status;
    const [out, err] = await Promise.all([stdout, stderr.all]);
    assert.equal(status.code, code, err);
    assert.match(
      err,
      new RegExp(`^\\nppclient: ${signal} received; finishing the files in flight`),
    );
    const summary = JSON.parse(out);
    assert.equal(summary.interrupted, true);
    assert.equal(summary.abandoned, 0);
    assert.ok(summary.registered > 0, JSON.stringify(summary));
    assert.equal(summary.registered, summary.scanned, "every file taken was finished");
    assert.equal((await serverFiles(server)).length, summary.registered);
  });
}

Deno.test("one Ctrl-C delivered twice at once (as under deno task) is counted once", async () => {
  await using server = await startPpserver();
  await using gate = uploadGate(server.url, { classic: false });
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await bigTree(tree.path, 500, 10);
  const child = spawnClient(
    ["scan", tree.path, "--url", gate.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  const stderr = watch(child.stderr, /interrupted; finishing/);
  const stdout = new Response(child.stdout).text();
  await gate.arrived;
  child.kill("SIGINT");
  child.kill("SIGINT");
  await stderr.seen;
  gate.release();
  const status = await child.status;
  const [out, err] = await Promise.all([stdout, stderr.all]);
  assert.equal(status.code, 130, err);
  assert.doesNotMatch(err, /stopped/);
  assert.equal(JSON.parse(out).interrupted, true, "a graceful stop with its summary");
});

Deno.test("--json prints one error object on stdout for a fatal error, before or during the scan", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n" });

  const refused = await runClient(
    ["scan", tree.path, "--url", server.url, "-k", "0".repeat(64), "--json"],
    { home: home.path },
  );
  assert.equal(refused.code, 3);
  assert.deepEqual(JSON.parse(refused.stdout), {
    error: {
      code: "unauthorized",
      message: `The server at "${server.url}" refused the API key: ` +
        "Unknown API key: this server has no such key",
      exit_code: 3,
    },
  });
  assert.match(refused.stderr, /^ppclient: The server at .* refused the API key/);

  const usage = await runClient(["scan", tree.path, "--jobs", "many", "--json"], {
    home: home.path,
  });
  assert.equal(usage.code, 2);
  const usageError = JSON.parse(usage.stdout);
  assert.equal(usageError.error.code, "invalid_input");
  assert.equal(usageError.error.exit_code, 2);

  // The key is accepted at start, then refused mid-scan (revoked meanwhile): the scan
  // stops, and the one object holds the error and the partial summary.
  await using proxy = interceptingProxy(
    server.url,
    (_request, url) =>
      url.pathname === "/v1/files/batch"
        ? Response.json(
          { type: "about:blank", title: "Unauthorized", status: 401, detail: "Invalid API key" },
          { status: 401 },
        )
        : null,
  );
  const midway = await runClient(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  assert.equal(midway.code, 3, midway.stderr);
  const object = JSON.parse(midway.stdout);
  assert.equal(object.error.code, "unauthorized");
  assert.equal(object.summary.scanned, 1);
  assert.equal(object.summary.registered, 0);

  const text = await runClient(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey],
    { home: home.path },
  );
  assert.equal(text.code, 3);
  assert.match(text.stdout, /^ppclient: stopped by an error, partial summary\n/);
  assert.doesNotMatch(text.stdout, /interrupted/);
});

Deno.test("under deno task, relative paths and ./ppclient.conf resolve against the user's directory (INIT_CWD)", async () => {
  await using home = await tempDir("ppclient-home-");
  await using work = await tempDir("ppclient-cwd-");
  await writeTree(work.path, { "sub/a.txt": "a\n", "sub/b.skip": "b\n", "elsewhere.txt": "x\n" });
  await Deno.writeTextFile(`${work.path}/ppclient.conf`, "exclude = *.skip\n");
  const config = fileURLToPath(new URL("../deno.json", import.meta.url));
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "--config", config, "ppclient", "scan", "sub", "--dry-run", "--json"],
    cwd: work.path,
    // No INIT_CWD from around the test run (deno task keeps one already set).
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: home.path,
      NO_COLOR: "1",
      // A fresh HOME must not mean a fresh module cache.
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${homedir()}/.cache/deno`,
    },
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const summary = JSON.parse(stdout);
  assert.equal(summary.scanned, 1, "only sub/a.txt");
  assert.deepEqual(summary.skipped_by_reason, { excluded: 1 }, "./ppclient.conf was read");
});
