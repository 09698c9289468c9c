/**
 * Black-box tests of the read commands (`hosts`, `ls`, `find`, `dups`, `where`, `log`,
 * `changes`, `stats`, `restore`): `ppclient` as a child process against a real ppserver,
 * stdout, stderr and exit code checked separately.
 */
import assert from "node:assert/strict";
import { startPpserver } from "./_servers/ppserver.ts";
import { runClient, sha256, tempDir, writeTree } from "./client_fixtures.ts";

async function writeKey(url: string, adminKey: string): Promise<string> {
  const response = await fetch(`${url}/api_keys`, {
    method: "POST",
    headers: { "x-api-key": adminKey, "content-type": "application/json" },
    body: JSON.stringify({ name: "scanner", scope: "write" }),
  });
  assert.equal(response.status, 201);
  return (await response.json()).api_key;
}

Deno.test("read commands: tables on stdout, --json and --csv for scripts, exit codes as for scan", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using one = await tempDir("ppclient-tree-");
  await using two = await tempDir("ppclient-tree-");
  await writeTree(one.path, {
    "report.txt": "quarterly numbers\n",
    "photos/cat.jpg": "meow meow meow\n",
    "photos/dog.jpg": "woof\n",
  });
  await writeTree(two.path, { "copy-of-cat.jpg": "meow meow meow\n" });
  const env = { PUTPLACE_API_KEY: server.adminKey, PUTPLACE_URL: server.url };
  const ppclient = (args: string[]) => runClient(args, { home: home.path, env });
  for (const [tree, host] of [[one.path, "alpha"], [two.path, "beta"]]) {
    const scan = await ppclient(["scan", tree, "--hostname", host, "-q"]);
    assert.equal(scan.code, 0, scan.stderr);
  }

  const hosts = await ppclient(["hosts"]);
  assert.equal(hosts.code, 0, hosts.stderr);
  assert.equal(hosts.stderr, "");
  const lines = hosts.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^HOST +FILES +LOGICAL +CONTENTS +ONLY HERE +FIRST REPORT +LAST REPORT$/);
  assert.match(lines[1], /^alpha +3 +38 B +3 +23 B /);
  assert.match(lines[2], /^beta +1 +15 B +1 +0 B /);

  const hostsJson = await ppclient(["hosts", "--json"]);
  const alpha = JSON.parse(hostsJson.stdout.split("\n")[0]);
  assert.equal(alpha.hostname, "alpha");
  assert.ok(alpha.last_complete_scan_at, "a scan that ran to its end is recorded");

  const ls = await ppclient(["ls", `alpha:${one.path}`]);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^TYPE +SIZE +FILES +MODIFIED +NAME\n/);
  assert.match(ls.stdout, /\ndir +20 B +2 +photos\/\nfile +18 B +1 +\S+ \S+ +report\.txt\n$/);

  const find = await ppclient(["find", "*.jpg", "--json"]);
  assert.equal(find.code, 0, find.stderr);
  const found = find.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(found.map((f) => `${f.hostname}:${f.filepath.split("/").at(-1)}`), [
    "alpha:cat.jpg",
    "alpha:dog.jpg",
    "beta:copy-of-cat.jpg",
  ]);
  const big = await ppclient(["find", "photos", "--size", "+10", "--host", "alpha", "--csv"]);
  assert.equal(big.code, 0, big.stderr);
  assert.equal(big.stdout.split("\r\n")[0], "HOST,SIZE,MODIFIED,PATH");
  assert.equal(big.stdout.trim().split("\r\n").length, 2);
  assert.match(big.stdout, /alpha,15,.*cat\.jpg/);

  const dups = await ppclient(["dups"]);
  assert.equal(dups.code, 0, dups.stderr);
  assert.match(
    dups.stdout,
    /^RECLAIMABLE +SIZE +COPIES +HOSTS +DIGEST\n +15 B +15 B +2 +2 +[0-9a-f]{64}\n/,
  );
  assert.match(dups.stdout, /1 groups, 2 files, 15 B reclaimable\n$/);

  const where = await ppclient(["where", `${two.path}/copy-of-cat.jpg`, "--csv"]);
  assert.equal(where.code, 0, where.stderr);
  assert.equal(where.stdout.trim().split("\r\n").length, 3);
  const byDigest = await ppclient(["where", sha256("woof\n"), "--json"]);
  assert.equal(JSON.parse(byDigest.stdout).filepath, `${one.path}/photos/dog.jpg`);

  await Deno.writeTextFile(`${one.path}/report.txt`, "revised numbers\n");
  await Deno.remove(`${one.path}/photos/dog.jpg`);
  const rescan = await ppclient(["scan", one.path, "--hostname", "alpha", "-q"]);
  assert.equal(rescan.code, 0, rescan.stderr);

  const log = await ppclient(["log", `alpha:${one.path}/report.txt`]);
  assert.equal(log.code, 0, log.stderr);
  assert.match(log.stdout, /^WHEN +EVENT +SIZE +MODIFIED +DIGEST\n/);
  assert.match(log.stdout, new RegExp(`modified +16 B .*${sha256("revised numbers\n")}\n`));
  assert.match(log.stdout, new RegExp(`added +18 B .*${sha256("quarterly numbers\n")}\n$`));

  const changes = await ppclient(["changes", "--since", "1h", "--host", "alpha", "--json"]);
  assert.equal(changes.code, 0, changes.stderr);
  const kinds = changes.stdout.trim().split("\n").map((line) => JSON.parse(line).kind).sort();
  assert.deepEqual(kinds, ["added", "added", "added", "deleted", "modified"]);

  const stats = await ppclient(["stats", "--json"]);
  assert.equal(stats.code, 0, stats.stderr);
  assert.equal(JSON.parse(stats.stdout).files, 3);
  const table = await ppclient(["stats", "--host", "beta"]);
  assert.match(table.stdout, /^scope +beta\nhosts +1\nfiles +1\n/);

  // Usage errors exit 2, an unknown file 1, a write-only key 3; nothing on stdout (with
  // --json, the one JSON error object).
  const usage: string[][] = [
    ["ls", "no-colon"],
    ["find", "x", "--size", "lots"],
    ["changes"],
    ["changes", "--since", "yesterday"],
    ["where", `${one.path}/missing`],
    ["hosts", "--json", "--csv"],
    ["restore", "alpha:/x"],
  ];
  for (const args of usage) {
    const run = await ppclient(args);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    if (args.includes("--json")) {
      assert.equal(JSON.parse(run.stdout).error.exit_code, 2);
    } else {
      assert.equal(run.stdout, "");
    }
    assert.match(run.stderr, /^ppclient: /);
  }
  const missing = await ppclient(["log", "alpha:/no/such/file"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No file "\/no\/such\/file" on host "alpha"/);
  const scanner = await writeKey(server.url, server.adminKey);
  const refused = await runClient(["hosts"], {
    home: home.path,
    env: { PUTPLACE_API_KEY: scanner, PUTPLACE_URL: server.url },
  });
  assert.equal(refused.code, 3);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /scope "write"/);
});

