/**
 * Black-box tests of `ppclient watch`: created, modified, renamed and deleted files reach
 * the server within seconds, and a watcher started again catches up on what changed
 * while it was stopped.
 */
import assert from "node:assert/strict";
import { startPpserver } from "./_servers/ppserver.ts";
import {
  serverDeletedPaths,
  serverFiles,
  sha256,
  spawnClient,
  tempDir,
  watch,
  writeTree,
} from "./client_fixtures.ts";

/** Waits until `check` holds (polling), or fails after `ms`. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function startWatch(url: string, key: string, root: string, home: string) {
  const child = spawnClient(
    ["watch", root, "--url", url, "-k", key, "--hostname", "w", "--settle", "300ms"],
    { home },
  );
  const stderr = watch(child.stderr, /ppclient: watch: watching /);
  const stdout = new Response(child.stdout).text();
  return {
    ready: stderr.seen,
    async stop(): Promise<{ code: number; stderr: string; stdout: string }> {
      child.kill("SIGTERM");
      const status = await child.status;
      return { code: status.code, stderr: await stderr.all, stdout: await stdout };
    },
  };
}

Deno.test("watch sends created, modified, renamed and deleted files within seconds", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "first\n", "keep/b.txt": "b\n" });
  const files = async () => new Map((await serverFiles(server)).map((f) => [f.filepath, f.sha256]));
  const deleted = async () => new Set(await serverDeletedPaths(server));

  const watcher = startWatch(server.url, server.adminKey, tree.path, home.path);
  await watcher.ready;
  assert.equal((await files()).get(`${tree.path}/a.txt`), sha256("first\n"), "the first full scan");

  await writeTree(tree.path, { "new/c.txt": "created\n" });
  await eventually(
    "created",
    async () => (await files()).get(`${tree.path}/new/c.txt`) === sha256("created\n"),
  );

  await Deno.writeTextFile(`${tree.path}/a.txt`, "second\n");
  await eventually(
    "modified",
    async () => (await files()).get(`${tree.path}/a.txt`) === sha256("second\n"),
  );

  await Deno.rename(`${tree.path}/new/c.txt`, `${tree.path}/new/renamed.txt`);
  await eventually(
    "renamed",
    async () =>
      (await files()).get(`${tree.path}/new/renamed.txt`) === sha256("created\n") &&
      (await deleted()).has(`${tree.path}/new/c.txt`),
  );

  await Deno.remove(`${tree.path}/keep/b.txt`);
  await eventually("deleted", async () => (await deleted()).has(`${tree.path}/keep/b.txt`));

  const stopped = await watcher.stop();
  assert.equal(stopped.code, 143, stopped.stderr);
  assert.equal(stopped.stdout, "");
  assert.doesNotMatch(stopped.stderr, /failed [1-9]/);
});

Deno.test("watch sends files that keep changing within seconds, not when the changes stop", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const files = async () => new Map((await serverFiles(server)).map((f) => [f.filepath, f.sha256]));
  const watcher = startWatch(server.url, server.adminKey, tree.path, home.path);
  await watcher.ready;

  // A file every 100 ms for 12 s: never the 300 ms quiet that ends a burst.
  const started = Date.now();
  let firstSeenAt = 0;
  for (let i = 0; Date.now() - started < 12_000; i++) {
    await Deno.writeTextFile(`${tree.path}/t${i}.txt`, `trickle ${i}\n`);
    if (firstSeenAt === 0 && (await files()).get(`${tree.path}/t0.txt`) === sha256("trickle 0\n")) {
      firstSeenAt = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(firstSeenAt > 0, "the first file of the trickle was registered while it went on");
  assert.ok(firstSeenAt - started < 10_000, `registered after ${firstSeenAt - started} ms`);
  const stopped = await watcher.stop();
  assert.equal(stopped.code, 143, stopped.stderr);
});

Deno.test("watch started again catches up on what changed while it was stopped", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "one\n", "gone.txt": "gone\n" });
  const first = startWatch(server.url, server.adminKey, tree.path, home.path);
  await first.ready;
  assert.equal((await first.stop()).code, 143);

  await writeTree(tree.path, { "a.txt": "two\n", "while-stopped.txt": "new\n" });
  await Deno.remove(`${tree.path}/gone.txt`);

  const second = startWatch(server.url, server.adminKey, tree.path, home.path);
  await second.ready;
  const files = new Map((await serverFiles(server)).map((f) => [f.filepath, f.sha256]));
  assert.equal(files.get(`${tree.path}/a.txt`), sha256("two\n"));
  assert.equal(files.get(`${tree.path}/while-stopped.txt`), sha256("new\n"));
  assert.ok((await serverDeletedPaths(server)).includes(`${tree.path}/gone.txt`));
  const stopped = await second.stop();
  assert.equal(stopped.code, 143, stopped.stderr);
  assert.match(stopped.stderr, /ppclient: watch: full scan: 2 files, 2 registered, .* 1 deleted/);
});

const hasSystemdAnalyze = await new Deno.Command("systemd-analyze", { args: ["--version"] })
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "deploy/ppclient-watch.service is a unit systemd accepts",
  ignore: !hasSystemdAnalyze,
  async fn() {
    await using dir = await tempDir("ppclient-unit-");
    const unit = await Deno.readTextFile(
      new URL("../deploy/ppclient-watch.service", import.meta.url),
    );
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/ppclient watch /m);
    // verify wants the binary to exist: point it at one that does.
    await Deno.writeTextFile(
      `${dir.path}/ppclient-watch.service`,
      unit.replaceAll("/usr/local/bin/ppclient", "/bin/true"),
    );
    const out = await new Deno.Command("systemd-analyze", {
      args: ["verify", `${dir.path}/ppclient-watch.service`],
    }).output();
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, text);
    assert.doesNotMatch(text, /ppclient-watch\.service/, text);
  },
});
