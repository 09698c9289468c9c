/**
 * Black-box test of the live progress line in a real pseudo-terminal (`script`), 80
 * columns wide: percentage, files and bytes of the total, rate, fitted to the width.
 */
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { startPpserver } from "./_servers/ppserver.ts";
import { bigTree, CLIENT_MAIN, pseudoRandom, tempDir, writeTree } from "./client_fixtures.ts";

const hasScript = await new Deno.Command("script", { args: ["--version"] }).output()
  .then((o) => o.success, () => false);

function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Runs ppclient in a pty of `columns` columns; answers everything the terminal showed. */
async function inPty(args: string[], home: string, columns: number): Promise<{
  code: number;
  screen: string;
}> {
  const command = `stty cols ${columns} rows 24; exec ${
    [Deno.execPath(), "run", "-A", CLIENT_MAIN, ...args].map(quote).join(" ")
  }`;
  const output = await new Deno.Command("script", {
    args: ["-qefc", command, "/dev/null"],
    cwd: home,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: home,
      NO_COLOR: "1",
      TERM: "xterm",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${homedir()}/.cache/deno`,
    },
    stdin: "null",
  }).output();
  return { code: output.code, screen: new TextDecoder().decode(output.stdout) };
}

Deno.test({
  name:
    "on an 80-column terminal the live line shows %, files and bytes of the total, rate, and fits",
  ignore: !hasScript,
  async fn() {
    await using server = await startPpserver();
    await using home = await tempDir("ppclient-home-");
    await using tree = await tempDir("ppclient-tree-");
    await bigTree(tree.path, 3000, 30);
    await writeTree(tree.path, { "large.bin": pseudoRandom(48 * 1024 * 1024, 3) });
    const run = await inPty(
      ["scan", tree.path, "--url", server.url, "-k", server.adminKey, "-j", "2"],
      home.path,
      80,
    );
    assert.equal(run.code, 0, run.screen.slice(-2000));
    const live = run.screen.split("\r\x1b[2K").map((part) => part.split(/\r?\n/)[0])
      .filter((part) => /^~?\d+% /.test(part));
    assert.ok(live.length >= 2, `live lines were drawn: ${run.screen.slice(0, 2000)}`);
    for (const line of live) assert.ok(line.length <= 79, `${line.length} columns: ${line}`);
    assert.ok(
      live.some((line) =>
        /^\d+% \d+\/3001 files \| [0-9.]+ [KMG]?i?B\/[0-9.]+ [KMG]?i?B \| /.test(line)
      ),
      `a line with the totals known: ${live.slice(-3).join("\n")}`,
    );
    assert.ok(live.some((line) => /\/s\b/.test(line)), "the rate");
    assert.match(run.screen, /ppclient: summary\r?\n/);
  },
});

Deno.test({
  name: "restore on an 80-column terminal shows %, bytes and files of the total, rate, and fits",
  ignore: !hasScript,
  async fn() {
    await using server = await startPpserver();
    await using home = await tempDir("ppclient-home-");
    await using tree = await tempDir("ppclient-tree-");
    await using target = await tempDir("ppclient-restore-");
    await bigTree(tree.path, 200, 30);
    await writeTree(tree.path, { "large.bin": pseudoRandom(96 * 1024 * 1024, 4) });
    const common = ["--url", server.url, "-k", server.adminKey];
    const scan = await inPty(
      ["scan", tree.path, ...common, "--hostname", "pty-host"],
      home.path,
      80,
    );
    assert.equal(scan.code, 0, scan.screen.slice(-2000));

    const run = await inPty(
      ["restore", `pty-host:${tree.path}`, `${target.path}/out`, ...common, "-j", "1"],
      home.path,
      80,
    );
    assert.equal(run.code, 0, run.screen.slice(-2000));
    const live = run.screen.split("\r\x1b[2K").map((part) => part.split(/\r?\n/)[0])
      .filter((part) => / files\b/.test(part) && /\/s\b/.test(part));
    assert.ok(live.length >= 1, `live lines were drawn: ${run.screen.slice(0, 2000)}`);
    for (const line of live) assert.ok(line.length <= 79, `${line.length} columns: ${line}`);
    assert.ok(
      live.some((line) =>
        /^\d+% [0-9.]+ [KMG]?i?B\/[0-9.]+ [KMG]?i?B \| \d+\/201 files \| /.test(line)
      ),
      `a line with the totals known: ${live.slice(-3).join("\n")}`,
    );
    assert.match(run.screen, /ppclient: restored 201 files/);
  },
});
