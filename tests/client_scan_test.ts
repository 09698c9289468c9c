/**
 * ppclient against a real ppserver process: fixture trees on disk, scans run in this
 * process, and checks on the server side (its metadata store file, its blob directory
 * and GET /get_file).
 */
import assert from "node:assert/strict";
import { startPpserver } from "./_servers/ppserver.ts";
import {
  ageFiles,
  classicOnlyProxy,
  getFile,
  hasMkfifo,
  interceptingProxy,
  pseudoRandom,
  runInProcess,
  serverBlobs,
  serverFiles,
  serverHistoryCount,
  sha256,
  tempDir,
  writeTree,
} from "./client_fixtures.ts";

const README = "Read me first.\n";
const BIG = pseudoRandom(5 * 1024 * 1024 + 4321, 7);

/** Host a's tree: duplicates, an empty file, a 5 MiB file, excluded subtrees, links, a FIFO. */
async function hostATree(root: string): Promise<{ fifo: boolean }> {
  await writeTree(root, {
    "docs/readme.txt": README,
    "docs/copy-of-readme.txt": README,
    "docs/notes/todo.md": "todo\n",
    "empty.txt": "",
    "data/big.bin": BIG,
    ".git/objects/ab/cdef": "git object\n",
    "web/node_modules/pkg/index.js": "module.exports = 1;\n",
    "logs/app.log": "log line\n",
    "logs/keep.txt": "keep me\n",
  });
  await Deno.symlink(`${root}/docs/readme.txt`, `${root}/link-to-readme`);
  await Deno.symlink(".", `${root}/loop`);
  await Deno.symlink("../..", `${root}/docs/notes/up`);
  await Deno.symlink(`${root}/nowhere`, `${root}/dangling`);
  const fifo = await hasMkfifo();
  if (fifo) {
    const made = await new Deno.Command("mkfifo", { args: [`${root}/pipe`] }).output();
    assert.ok(made.success);
  }
  return { fifo };
}

const HOST_A_FILES: Record<string, string | Uint8Array> = {
  "data/big.bin": BIG,
  "docs/copy-of-readme.txt": README,
  "docs/notes/todo.md": "todo\n",
  "docs/readme.txt": README,
  "empty.txt": "",
  "logs/keep.txt": "keep me\n",
};

const EXCLUDES = ["-e", ".git", "-e", "node_modules", "-e", "*.log"];

function expectedFiles(hostname: string, root: string, files: Record<string, string | Uint8Array>) {
  return Object.entries(files).map(([path, content]) => ({
    hostname,
    filepath: `${root}/${path}`,
    sha256: sha256(content),
    file_size: typeof content === "string"
      ? new TextEncoder().encode(content).length
      : content.length,
  })).sort((a, b) => a.filepath < b.filepath ? -1 : 1);
}

function distinctStored(...trees: Record<string, string | Uint8Array>[]): string[] {
  const digests = new Set<string>();
  for (const files of trees) {
    for (const content of Object.values(files)) {
      if (content.length > 0) digests.add(sha256(content));
    }
  }
  return [...digests].sort();
}

