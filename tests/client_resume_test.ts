/**
 * Black-box tests of resumable uploads across runs: a large upload cut short by an outage
 * is continued by the next run from the server's offset (its partial bytes reused, not
 * sent again), and one the server no longer has starts over cleanly.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startPpserver } from "./_servers/ppserver.ts";
import {
  pseudoRandom,
  runClient,
  serverBlobs,
  sha256,
  spawnClient,
  tempDir,
  writeTree,
} from "./client_fixtures.ts";

const MiB = 1024 * 1024;

/**
 * A TCP proxy in front of the server that counts the bytes it carries towards it, can
 * throttle them, and can be cut (every connection closed, new ones refused) and restored.
 */
function controlledProxy(target: string) {
  const { hostname, port } = new URL(target);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const state = { up: 0, bytesPerSecond: 0, cut: false };
  const pipes: Promise<void>[] = [];
  const copy = async (from: Deno.Conn, to: Deno.Conn, upward: boolean) => {
    const buffer = new Uint8Array(64 * 1024);
    const started = performance.now();
    let carried = 0;
    try {
      for (;;) {
        const count = await from.read(buffer);
        if (count === null) break;
        let offset = 0;
        while (offset < count) offset += await to.write(buffer.subarray(offset, count));
        if (!upward) continue;
        state.up += count;
        carried += count;
        if (state.bytesPerSecond > 0) {
          const ahead = carried / state.bytesPerSecond * 1000 - (performance.now() - started);
          if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
        }
      }
    } catch {
      // A side closed.
    }
  };
  const pipe = async (client: Deno.Conn) => {
    if (state.cut) {
      client.close();
      return;
    }
    const upstream = await Deno.connect({ hostname, port: Number(port) });
    open.add(client);
    open.add(upstream);
    await Promise.race([copy(client, upstream, true), copy(upstream, client, false)]);
    for (const conn of [client, upstream]) if (open.delete(conn)) conn.close();
  };
  const serving = (async () => {
    for await (const conn of listener) pipes.push(pipe(conn).catch(() => {}));
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    state,
    cut() {
      state.cut = true;
      for (const conn of open) conn.close();
      open.clear();
    },
    restore() {
      state.cut = false;
      state.bytesPerSecond = 0;
      state.up = 0;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await serving.catch(() => {});
      for (const conn of open) conn.close();
      open.clear();
      await Promise.allSettled(pipes);
    },
  };
}

/** Runs a scan through the throttled proxy and cuts it once `cutAt` bytes went up. */
async function cutRun(
  proxy: ReturnType<typeof controlledProxy>,
  args: string[],
  home: string,
  cutAt: number,
): Promise<{ code: number; stderr: string }> {
  proxy.state.bytesPerSecond = 16 * MiB;
  const child = spawnClient(args, { home });
  const stderr = new Response(child.stderr).text();
  const stdout = new Response(child.stdout).text();
  while (proxy.state.up < cutAt) await new Promise((resolve) => setTimeout(resolve, 20));
  proxy.cut();
  const status = await child.status;
  await stdout;
  return { code: status.code, stderr: await stderr };
}

Deno.test("a large upload cut short continues in the next run: the server's partial bytes are not sent again", async () => {
  await using server = await startPpserver();
  await using proxy = controlledProxy(server.url);
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const size = 40 * MiB;
  const bytes = pseudoRandom(size, 21);
  await writeTree(tree.path, { "large.bin": bytes });
  const args = [
    "scan",
    tree.path,
    "--url",
    proxy.url,
    "-k",
    server.adminKey,
    "-v",
    "--retry-for",
    "1s",
  ];

  const first = await cutRun(proxy, args, home.path, 16 * MiB);
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stderr, /could not be used for 1 s \(--retry-for\)/);
  assert.deepEqual(await serverBlobs(server, [sha256(bytes)]), [], "not complete yet");

  proxy.restore();
  const second = await runClient(args, { home: home.path });
  assert.equal(second.code, 0, second.stderr);
  const resumed = second.stderr.match(
    /resuming the upload of [0-9a-f]{64} at byte (\d+): left unfinished by an earlier run/,
  );
  assert.ok(resumed, second.stderr);
  const offset = Number(resumed[1]);
  assert.ok(offset >= 8 * MiB, `the server kept ${offset} bytes`);
  assert.ok(
    proxy.state.up < size - offset + MiB,
    `the second run sent ${proxy.state.up} bytes, the rest is ${size - offset}`,
  );
  assert.deepEqual(await serverBlobs(server), [sha256(bytes)]);
});

Deno.test("an unfinished upload the server no longer has starts over cleanly", async () => {
  await using server = await startPpserver();
  await using proxy = controlledProxy(server.url);
  await using home = await tempDir("ppclient-home-");
  await using tree = await tempDir("ppclient-tree-");
  const bytes = pseudoRandom(24 * MiB, 22);
  await writeTree(tree.path, { "large.bin": bytes });
  const args = ["scan", tree.path, "--url", proxy.url, "-k", server.adminKey, "-v"];
  const first = await cutRun(proxy, [...args, "--retry-for", "1s"], home.path, 10 * MiB);
  assert.equal(first.code, 1, first.stderr);

  // The server forgets the upload (as at expiry): delete it by the id the client kept.
  const cacheDir = `${home.path}/.cache/putplace`;
  const cacheFile = [...Deno.readDirSync(cacheDir)].find((e) => e.name.endsWith(".sqlite"));
  assert.ok(cacheFile);
  const db = new DatabaseSync(`${cacheDir}/${cacheFile.name}`, { readOnly: true });
  const row = db.prepare("SELECT location FROM uploads").get();
  db.close();
  assert.ok(row, "the unfinished upload is in the scan cache");
  const deleted = await fetch(`${server.url}${row.location}`, {
    method: "DELETE",
    headers: { "x-api-key": server.adminKey },
  });
  await deleted.body?.cancel();
  assert.ok(deleted.ok, String(deleted.status));

  proxy.restore();
  const second = await runClient(args, { home: home.path });
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /left unfinished by an earlier run/);
  assert.deepEqual(await serverBlobs(server), [sha256(bytes)]);
});
