/**
 * Black-box tests of the ppclient command: `deno run -A client/main.ts ...` as a child
 * process, checking stdout, stderr and the exit code separately.
 */
import assert from "node:assert/strict";
import { startPpserver } from "./_servers/ppserver.ts";
import {
  bigTree,
  canDropReadCapabilities,
  classicOnlyProxy,
  DROP_READ_CAPABILITIES,
  runClient,
  serverBlobs,
  serverFiles,
  sha256,
  spawnClient,
  tempDir,
  uploadGate,
  watch,
  writeTree,
} from "./client_fixtures.ts";

Deno.test("ppclient --help prints usage on stdout and exits 0", async () => {
  await using home = await tempDir("ppclient-home-");
  const run = await runClient(["--help"], { home: home.path });
  assert.equal(run.code, 0);
  assert.match(run.stdout, /Usage: ppclient \[scan\] \[PATH\.\.\.\] \[OPTIONS\]/);
  assert.match(run.stdout, /Exit codes: 0 all done/);
  assert.equal(run.stderr, "");
});

Deno.test("a scan prints its summary on stdout, nothing on stderr, and exits 0", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n", "sub/b.txt": "b\n", "sub/a-again.txt": "a\n" });
  const run = await runClient(
    ["-p", tree.path, "--url", `${server.url}/put_file`, "--hostname", "cli"],
    { home: home.path, env: { PUTPLACE_API_KEY: server.adminKey } },
  );
  assert.equal(run.stderr, "");
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^ppclient: summary\n/);
  assert.match(run.stdout, /scanned +3 files, 6 B, 2 directories/);
  assert.match(run.stdout, /registered +3\n/);
  assert.match(run.stdout, /uploaded +2 files, 4 B/);
  assert.match(run.stdout, /deduplicated +1\n/);
  assert.match(run.stdout, /failed +0\n/);
  assert.equal((await serverFiles(server)).length, 3);
});

Deno.test("a path that does not exist is a usage error: exit 2, message on stderr, nothing sent", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n" });
  const run = await runClient(
    ["scan", tree.path, `${tree.path}/missing`, "--url", server.url, "-k", server.adminKey],
    { home: home.path },
  );
  assert.equal(run.code, 2);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /^ppclient: Path ".*\/missing" does not exist/);
  assert.deepEqual(await serverFiles(server), []);
});

Deno.test("usage and configuration errors exit 2 with a message on stderr", async () => {
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n" });
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [["scan", tree.path, "--colour"], /Unknown option "--colour"/],
    [
      ["scan", tree.path, "-c", `${tree.path}/nope.conf`],
      /Config file ".*nope.conf" does not exist/,
    ],
    [["scan", tree.path, "--jobs", "many"], /Invalid setting "jobs" \(from --jobs\)/],
    [["scan", tree.path], /No API key/],
    [["scan"], /Nothing to scan/],
    [
      ["scan", tree.path, "-k", "k"],
      /Invalid setting "url" \(from environment variable PUTPLACE_URL\)/,
      {
        PUTPLACE_URL: "ftp://example",
      },
    ],
  ];
  for (const [args, message, env] of cases) {
    const run = await runClient(args, { home: home.path, env });
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.equal(run.stdout, "", args.join(" "));
    assert.match(run.stderr, message, args.join(" "));
  }
});

Deno.test("an unknown key in ~/ppclient.conf is a configuration error (exit 2)", async () => {
  await using home = await tempDir("ppclient-home-");
  await Deno.writeTextFile(`${home.path}/ppclient.conf`, "url = http://x\nspeed = fast\n");
  const run = await runClient(["scan", home.path, "--dry-run"], { home: home.path });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /Unknown setting "speed" in .*ppclient.conf line 2/);
});

Deno.test("config precedence: flags over environment over ./ppclient.conf over ~/ppclient.conf", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using work = await tempDir("ppclient-cwd-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "f.txt": "precedence\n", "skip.tmp": "x" });
  await Deno.writeTextFile(
    `${home.path}/ppclient.conf`,
    `[DEFAULT]\nurl = http://127.0.0.1:9/put_file\nhostname = from-home\nexclude = *.tmp\n` +
      `api_key = ${"0".repeat(64)}\n`,
  );
  await Deno.writeTextFile(
    `${work.path}/ppclient.conf`,
    `url = ${server.url}/put_file\nhostname = from-cwd\n`,
  );
  const scan = (args: string[], env: Record<string, string> = {}) =>
    runClient(["scan", tree.path, "--json", ...args], { home: home.path, cwd: work.path, env });
  const hosts = async () => new Set((await serverFiles(server)).map((f) => f.hostname));

  // The home file's key is wrong: the environment's key must win over it.
  const refused = await scan([]);
  assert.equal(refused.code, 3, refused.stderr);
  const fromEnv = await scan([], { PUTPLACE_API_KEY: server.adminKey });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.deepEqual(
    await hosts(),
    new Set(["from-cwd"]),
    "./ppclient.conf wins over ~/ppclient.conf",
  );
  assert.equal(JSON.parse(fromEnv.stdout).skipped_by_reason.excluded, 1, "home excludes apply");

  const fromFlag = await scan(["--hostname", "from-flag", "-k", server.adminKey], {
    PUTPLACE_API_KEY: "0".repeat(64),
  });
  assert.equal(fromFlag.code, 0, fromFlag.stderr);
  assert.deepEqual(await hosts(), new Set(["from-cwd", "from-flag"]));
});

