/**
 * Concurrent uploads of one content keep one copy, in packs and loose files together: many
 * `POST /v1/blobs/batch` of one small blob racing a `PUT /v1/blobs/{digest}` of it, through
 * a real ppserver process, leave its bytes exactly once under the blob directory.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { digestOf } from "../lib/digest.ts";
import { BLOB_BATCH_CONTENT_TYPE, encodeFrames } from "../lib/wire/blob_batch.ts";
import { bytesOf } from "./file_fixture.ts";
import { startPpserver } from "./_servers/ppserver.ts";

/** How many times `bytes` occur in the files under `dir` (packs and loose blobs). */
async function copiesOf(dir: string, bytes: Uint8Array): Promise<number> {
  let copies = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      copies += await copiesOf(path, bytes);
      continue;
    }
    if (entry.name.startsWith("index.db")) continue;
    const content = Buffer.from(await Deno.readFile(path));
    for (let at = content.indexOf(bytes); at >= 0; at = content.indexOf(bytes, at + 1)) copies++;
  }
  return copies;
}

Deno.test("concurrent batch and single uploads of one content leave one copy of its bytes", async () => {
  await using server = await startPpserver();
  const headers = { "x-api-key": server.adminKey };
  for (let round = 1; round <= 3; round++) {
    const bytes = bytesOf(100, round);
    const digest = digestOf(bytes);
    const batch = encodeFrames([{ digest, bytes }]);
    const requests = [
      ...Array.from({ length: 14 }, () =>
        fetch(`${server.url}/v1/blobs/batch`, {
          method: "POST",
          headers: { ...headers, "content-type": BLOB_BATCH_CONTENT_TYPE },
          body: batch,
        })),
      fetch(`${server.url}/v1/blobs/${digest}`, {
        method: "PUT",
        headers: { ...headers, "content-type": "application/octet-stream" },
        body: bytes,
      }),
    ];
    for (const response of await Promise.all(requests)) {
      const text = await response.text();
      assert.ok(response.ok, `answered ${response.status}: ${text}`);
    }
    assert.equal(await copiesOf(join(server.dataDir, "blobs"), bytes), 1, `round ${round}`);
  }
});
