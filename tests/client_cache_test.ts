/**
 * The per-host scan cache end to end, against a real ppserver: unchanged files are
 * neither read nor sent; touched, rewritten, renamed, hard-linked and deleted files are
 * each handled as they must be; deletions are reported only where the walk could see.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startPpserver } from "./_servers/ppserver.ts";
import {
  ageFiles,
  canDropReadCapabilities,
  DROP_READ_CAPABILITIES,
  recordingProxy,
  runClient,
  runInProcess,
  serverBlobs,
  serverDeletedPaths,
  serverFiles,
  serverHistoryCount,
  sha256,
  tempDir,
  writeTree,
} from "./client_fixtures.ts";

const TREE = {
  "a.txt": "alpha\n",
  "b.txt": "bravo\n",
  "sub/c.txt": "charlie\n",
  "sub/d.txt": "delta\n",
};

async function setup() {
  const server = await startPpserver();
  const home = await tempDir("ppclient-home-");
  const tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, TREE);
  await ageFiles();
  const scan = async (...extra: string[]) => {
    const run = await runInProcess(
      ["scan", tree.path, "--url", server.url, "-k", server.adminKey, "--json", ...extra],
      { home: home.path },
    );
    assert.ok(run.code === 0 || run.code === 1, `exit ${run.code}: ${run.stderr}`);
    return { ...run, summary: JSON.parse(run.stdout) };
  };
  return {
    server,
    home,
    tree,
    scan,
    async [Symbol.asyncDispose]() {
      await tree[Symbol.asyncDispose]();
      await home[Symbol.asyncDispose]();
      await server[Symbol.asyncDispose]();
    },
  };
}

function serverMtime(dataDir: string, filepath: string): number {
  const db = new DatabaseSync(`${dataDir}/metadata.sqlite`, { readOnly: true });
  try {
    return Number(
      db.prepare("SELECT file_mtime FROM files WHERE filepath = ?").get(filepath)
        ?.file_mtime,
    );
  } finally {
    db.close();
  }
}

Deno.test("an unchanged file is neither read nor sent again: a rescan only asks the server what it speaks", async () => {
  await using s = await setup();
  const first = await s.scan();
  assert.equal(first.summary.registered, 4);
  const caches = [...Deno.readDirSync(`${s.home.path}/.cache/putplace`)].map((e) => e.name);
  assert.ok(caches.some((name) => /^files-[0-9a-f]{16}\.sqlite$/.test(name)), caches.join());

  await using proxy = recordingProxy(s.server.url);
  const again = await runInProcess(
    ["scan", s.tree.path, "--url", proxy.url, "-k", s.server.adminKey, "--json"],
    { home: s.home.path },
  );
  assert.equal(again.code, 0, again.stderr);
  const summary = JSON.parse(again.stdout);
  // The cache is per server URL: the proxy's URL is another server, so scan once through it.
  assert.equal(summary.registered, 4, "a new server URL starts with an empty cache");
  proxy.requests.length = 0;
  const third = await runInProcess(
    ["scan", s.tree.path, "--url", proxy.url, "-k", s.server.adminKey, "--json"],
    { home: s.home.path },
  );
  assert.equal(third.code, 0, third.stderr);
  const rescan = JSON.parse(third.stdout);
  assert.equal(rescan.unchanged, 4);
  assert.equal(rescan.hashed, 0, "no file was read");
  assert.equal(rescan.registered, 0);
  assert.deepEqual(
    proxy.requests.slice(0, 3),
    ["GET /health", "GET /v1", "GET /v1/whoami"],
    "nothing about files was sent, only the key checked",
  );
  assert.equal(proxy.requests.length, 4);
  assert.match(
    proxy.requests[3],
    /^POST \/v1\/hosts\/[^/]+\/complete-scan$/,
    "and the complete scan recorded",
  );
});

Deno.test("touch: a new mtime makes the file read and registered again, without sending its blob", async () => {
  await using s = await setup();
  await s.scan();
  const path = `${s.tree.path}/a.txt`;
  const later = new Date(Date.now() + 60_000);
  await Deno.utime(path, later, later);
  const { summary } = await s.scan();
  assert.equal(summary.hashed, 1);
  assert.equal(summary.registered, 1);
  assert.equal(summary.unchanged, 3);
  assert.equal(summary.uploaded, 0);
  assert.equal(serverMtime(s.server.dataDir, path), later.getTime() / 1000);
  assert.equal(await serverHistoryCount(s.server), 0, "same digest: no history entry");
});

Deno.test("a rewrite with the same size and the same mtime is caught by the ctime: read, registered and uploaded", async () => {
  await using s = await setup();
  await s.scan();
  const path = `${s.tree.path}/b.txt`;
  const before = await Deno.stat(path);
  await Deno.writeTextFile(path, "BRAVO\n");
  await Deno.utime(path, before.atime!, before.mtime!);
  const after = await Deno.stat(path);
  assert.equal(after.mtime!.getTime(), before.mtime!.getTime());
  assert.equal(after.size, before.size);
  const { summary } = await s.scan();
  assert.equal(summary.hashed, 1);
  assert.equal(summary.registered, 1);
  assert.equal(summary.uploaded, 1);
  assert.equal(summary.unchanged, 3);
  const file = (await serverFiles(s.server)).find((f) => f.filepath === path);
  assert.equal(file?.sha256, sha256("BRAVO\n"));
  assert.equal(await serverHistoryCount(s.server), 1, "the old digest is kept as history");
});

Deno.test("rename: the new path is registered (its blob is not sent again) and the old path is reported deleted", async () => {
  await using s = await setup();
  await s.scan();
  await Deno.rename(`${s.tree.path}/sub/c.txt`, `${s.tree.path}/sub/c-renamed.txt`);
  const { summary } = await s.scan();
  assert.equal(summary.registered, 1);
  assert.equal(summary.uploaded, 0);
  assert.equal(summary.deleted, 1);
  assert.deepEqual(await serverDeletedPaths(s.server), [`${s.tree.path}/sub/c.txt`]);
  const live = (await serverFiles(s.server)).map((f) => f.filepath);
  assert.ok(live.includes(`${s.tree.path}/sub/c-renamed.txt`));
});

Deno.test("hard links: two paths of one inode are both registered, the blob stored once, and both stay unchanged on a rescan", async () => {
  await using s = await setup();
  await Deno.link(`${s.tree.path}/a.txt`, `${s.tree.path}/sub/a-link.txt`);
  await ageFiles();
  const first = await s.scan();
  assert.equal(first.summary.registered, 5);
  assert.equal(first.summary.uploaded, 4);
  const paths = (await serverFiles(s.server)).filter((f) => f.sha256 === sha256("alpha\n"))
    .map((f) => f.filepath).sort();
  assert.deepEqual(paths, [`${s.tree.path}/a.txt`, `${s.tree.path}/sub/a-link.txt`]);
  assert.equal((await serverBlobs(s.server)).length, 4);
  const again = await s.scan();
  assert.equal(again.summary.unchanged, 5);
  assert.equal(again.summary.hashed, 0);
});

Deno.test("deletion: a file gone since the last scan is reported deleted once; a file created again at that path is live again", async () => {
  await using s = await setup();
  await s.scan();
  await Deno.remove(`${s.tree.path}/sub/d.txt`);
  const second = await s.scan();
  assert.equal(second.summary.deleted, 1);
  assert.equal(second.summary.scanned, 3);
  assert.deepEqual(await serverDeletedPaths(s.server), [`${s.tree.path}/sub/d.txt`]);
  const third = await s.scan();
  assert.equal(third.summary.deleted, 0, "reported once");
  await Deno.writeTextFile(`${s.tree.path}/sub/d.txt`, "delta again\n");
  const fourth = await s.scan();
  assert.equal(fourth.summary.registered, 1);
  assert.deepEqual(await serverDeletedPaths(s.server), []);
});

Deno.test("a scan of a subdirectory reports nothing deleted outside it", async () => {
  await using s = await setup();
  await s.scan();
  const sub = await runInProcess(
    ["scan", `${s.tree.path}/sub`, "--url", s.server.url, "-k", s.server.adminKey, "--json"],
    { home: s.home.path },
  );
  assert.equal(sub.code, 0, sub.stderr);
  const summary = JSON.parse(sub.stdout);
  assert.equal(summary.unchanged, 2);
  assert.equal(summary.deleted, 0);
  assert.deepEqual(await serverDeletedPaths(s.server), []);
});

Deno.test("--full reads and registers every file again, sends no blob the server has, and refreshes the cache", async () => {
  await using s = await setup();
  await s.scan();
  const full = await s.scan("--full");
  assert.equal(full.summary.hashed, 4);
  assert.equal(full.summary.registered, 4);
  assert.equal(full.summary.unchanged, 0);
  assert.equal(full.summary.uploaded, 0);
  const after = await s.scan();
  assert.equal(after.summary.unchanged, 4);
  assert.equal(after.summary.hashed, 0);
});

Deno.test("a cache that cannot be opened is reported and the scan goes on without it", async () => {
  await using s = await setup();
  await Deno.writeTextFile(`${s.home.path}/not-a-dir`, "x");
  const run = await s.scan("--cache", `${s.home.path}/not-a-dir/cache`);
  assert.equal(run.code, 0);
  assert.match(
    run.stderr,
    /Cannot use the cache ".*not-a-dir\/cache\/files-[0-9a-f]+\.sqlite": .*; scanning without the cache/,
  );
  assert.equal(run.summary.registered, 4);
});

const dropCaps = await canDropReadCapabilities();
const isRoot = Deno.uid() === 0;

Deno.test({
  name: "no deletion is reported under a directory that could not be read " +
    "(as root the client runs without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH)",
  ignore: isRoot && !dropCaps,
  async fn() {
    await using s = await setup();
    const scan = () =>
      runClient(
        ["scan", s.tree.path, "--url", s.server.url, "-k", s.server.adminKey, "--json"],
        { home: s.home.path, wrap: isRoot ? DROP_READ_CAPABILITIES : [] },
      );
    const first = await scan();
    assert.equal(first.code, 0, first.stderr);
    await Deno.remove(`${s.tree.path}/b.txt`);
    await Deno.chmod(`${s.tree.path}/sub`, 0o000);
    const second = await scan();
    assert.equal(second.code, 1, "the unreadable directory is a failure");
    assert.match(second.stderr, /sub: permission denied/);
    const summary = JSON.parse(second.stdout);
    assert.equal(summary.deleted, 1, "b.txt is gone; the files in sub/ may still be there");
    assert.deepEqual(await serverDeletedPaths(s.server), [`${s.tree.path}/b.txt`]);
    await Deno.chmod(`${s.tree.path}/sub`, 0o755);
    const third = await scan();
    assert.equal(third.code, 0, third.stderr);
    assert.equal(JSON.parse(third.stdout).unchanged, 3);
  },
});