Deno.test("ppclient registers every file once per host and stores each distinct content once", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using a = await tempDir("ppclient-host-a-");
  await using b = await tempDir("ppclient-host-b-");
  const { fifo } = await hostATree(a.path);
  const common = ["--url", `${server.url}/put_file`, "-k", server.adminKey, "--json"];

  // First scan of host a.
  const first = await runInProcess(
    ["scan", a.path, "--hostname", "a", ...EXCLUDES, ...common],
    { home: home.path },
  );
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stderr, "");
  const summary = JSON.parse(first.stdout);
  assert.equal(summary.api, "v1", "a ppserver is scanned through the /v1 batches");
  assert.equal(summary.scanned, 6);
  assert.equal(summary.registered, 6);
  assert.equal(summary.uploaded, 4, "four distinct non-empty contents");
  assert.equal(summary.uploaded_bytes, BIG.length + README.length + "todo\n".length + 8);
  assert.equal(summary.deduplicated, 2, "the copy of the readme and the empty file");
  assert.equal(summary.failed, 0);
  assert.deepEqual(summary.skipped_by_reason, {
    excluded: 3,
    symlink: 4,
    ...(fifo ? { special: 1 } : {}),
  });

  assert.deepEqual(await serverFiles(server), expectedFiles("a", a.path, HOST_A_FILES));
  assert.deepEqual(await serverBlobs(server), distinctStored(HOST_A_FILES));
  for (const content of [README, BIG, "todo\n", "keep me\n"]) {
    const found = await getFile(server, sha256(content));
    assert.equal(found.status, 200);
    assert.equal(found.body.sha256, sha256(content));
    assert.equal(found.body.hostname, "a");
    assert.equal(found.body.has_file_content, true);
  }
  for (const excluded of ["git object\n", "module.exports = 1;\n", "log line\n"]) {
    assert.equal((await getFile(server, sha256(excluded))).status, 404);
  }

  // Host b shares two contents with host a and has one of its own.
  const hostB = {
    "home/readme-copy.txt": README,
    "home/big-copy.bin": BIG,
    "home/unique.txt": "b\n",
  };
  await writeTree(b.path, hostB);
  const second = await runInProcess(["scan", b.path, "--hostname", "b", ...common], {
    home: home.path,
  });
  assert.equal(second.code, 0, second.stderr);
  const summaryB = JSON.parse(second.stdout);
  assert.equal(summaryB.registered, 3);
  assert.equal(summaryB.uploaded, 1, "only the content the server lacked");
  assert.equal(summaryB.uploaded_bytes, 2);
  assert.equal(summaryB.deduplicated, 2);
  assert.deepEqual(await serverBlobs(server), distinctStored(HOST_A_FILES, hostB));
  assert.deepEqual(
    (await serverFiles(server)).filter((f) => f.hostname === "b"),
    expectedFiles("b", b.path, hostB),
  );
  assert.equal((await getFile(server, sha256(README))).body.hostname, "a", "the epoch file");

  // A rescan of unchanged host a sends nothing and changes nothing: the scan cache knows
  // every file (these were written less than a second ago, so they are read again to be
  // sure, but not sent).
  const again = await runInProcess(
    ["scan", a.path, "--hostname", "a", ...EXCLUDES, ...common],
    { home: home.path },
  );
  assert.equal(again.code, 0, again.stderr);
  const summaryAgain = JSON.parse(again.stdout);
  assert.equal(summaryAgain.unchanged, 6);
  assert.equal(summaryAgain.registered, 0);
  assert.equal(summaryAgain.uploaded, 0);
  assert.equal(summaryAgain.deleted, 0);
  assert.equal((await serverFiles(server)).length, 9);
  assert.equal(await serverHistoryCount(server), 0);
});

Deno.test("--follow-symlinks registers files reached through links and skips loops and dangling links", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using a = await tempDir("ppclient-host-a-");
  await hostATree(a.path);
  const run = await runInProcess([
    "scan",
    a.path,
    "--hostname",
    "a",
    "--follow-symlinks",
    ...EXCLUDES,
    "--url",
    server.url,
    "-k",
    server.adminKey,
    "--json",
  ], { home: home.path });
  assert.equal(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.registered, 7);
  assert.equal(summary.skipped_by_reason.symlink_loop, 2);
  assert.equal(summary.skipped_by_reason.dangling_symlink, 1);
  const files = await serverFiles(server);
  const link = files.find((f) => f.filepath === `${a.path}/link-to-readme`);
  assert.equal(link?.sha256, sha256(README));
  assert.deepEqual(await serverBlobs(server), distinctStored(HOST_A_FILES));
});

Deno.test("--dry-run hashes and counts but sends no request at all", async () => {
  await using home = await tempDir("ppclient-home-");
  await using a = await tempDir("ppclient-host-a-");
  await hostATree(a.path);
  let requests = 0;
  const recorder = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    requests++;
    return new Response("no", { status: 500 });
  });
  try {
    const run = await runInProcess(
      [
        "scan",
        a.path,
        "--dry-run",
        "--json",
        ...EXCLUDES,
        "--url",
        `http://127.0.0.1:${recorder.addr.port}`,
      ],
      { home: home.path },
    );
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.equal(summary.dry_run, true);
    assert.equal(summary.scanned, 6);
    assert.equal(summary.hashed, 6);
    assert.equal(summary.scanned_bytes, BIG.length + 2 * README.length + 5 + 8);
    assert.equal(summary.registered, 0);
    assert.equal(summary.uploaded, 0);
    assert.equal(requests, 0);
  } finally {
    await recorder.shutdown();
  }
});

Deno.test("--dry-run against a real server leaves its metadata and blob stores empty", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using a = await tempDir("ppclient-host-a-");
  await hostATree(a.path);
  const run = await runInProcess(
    ["scan", a.path, "--dry-run", "--url", server.url, "-k", server.adminKey],
    { home: home.path },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /dry run, nothing was sent/);
  assert.deepEqual(await serverFiles(server), []);
  assert.deepEqual(await serverBlobs(server, distinctStored(HOST_A_FILES)), []);
});

