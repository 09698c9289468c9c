/**
 * Every 2xx rests on durable metadata: a registration the server acknowledged must not roll
 * back on a power cut, because the client marks the file confirmed and never sends it again.
 *
 * Power loss cannot be simulated here (see _servers/strace.ts), so this proves the order: it
 * traces a real ppserver process with strace and checks that every write to `metadata.sqlite-wal` made before the 201 went out was followed by an
 * fsync of that file before the 201 went out. With `synchronous = NORMAL` SQLite does not
 * sync the WAL at commit, and this fails.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startPpserver } from "./_servers/ppserver.ts";
import { type Call, isSync, parseTrace, straceIgnoreReason } from "./_servers/strace.ts";

const ignoreReason = await straceIgnoreReason();

/** Why the trace shows an unsynced WAL write before the 201, or null when it does not. */
function walUnsyncedBefore201(calls: Call[]): string | null {
  const sent = calls.findIndex((call) => call.text.includes('"HTTP/1.1 201'));
  if (sent < 0) return "no 201 in the trace";
  const isWal = (call: Call) => call.path.endsWith("metadata.sqlite-wal");
  const before = calls.slice(0, sent);
  const lastWrite = before.findLastIndex((call) => isWal(call) && /write/.test(call.name));
  if (lastWrite < 0) return "no write to the WAL before the 201";
  const synced = before.slice(lastWrite + 1).some((call) => isWal(call) && isSync(call));
  return synced ? null : "the WAL was written but not synced before the 201";
}

Deno.test("walUnsyncedBefore201() tells a synced WAL write from an unsynced one", () => {
  const trace = (sync: string) =>
    [
      '7 pwrite64(9</d/metadata.sqlite-wal>, "\\0"..., 4152, 32) = 4152',
      ...(sync ? [`8 ${sync}(9</d/metadata.sqlite-wal>) = 0`] : []),
      '7 sendto(30<socket:[1]>, "HTTP/1.1 201 Created\\r\\n"..., 147, 0, NULL, 0) = 147',
    ].join("\n");
  assert.equal(walUnsyncedBefore201(parseTrace(trace("fsync"))), null);
  assert.equal(walUnsyncedBefore201(parseTrace(trace("fdatasync"))), null);
  assert.match(walUnsyncedBefore201(parseTrace(trace(""))) ?? "", /not synced/);
  const unfinished = [
    "8 fsync(9</d/metadata.sqlite-wal> <unfinished ...>",
    '7 pwrite64(9</d/metadata.sqlite-wal>, "\\0"..., 4152, 32) = 4152',
    "8 <... fsync resumed>) = 0",
    '7 sendto(30<socket:[1]>, "HTTP/1.1 201 Created\\r\\n"..., 147, 0, NULL, 0) = 147',
  ].join("\n");
  assert.equal(walUnsyncedBefore201(parseTrace(unfinished)), null);
});

Deno.test({
  name: "a registration is answered 201 only after its metadata.sqlite WAL write is fsynced",
  ignore: ignoreReason !== false,
  async fn() {
    await using server = await startPpserver();
    const traceFile = join(server.dataDir, "strace.out");
    const strace = new Deno.Command("strace", {
      args: [
        "-f",
        "-p",
        String(server.process.pid),
        "-y",
        "-s",
        "24",
        "-e",
        "trace=fsync,fdatasync,write,pwrite64,writev,pwritev,sendto,sendmsg",
        "-o",
        traceFile,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // strace says "Process N attached" for each thread once it traces it.
    const reader = strace.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let said = "";
    while (!said.includes("attached")) {
      const { done, value } = await reader.read();
      if (done) break;
      said += value;
    }
    const draining = (async () => {
      while (!(await reader.read()).done) { /* attach messages of later threads */ }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    let status: number;
    try {
      const response = await fetch(`${server.url}/put_file`, {
        method: "POST",
        headers: { "x-api-key": server.adminKey, "content-type": "application/json" },
        body: JSON.stringify({
          filepath: "/srv/durable.txt",
          hostname: "host-a",
          ip_address: "10.0.0.1",
          sha256: "ab".repeat(32),
          file_size: 10,
        }),
      });
      status = response.status;
      await response.body?.cancel();
    } finally {
      strace.kill("SIGINT");
      await strace.status;
      await draining;
    }
    assert.equal(status, 201);
    const calls = parseTrace(await Deno.readTextFile(traceFile));
    assert.equal(walUnsyncedBefore201(calls), null);
  },
});
