import assert from "node:assert/strict";
import type { Stores } from "../lib/dedup.ts";
import { parseDigest } from "../lib/digest.ts";
import { AppError } from "../lib/errors.ts";
import { publishBlobOutcome, publishGroupCommit } from "../lib/store_channels.ts";
import { openBlobStore } from "../lib/blob_store/open.ts";
import { openMetadataStore } from "../lib/metadata_store/open.ts";
import { createServerMetrics } from "./metrics.ts";

function value(text: string, line: RegExp): number {
  const found = text.split("\n").find((l) => line.test(l));
  return found === undefined ? NaN : Number(found.split(" ").at(-1));
}

Deno.test("countStoreErrors() counts failed store calls by store and operation, not client errors", async () => {
  using metrics = createServerMetrics();
  const root = await Deno.makeTempDir({ prefix: "metrics-" });
  await using metadata = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  await using blobs = await openBlobStore({ kind: "fs", root });
  const stores: Stores = metrics.countStoreErrors({ metadata, blobs });
  // A digest mismatch is the client's error: not counted.
  await assert.rejects(
    stores.blobs.put(parseDigest("0".repeat(64)), 3, ReadableStream.from([new Uint8Array(3)])),
    (error: unknown) => error instanceof AppError && error.status < 500,
  );
  // A closed database fails every call: counted, by operation.
  await metadata[Symbol.asyncDispose]();
  await assert.rejects(stores.metadata.apiKeys.count());
  await assert.rejects(stores.metadata.apiKeys.count());
  const { body } = await metrics.render();
  assert.equal(
    value(body, /^putplace_store_errors_total\{store="metadata",operation="apiKeys\.count"\}/),
    2,
  );
  assert.ok(!/store="blob"/.test(body), "the refused put is not a store error");
  await Deno.remove(root, { recursive: true });
});

Deno.test("blob outcomes and group commits published by the stores are counted", async () => {
  using metrics = createServerMetrics();
  publishBlobOutcome({ outcome: "stored", bytes: 100 });
  publishBlobOutcome({ outcome: "deduplicated", bytes: 40 });
  publishGroupCommit({ store: "sqlite", size: 3 });
  const { body } = await metrics.render();
  assert.equal(value(body, /^putplace_blobs_total\{outcome="stored"\}/), 1);
  assert.equal(value(body, /^putplace_blob_bytes_total\{outcome="deduplicated"\}/), 40);
  assert.equal(value(body, /^putplace_group_commit_batch_size_sum\{store="sqlite"\}/), 3);
});