Deno.test("a refused API key exits 3 with the server's reason on stderr", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n", "b.txt": "b\n" });
  const wrong = await runClient(
    ["scan", tree.path, "--url", server.url, "-k", "f".repeat(64), "--quiet"],
    { home: home.path },
  );
  assert.equal(wrong.code, 3);
  assert.equal(wrong.stdout, "");
  assert.match(wrong.stderr, /refused the API key: Unknown API key/);

  const created = await fetch(`${server.url}/api_keys`, {
    method: "POST",
    headers: { "x-api-key": server.adminKey, "content-type": "application/json" },
    body: JSON.stringify({ name: "reader", scope: "read" }),
  });
  assert.equal(created.status, 201);
  const { api_key: readKey } = await created.json();
  const readOnly = await runClient(
    ["scan", tree.path, "--url", server.url, "-k", readKey, "--quiet"],
    { home: home.path },
  );
  assert.equal(readOnly.code, 3);
  assert.match(readOnly.stderr, /has scope "read"; "ppclient scan" needs a "write" key/);
  assert.deepEqual(await serverFiles(server), []);
});

Deno.test("a server that cannot be reached exits 1 once --retry-for is spent", async () => {
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const run = await runClient(
    ["scan", tree.path, "--url", `http://127.0.0.1:${port}`, "-k", "k", "--retry-for", "2s"],
    { home: home.path },
  );
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.match(
    run.stderr,
    /Cannot use the server at "http:\/\/127\.0\.0\.1:\d+": The server at "http:\/\/127\.0\.0\.1:\d+" could not be used for 2 s \(--retry-for\): GET \/health failed: /,
  );
});

const dropCaps = await canDropReadCapabilities();
const isRoot = Deno.uid() === 0;

Deno.test({
  name:
    "unreadable files and directories are reported on stderr, counted as failed, the scan goes on, exit 1 " +
    "(as root the client runs without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so mode 000 is really unreadable)",
  ignore: isRoot && !dropCaps,
  async fn() {
    await using server = await startPpserver();
    await using home = await tempDir("ppclient-home-");
    await using tree = await tempDir("ppclient-tree-");
    await writeTree(tree.path, {
      "ok.txt": "readable\n",
      "secret.txt": "secret\n",
      "locked/inside.txt": "inside\n",
      "zz/after.txt": "after\n",
    });
    await Deno.chmod(`${tree.path}/secret.txt`, 0o000);
    await Deno.chmod(`${tree.path}/locked`, 0o000);
    const run = await runClient(
      ["scan", tree.path, "--url", server.url, "-k", server.adminKey, "--json"],
      { home: home.path, wrap: isRoot ? DROP_READ_CAPABILITIES : [] },
    );
    assert.equal(run.code, 1, run.stderr);
    const lines = run.stderr.trim().split("\n").sort();
    assert.deepEqual(lines, [
      `ppclient: ${tree.path}/locked: permission denied`,
      `ppclient: ${tree.path}/secret.txt: permission denied`,
    ]);
    const summary = JSON.parse(run.stdout);
    assert.equal(summary.failed, 2);
    assert.deepEqual(summary.failed_by_reason, { unreadable: 2 });
    assert.equal(summary.registered, 2);
    assert.deepEqual(
      (await serverFiles(server)).map((f) => [f.filepath, f.sha256]),
      [
        [`${tree.path}/ok.txt`, sha256("readable\n")],
        [`${tree.path}/zz/after.txt`, sha256("after\n")],
      ],
    );
  },
});

