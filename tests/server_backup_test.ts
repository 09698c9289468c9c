/**
 * `ppserver backup` under write load, `ppserver restore` into a new data directory, and a
 * server on the restored data that serves every blob acknowledged before the backup.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { digestOf } from "../lib/digest.ts";
import { BLOB_BATCH_CONTENT_TYPE, encodeFrames } from "../lib/wire/blob_batch.ts";
import { startPpserver } from "./_servers/ppserver.ts";
import { fileAt } from "./file_fixture.ts";

const MAIN = fileURLToPath(new URL("../server/main.ts", import.meta.url));

async function ppserver(args: string[], cwd: string) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", MAIN, ...args],
    cwd,
    env: { NO_COLOR: "1", PUTPLACE_CONFIG: join(cwd, "ppserver.toml") },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("a backup taken under write load restores into a server that serves every blob acknowledged before it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ppserver-backup-" });
  await Deno.writeTextFile(join(dir, "ppserver.toml"), "");
  try {
    const source = join(dir, "source");
    const backupDir = join(dir, "backup");
    const restored = join(dir, "restored");
    const acked = new Map<string, Uint8Array>();
    let adminKey: string;
    {
      await using server = await startPpserver({ dataDir: source });
      adminKey = server.adminKey;
      const headers = { "x-api-key": adminKey };
      let stop = false;
      let n = 0;
      const writer = async (lane: number) => {
        while (!stop) {
          const i = n++;
          if (i % 2 === 0) {
            // A loose blob, registered as a file too.
            const bytes = new TextEncoder().encode(`loose ${lane} ${i} `.repeat(200));
            const digest = digestOf(bytes);
            const put = await fetch(`${server.url}/v1/blobs/${digest}`, {
              method: "PUT",
              headers: { ...headers, "content-type": "application/octet-stream" },
              body: bytes,
            });
            await put.body?.cancel();
            assert.ok(put.ok);
            acked.set(digest, bytes);
          } else {
            // A small-blob batch: packed.
            const blobs = Array.from({ length: 4 }, (_, j) => {
              const bytes = new TextEncoder().encode(`packed ${lane} ${i} ${j}`);
              return { digest: digestOf(bytes), bytes };
            });
            const batch = await fetch(`${server.url}/v1/blobs/batch`, {
              method: "POST",
              headers: { ...headers, "content-type": BLOB_BATCH_CONTENT_TYPE },
              body: encodeFrames(blobs),
            });
            await batch.body?.cancel();
            assert.equal(batch.status, 200);
            for (const blob of blobs) acked.set(blob.digest, blob.bytes);
          }
        }
      };
      const registered = await fetch(`${server.url}/put_file`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(fileAt("host-b", "/srv/b.txt", "backed up\n")),
      });
      assert.equal(registered.status, 201);
      await registered.body?.cancel();
      const writers = [writer(1), writer(2)];
      for (let waited = 0; acked.size < 40; waited++) {
        assert.ok(waited < 1500, "the writers acknowledged 40 blobs within 30 s");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const before = new Map(acked);
      const taken = await ppserver(["backup", backupDir, "--blobs", "--data-dir", source], dir);
      const afterCount = acked.size;
      stop = true;
      await Promise.all(writers);
      assert.equal(taken.code, 0, taken.stderr);
      assert.match(taken.stdout, /Backed up .* metadata, pack index, \d+ blob files/);
      assert.ok(afterCount > before.size, "writes went on while the backup ran");
      acked.clear();
      for (const [digest, bytes] of before) acked.set(digest, bytes);
    }

    const again = await ppserver(["backup", backupDir, "--data-dir", source], dir);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds a backup/);

    const put = await ppserver(["restore", backupDir, "--data-dir", restored], dir);
    assert.equal(put.code, 0, put.stderr);
    const twice = await ppserver(["restore", backupDir, "--data-dir", restored], dir);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /already exists/);

    await using server = await startPpserver({ dataDir: restored, adminKey });
    for (const [digest, bytes] of acked) {
      const got = await fetch(`${server.url}/v1/blobs/${digest}`, {
        headers: { "x-api-key": adminKey },
      });
      assert.equal(got.status, 200, `blob ${digest} is served after the restore`);
      assert.deepEqual(new Uint8Array(await got.arrayBuffer()), bytes);
    }
    const file = await fetch(`${server.url}/get_file/${digestOf("backed up\n")}`, {
      headers: { "x-api-key": adminKey },
    });
    assert.equal(file.status, 200);
    assert.equal((await file.json()).filepath, "/srv/b.txt");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("create-key, backup and restore read the same settings as serve; create-key will not make a new store without --init", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ppserver-init-" });
  await Deno.writeTextFile(join(dir, "ppserver.toml"), "");
  try {
    const refused = await ppserver(["create-key", "--name", "x"], dir);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /would create a new, empty one/);
    assert.match(refused.stderr, /--init/);
    assert.equal(refused.stdout, "");
    const config = join(dir, "elsewhere.toml");
    await Deno.writeTextFile(config, `[server]\ndata_dir = "${join(dir, "data")}"\n`);
    const made = await ppserver(["create-key", "--name", "x", "--init", "--config", config], dir);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^[0-9a-f]{64}\n$/);
    const second = await ppserver(
      ["create-key", "--name", "y", "--data-dir", join(dir, "data")],
      dir,
    );
    assert.equal(second.code, 0, "the store exists now: no --init needed");
    const backedUp = await ppserver(["backup", join(dir, "b"), "--config", config], dir);
    assert.equal(backedUp.code, 0, backedUp.stderr);
    const none = await ppserver(
      ["backup", join(dir, "c"), "--data-dir", join(dir, "nothing")],
      dir,
    );
    assert.equal(none.code, 2);
    assert.match(none.stderr, /No metadata store at/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
