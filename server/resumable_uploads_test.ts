import assert from "node:assert/strict";
import { join } from "node:path";
import { openBlobStore } from "../lib/blob_store/open.ts";
import { digestOf } from "../lib/digest.ts";
import { AppError } from "../lib/errors.ts";
import { partStream } from "./resumable_uploads.ts";

Deno.test("a local read error while handing an upload to the blob store is unavailable (5xx), not the client's early end", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hand-off-" });
  const store = await openBlobStore({ kind: "fs", root: join(dir, "blobs") });
  try {
    // Reading a directory fails (EISDIR): a stand-in for EIO on the upload's part file.
    const unreadable = await Deno.open(dir, { read: true });
    await assert.rejects(
      store.put(digestOf("x"), 1, partStream(unreadable)),
      (error: unknown) => error instanceof AppError && error.code === "unavailable",
    );
    assert.equal(await store.has(digestOf("x")), false);
  } finally {
    await store[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
  }
});