Deno.test("Ctrl-C once stops a classic scan, prints the partial summary and exits 130", async () => {
  await using server = await startPpserver();
  await using classic = classicOnlyProxy(server.url);
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const total = 4000;
  await bigTree(tree.path, total);
  const child = spawnClient(
    ["scan", tree.path, "--url", classic.url, "-k", server.adminKey, "--json", "-v"],
    { home: home.path },
  );
  const stderr = watch(child.stderr, /uploaded [0-9a-f]{64} /);
  const stdout = new Response(child.stdout).text();
  await stderr.seen;
  child.kill("SIGINT");
  const status = await child.status;
  const [out, err] = await Promise.all([stdout, stderr.all]);
  assert.equal(status.code, 130, err.slice(-2000));
  assert.match(err, /interrupted; finishing the files in flight/);
  const summary = JSON.parse(out);
  assert.equal(summary.interrupted, true);
  assert.ok(summary.registered > 0, "some work was done");
  assert.ok(summary.scanned < total, `stopped early (${summary.scanned} of ${total})`);
  // Every registration the summary counts is on the server (abandoned ones may be too).
  const registered = (await serverFiles(server)).length;
  assert.ok(registered >= summary.registered && registered < total, `${registered} on server`);
});

Deno.test("Ctrl-C once lets the files in flight of a classic scan finish, takes no new ones, and exits 130", async () => {
  await using server = await startPpserver();
  await using gate = uploadGate(server.url, { classic: true });
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const total = 200;
  await bigTree(tree.path, total, 5);
  const child = spawnClient(
    ["scan", tree.path, "--url", gate.url, "-k", server.adminKey, "--json", "-j", "4"],
    { home: home.path },
  );
  const stderr = watch(child.stderr, /interrupted; finishing/);
  const stdout = new Response(child.stdout).text();
  await gate.arrived;
  child.kill("SIGINT");
  await stderr.seen;
  gate.release();
  const status = await child.status;
  const [out, err] = await Promise.all([stdout, stderr.all]);
  assert.equal(status.code, 130, err);
  const summary = JSON.parse(out);
  assert.equal(summary.interrupted, true);
  assert.equal(summary.abandoned, 0, "the files in flight finished");
  assert.equal(summary.failed, 0);
  assert.ok(summary.scanned >= 1 && summary.scanned <= 4, `scanned ${summary.scanned}`);
  assert.equal(summary.registered, summary.scanned);
  assert.equal(summary.uploaded, gate.uploads());
  assert.equal((await serverFiles(server)).length, summary.registered);
});

Deno.test("Ctrl-C twice stops at once with exit 130 and no summary", async () => {
  await using server = await startPpserver();
  await using gate = uploadGate(server.url, { classic: false });
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await bigTree(tree.path, 50, 5);
  const child = spawnClient(
    ["scan", tree.path, "--url", gate.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  const stderr = watch(child.stderr, /interrupted; finishing/);
  const stdout = new Response(child.stdout).text();
  await gate.arrived;
  child.kill("SIGINT");
  await stderr.seen;
  // The uploads are still held: without a second Ctrl-C the client would wait for them.
  // (One sooner than DEBOUNCE_MS after the first would count as the same Ctrl-C.)
  await new Promise((resolve) => setTimeout(resolve, 700));
  child.kill("SIGINT");
  const status = await child.status;
  const [out, err] = await Promise.all([stdout, stderr.all]);
  assert.equal(status.code, 130);
  assert.match(err, /ppclient: stopped\n$/);
  assert.equal(out, "");
});

Deno.test("Ctrl-C once lets the files in flight of a /v1 scan finish, takes no new ones, and exits 130", async () => {
  await using server = await startPpserver();
  await using gate = uploadGate(server.url, { classic: false });
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  // More files than the pipeline holds in flight (queues, open batches) when uploads stall.
  const total = 12_000;
  await bigTree(tree.path, total, 60);
  const child = spawnClient(
    ["scan", tree.path, "--url", gate.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  const stderr = watch(child.stderr, /interrupted; finishing/);
  const stdout = new Response(child.stdout).text();
  await gate.arrived;
  child.kill("SIGINT");
  await stderr.seen;
  gate.release();
  const status = await child.status;
  const [out, err] = await Promise.all([stdout, stderr.all]);
  assert.equal(status.code, 130, err);
  const summary = JSON.parse(out);
  assert.equal(summary.api, "v1");
  assert.equal(summary.interrupted, true);
  assert.equal(summary.abandoned, 0, "the files in flight finished");
  assert.equal(summary.failed, 0);
  assert.ok(summary.scanned < total, `stopped taking files (${summary.scanned} of ${total})`);
  assert.equal(summary.registered, summary.scanned);
  assert.equal(summary.uploaded, summary.registered, "all contents are distinct");
  assert.equal((await serverFiles(server)).length, summary.registered);
  assert.equal((await serverBlobs(server)).length, summary.uploaded);
});