Deno.test("5xx answers are retried: a classic scan through a flaky proxy still registers everything", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n", "b.txt": "b\n", "c/d.txt": "d\n" });
  // The first try of every distinct request (health, each registration, each upload) fails.
  const seen = new Map<string, number>();
  await using proxy = classicOnlyProxy(server.url, async (request, url) => {
    const body = url.pathname === "/put_file" ? await request.clone().text() : "";
    const key = `${request.method} ${url.pathname}${url.search} ${body}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n === 1 ? new Response(JSON.stringify({ detail: "busy" }), { status: 500 }) : null;
  });
  const run = await runInProcess(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  assert.equal(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.registered, 3);
  assert.equal(summary.uploaded, 3);
  assert.equal(
    seen.size,
    1 + 1 + 3 + 3,
    "health, the key check, three registrations, three uploads",
  );
  assert.ok([...seen.values()].every((n) => n === 2), "each failed once, then succeeded");
  assert.equal((await serverFiles(server)).length, 3);
  assert.equal((await serverBlobs(server)).length, 3);
});

Deno.test("classic: a file whose registration keeps failing counts as failed after bounded retries; the scan goes on", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, {
    "good.txt": "good\n",
    "doomed.txt": "doomed\n",
    "z/ok.txt": "ok\n",
  });
  let doomedAttempts = 0;
  await using proxy = classicOnlyProxy(server.url, async (request, url) => {
    if (url.pathname !== "/put_file") return null;
    const body = await request.clone().text();
    if (!body.includes("doomed.txt")) return null;
    doomedAttempts++;
    return new Response(JSON.stringify({ detail: "Store unreachable" }), { status: 503 });
  });
  const run = await runInProcess(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json", "--retries", "2"],
    { home: home.path },
  );
  assert.equal(run.code, 1);
  assert.equal(doomedAttempts, 3);
  assert.match(
    run.stderr,
    /doomed\.txt: POST \/put_file failed with 503: Store unreachable \(after 3 attempts\)/,
  );
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.registered, 2);
  assert.deepEqual(summary.failed_by_reason, { unavailable: 1 });
  assert.deepEqual(
    (await serverFiles(server)).map((f) => f.filepath).sort(),
    [`${tree.path}/good.txt`, `${tree.path}/z/ok.txt`],
  );
});

Deno.test("5xx answers are retried: a /v1 scan through a flaky proxy still registers and uploads everything", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "a.txt": "a\n", "b.txt": "b\n", "c/d.txt": "d\n" });
  // The first try of every distinct request (health, discovery, each batch) fails.
  const seen = new Map<string, number>();
  await using proxy = interceptingProxy(server.url, async (request, url) => {
    const body = request.method === "POST" ? await request.clone().text() : "";
    const key = `${request.method} ${url.pathname}${url.search} ${body}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n === 1 ? new Response(JSON.stringify({ detail: "busy" }), { status: 500 }) : null;
  });
  const run = await runInProcess(
    ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json"],
    { home: home.path },
  );
  assert.equal(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.api, "v1");
  assert.equal(summary.registered, 3);
  assert.equal(summary.uploaded, 3);
  const paths = [...seen.keys()].map((key) => key.split(" ").slice(0, 2).join(" "));
  for (
    const request of ["GET /health", "GET /v1", "POST /v1/files/batch", "POST /v1/blobs/batch"]
  ) {
    assert.ok(paths.includes(request), `${request} was sent`);
  }
  assert.ok([...seen.values()].every((n) => n === 2), "each failed once, then succeeded");
  assert.equal((await serverFiles(server)).length, 3);
  assert.equal((await serverBlobs(server)).length, 3);
});

Deno.test("/v1: a batch whose registration keeps failing fails its files after bounded retries; the next scan registers them without reading them again", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await writeTree(tree.path, { "good.txt": "good\n", "doomed.txt": "doomed\n" });
  await ageFiles();
  let failing = true;
  let attempts = 0;
  await using proxy = interceptingProxy(server.url, (_request, url) => {
    if (url.pathname !== "/v1/files/batch" || !failing) return null;
    attempts++;
    return new Response(JSON.stringify({ detail: "Store unreachable" }), { status: 503 });
  });
  const args = ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "--json"];
  const run = await runInProcess([...args, "--retries", "2"], { home: home.path });
  assert.equal(run.code, 1);
  assert.equal(attempts % 3, 0, "three attempts per batch");
  assert.match(
    run.stderr,
    /doomed\.txt: POST \/v1\/files\/batch failed with 503: Store unreachable \(after 3 attempts\)/,
  );
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.registered, 0);
  assert.deepEqual(summary.failed_by_reason, { unavailable: 2 });
  assert.deepEqual(await serverFiles(server), []);

  failing = false;
  const again = await runInProcess(args, { home: home.path });
  assert.equal(again.code, 0, again.stderr);
  const second = JSON.parse(again.stdout);
  assert.equal(second.registered, 2);
  assert.equal(second.uploaded, 2);
  assert.equal(second.hashed, 0, "the cache kept the digests of the files that failed to register");
  assert.equal((await serverFiles(server)).length, 2);
  assert.equal((await serverBlobs(server)).length, 2);
});