/** Every file under a directory: relative path -> bytes, mode and mtime. */
async function treeOf(
  root: string,
): Promise<Map<string, { bytes: string; mode: number; mtime: number }>> {
  const files = new Map<string, { bytes: string; mode: number; mtime: number }>();
  const walk = async (dir: string, prefix: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path, `${prefix}${entry.name}/`);
      else {
        const info = await Deno.stat(path);
        files.set(`${prefix}${entry.name}`, {
          bytes: sha256(await Deno.readFile(path)),
          mode: info.mode! & 0o7777,
          mtime: Math.round(info.mtime!.getTime()),
        });
      }
    }
  };
  await walk(root, "");
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

Deno.test("restore round trip: --at the first scan gives the first tree byte for byte with modes and mtimes, without --at the current one", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  await using out = await tempDir("ppclient-restore-");
  const env = { PUTPLACE_API_KEY: server.adminKey, PUTPLACE_URL: server.url };
  const ppclient = (args: string[]) => runClient(args, { home: home.path, env });
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
  await writeTree(tree.path, {
    "a.txt": "first a\n",
    "empty": "",
    "bin/tool": "#!/bin/sh\necho tool\n",
    "deep/er/big.bin": big,
    "deep/er/gone.txt": "to be deleted\n",
    "same.txt": "first a\n",
  });
  await Deno.chmod(`${tree.path}/bin/tool`, 0o755);
  await Deno.chmod(`${tree.path}/a.txt`, 0o600);
  let second = 1_600_000_000;
  for (
    const path of ["a.txt", "empty", "bin/tool", "deep/er/big.bin", "deep/er/gone.txt", "same.txt"]
  ) {
    await Deno.utime(`${tree.path}/${path}`, second, second);
    second += 1000;
  }
  const first = await treeOf(tree.path);
  assert.equal((await ppclient(["scan", tree.path, "--hostname", "box", "-q"])).code, 0);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const between = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 50));

  await Deno.writeTextFile(`${tree.path}/a.txt`, "second a, longer\n");
  await Deno.utime(`${tree.path}/a.txt`, 1_700_000_000, 1_700_000_000);
  await Deno.remove(`${tree.path}/deep/er/gone.txt`);
  await writeTree(tree.path, { "new/added.txt": "added later\n" });
  const rescan = await ppclient(["scan", tree.path, "--hostname", "box", "-q"]);
  assert.equal(rescan.code, 0, rescan.stderr);
  const current = await treeOf(tree.path);

  const then = await ppclient(["restore", `box:${tree.path}`, `${out.path}/then`, "--at", between]);
  assert.equal(then.code, 0, then.stderr);
  assert.equal(then.stdout, "");
  assert.match(
    then.stderr,
    /restored 6 files .* 0 already correct, 0 never received by the server, 0 failed/,
  );
  assert.deepEqual(await treeOf(`${out.path}/then`), first);

  const now = await ppclient(["restore", `box:${tree.path}`, `${out.path}/now`]);
  assert.equal(now.code, 0, now.stderr);
  assert.deepEqual(await treeOf(`${out.path}/now`), current);

  // A rerun finds everything in place; a changed file is not replaced without --overwrite.
  const again = await ppclient(["restore", `box:${tree.path}`, `${out.path}/now`]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /restored 0 files .* 6 already correct/);
  await Deno.writeTextFile(`${out.path}/now/a.txt`, "local edit\n");
  const refused = await ppclient(["restore", `box:${tree.path}`, `${out.path}/now`]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /a\.txt" exists with other content; not replaced \(use --overwrite\)/,
  );
  assert.equal(await Deno.readTextFile(`${out.path}/now/a.txt`), "local edit\n");
  const forced = await ppclient(["restore", `box:${tree.path}`, `${out.path}/now`, "--overwrite"]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(await treeOf(`${out.path}/now`), current);

  // One file as it was, into a file of its own.
  const single = await ppclient([
    "restore",
    `box:${tree.path}/a.txt`,
    `${out.path}/old-a.txt`,
    "--at",
    between,
  ]);
  assert.equal(single.code, 0, single.stderr);
  assert.equal(await Deno.readTextFile(`${out.path}/old-a.txt`), "first a\n");
  assert.equal((await Deno.stat(`${out.path}/old-a.txt`)).mode! & 0o777, 0o600);
  const nothing = await ppclient(["restore", `box:${tree.path}/nope`, `${out.path}/x`]);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /Nothing at/);
});

