/**
 * Black-box tests of what ppclient says when something is off: "did you mean" for
 * commands and flags (never Node's parseArgs text), a hint for a URL ending in /v1, the
 * server's own words for a 503, and shell completions.
 */
import assert from "node:assert/strict";
import { startPpserver } from "./_servers/ppserver.ts";
import { runClient, tempDir, writeTree } from "./client_fixtures.ts";

Deno.test('a mistyped command or flag gets a "did you mean", exit 2, nothing on stdout', async () => {
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n" });
  const cases: [string[], string][] = [
    [["scna", tree.path], `Unknown command "scna"; did you mean "scan"?`],
    [["hsots"], `Unknown command "hsots"; did you mean "hosts"?`],
    [["scan", tree.path, "--jsn"], `Unknown option "--jsn"; did you mean "--json"?`],
    [["scan", tree.path, "--colour"], `Unknown option "--colour"`],
    [["get", "--outptu", "x"], `Unknown option "--outptu"; did you mean "--output"?`],
    [["hosts", "--cvs"], `Unknown option "--cvs"; did you mean "--csv"?`],
    [["scan", tree.path, "--jobs"], `Option "--jobs" needs a value`],
    [["scan", tree.path, "--json=yes"], `Option "--json" takes no value`],
  ];
  for (const [args, message] of cases) {
    const run = await runClient(args, { home: home.path });
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.equal(run.stdout, "", args.join(" "));
    assert.ok(run.stderr.startsWith(`ppclient: ${message}`), `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, /\nRun "ppclient( [a-z]+)? --help"\.\n$/);
    assert.doesNotMatch(run.stderr, /positional argument|<value>/, "no parseArgs text");
  }
});

Deno.test("a word near a command that is an existing path is scanned, not corrected", async () => {
  await using home = await tempDir("ppclient-home-");
  await using cwd = await tempDir("ppclient-cwd-");
  await writeTree(cwd.path, { "scna/a.txt": "a\n" });
  const run = await runClient(["scna", "--dry-run", "--json"], { home: home.path, cwd: cwd.path });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).scanned, 1);
});

Deno.test("a URL ending in /v1 is a configuration error that names the base URL", async () => {
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n" });
  const run = await runClient(
    ["scan", tree.path, "--url", "http://127.0.0.1:8000/v1/", "-k", "k"],
    { home: home.path },
  );
  assert.equal(run.code, 2);
  assert.equal(run.stdout, "");
  assert.match(
    run.stderr,
    /^ppclient: Invalid setting "url" \(from --url\): "http:\/\/127\.0\.0\.1:8000\/v1\/" ends in \/v1: give the server's base URL, "http:\/\/127\.0\.0\.1:8000"/,
  );
});

Deno.test("a server whose blob store is down: the 503's words name the store", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n" });
  await Deno.rename(`${server.dataDir}/blobs`, `${server.dataDir}/blobs-away`);
  try {
    const run = await runClient(
      ["scan", tree.path, "--url", server.url, "-k", server.adminKey, ...DOWN_FAST],
      { home: home.path },
    );
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /the blob store \(fs\) is disconnected/);
  } finally {
    await Deno.rename(`${server.dataDir}/blobs-away`, `${server.dataDir}/blobs`);
  }
});

/** Flags that make a client give up on an unreachable or unhealthy server at once. */
const DOWN_FAST = ["--retry-for", "1s"];

Deno.test("ppclient completions bash completes commands, flags and paths in a real bash", async () => {
  await using home = await tempDir("ppclient-home-");
  const script = await runClient(["completions", "bash"], { home: home.path });
  assert.equal(script.code, 0, script.stderr);
  assert.equal(script.stderr, "");
  await Deno.writeTextFile(`${home.path}/ppclient.bash`, script.stdout);
  const complete = async (...words: string[]) => {
    const probe = `source ${home.path}/ppclient.bash
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_ppclient; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const out = await new Deno.Command("bash", { args: ["-c", probe], cwd: home.path }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim().split("\n");
  };
  assert.deepEqual(await complete("ppclient", "sc"), ["scan"]);
  assert.ok((await complete("ppclient", "")).includes("completions"));
  assert.deepEqual(await complete("ppclient", "scan", "--js"), ["--json"]);
  assert.deepEqual(await complete("ppclient", "get", "--out"), ["--output"]);
  assert.deepEqual(await complete("ppclient", "--one"), ["--one-file-system"], "scan's flags");
  assert.ok((await complete("ppclient", "hosts", "--")).includes("--csv"));
});

Deno.test("ppclient completions zsh and fish name every command; an unknown shell exits 2", async () => {
  await using home = await tempDir("ppclient-home-");
  for (const shell of ["zsh", "fish"]) {
    const run = await runClient(["completions", shell], { home: home.path });
    assert.equal(run.code, 0, run.stderr);
    for (const command of ["scan", "get", "hosts", "restore", "completions"]) {
      assert.match(run.stdout, new RegExp(`\\b${command}\\b`), `${shell}: ${command}`);
    }
    assert.match(run.stdout, /--one-file-system|one-file-system/);
  }
  const bad = await runClient(["completions", "bsh"], { home: home.path });
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, /Give one shell: bash, zsh or fish \(did you mean "bash"\?\)/);
});
