/**
 * What the filesystem blob store publishes stays after a power cut: a new shard directory,
 * the `packs/` directory and the resumable `uploads/` directory are fsynced in their parent
 * before anything in them is acknowledged, and a put that finds its blob already published
 * (EEXIST) answers only after the blob's directory is fsynced, since the winner's own sync
 * may still be running. Proven by the order of system calls (see _servers/strace.ts) of a
 * real process using the store.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Call, isSync, parseTrace, straceIgnoreReason } from "./_servers/strace.ts";

const ignoreReason = await straceIgnoreReason();

const lib = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

/** Stores one blob twice and opens resumable uploads, printing a mark after each step. */
const SCRIPT = `
import { openBlobStore } from "${lib("lib/blob_store/open.ts")}";
import { openMetadataStore } from "${lib("lib/metadata_store/open.ts")}";
import { openResumableUploads } from "${lib("server/resumable_uploads.ts")}";
import { digestOf } from "${lib("lib/digest.ts")}";
const [data] = Deno.args;
const blobs = await openBlobStore({ kind: "fs", root: data + "/blobs" });
const metadata = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
console.log("OPENED");
const bytes = new TextEncoder().encode("bytes that must survive a power cut\\n");
const digest = digestOf(bytes);
await blobs.put(digest, bytes.byteLength, ReadableStream.from([bytes]));
console.log("FIRST " + digest.slice(0, 2));
await blobs.put(digest, bytes.byteLength, ReadableStream.from([bytes]));
console.log("SECOND");
await openResumableUploads({
  dir: data + "/uploads",
  stores: { blobs, metadata },
  expirySeconds: 3600,
  maxUploadBytes: 1 << 30,
});
console.log("UPLOADS");
await blobs[Symbol.asyncDispose]();
await metadata[Symbol.asyncDispose]();
`;

function markAt(calls: Call[], mark: string): number {
  const at = calls.findIndex((call) => call.name === "write" && call.text.includes(`"${mark}`));
  assert.ok(at >= 0, `the trace has the mark ${mark}`);
  return at;
}

/** True when `dir` was made and then its parent synced, both before `before`. */
function madeDurably(calls: Call[], dir: string, parent: string, before: number): boolean {
  const made = calls.findIndex((call) => /^mkdir/.test(call.name) && call.path === dir);
  if (made < 0 || made > before) return false;
  return calls.slice(made + 1, before).some((call) => isSync(call) && call.path === parent);
}

Deno.test({
  name:
    "fs blob store: new directories are synced in their parent, and an EEXIST put waits for the directory sync",
  ignore: ignoreReason !== false,
  async fn() {
    const data = await Deno.realPath(await Deno.makeTempDir({ prefix: "fs-durability-" }));
    try {
      const script = join(data, "script.ts");
      await Deno.writeTextFile(script, SCRIPT);
      const traceFile = join(data, "trace");
      const output = await new Deno.Command("strace", {
        args: [
          "-f",
          "-y",
          "-s",
          "64",
          "-e",
          "trace=fsync,fdatasync,mkdir,mkdirat,write",
          "-o",
          traceFile,
          Deno.execPath(),
          "run",
          "--allow-all",
          "--config",
          lib("deno.json"),
          script,
          data,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      const shard = new TextDecoder().decode(output.stdout).match(/FIRST (\w\w)/)?.[1];
      assert.ok(shard);
      const calls = parseTrace(await Deno.readTextFile(traceFile));
      const blobs = join(data, "blobs");
      const opened = markAt(calls, "OPENED");
      const first = markAt(calls, "FIRST");
      const second = markAt(calls, "SECOND");
      const uploads = markAt(calls, "UPLOADS");
      assert.ok(madeDurably(calls, join(blobs, "packs"), blobs, opened), "packs/ synced in root");
      assert.ok(madeDurably(calls, join(blobs, shard), blobs, first), "shard synced in root");
      assert.ok(
        calls.slice(first + 1, second).some((c) => isSync(c) && c.path === join(blobs, shard)),
        "the put that found its blob published synced the blob's directory before answering",
      );
      assert.ok(madeDurably(calls, join(data, "uploads"), data, uploads), "uploads/ synced");
    } finally {
      await Deno.remove(data, { recursive: true });
    }
  },
});