Deno.test("restore reports files whose content the server never received, and restores the rest", async () => {
  await using server = await startPpserver();
  await using home = await tempDir("ppclient-home-");
  await using out = await tempDir("ppclient-restore-");
  const register = await fetch(`${server.url}/v1/files/batch`, {
    method: "POST",
    headers: { "x-api-key": server.adminKey, "content-type": "application/json" },
    body: JSON.stringify({
      files: [
        { hostname: "h", filepath: "/d/never.txt", sha256: sha256("never sent"), file_size: 10 },
        {
          hostname: "h",
          filepath: "/d/empty",
          sha256: sha256(""),
          file_size: 0,
          file_mode: 0o100640,
          file_mtime: 1_650_000_000,
        },
      ],
    }),
  });
  assert.equal(register.status, 200);
  await register.body?.cancel();
  const run = await runClient(["restore", "h:/d", out.path], {
    home: home.path,
    env: { PUTPLACE_API_KEY: server.adminKey, PUTPLACE_URL: server.url },
  });
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /\/d\/never\.txt: its content \([0-9a-f]{64}\) was never received by the server/,
  );
  assert.match(run.stderr, /restored 1 files .* 1 never received by the server/);
  const empty = await Deno.stat(`${out.path}/empty`);
  assert.equal(empty.size, 0);
  assert.equal(empty.mode! & 0o777, 0o640);
  assert.equal(empty.mtime!.getTime(), 1_650_000_000_000);
  await assert.rejects(Deno.stat(`${out.path}/never.txt`), Deno.errors.NotFound);
});
