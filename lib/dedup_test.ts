/**
 * The domain operations against real stores: SQLite `:memory:` and an fs blob store in a
 * temp directory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Digest, digestOf, EMPTY_DIGEST } from "./digest.ts";
import { AppError } from "./errors.ts";
import type { FileMetadata } from "./models/file.ts";
import { openMetadataStore } from "./metadata_store/open.ts";
import { openBlobStore } from "./blob_store/open.ts";
import {
  adoptBlobByDigest,
  dedupStats,
  firstFileWithDigest,
  isStored,
  missingBlobs,
  readBlob,
  registerFile,
  registerFiles,
  reportDeleted,
  storeBlob,
  storeBlobByDigest,
  storeBlobs,
  storedSize,
  uploadTarget,
} from "./dedup.ts";

const T1 = new Date("2026-01-01T00:00:00.000Z");
const T2 = new Date("2026-01-02T00:00:00.000Z");
const encoder = new TextEncoder();

async function stores() {
  const dir = await Deno.makeTempDir({ prefix: "dedup-test-" });
  const metadata = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  const blobs = await openBlobStore({ kind: "fs", root: join(dir, "blobs") });
  return {
    metadata,
    blobs,
    dir,
    async [Symbol.asyncDispose]() {
      await blobs[Symbol.asyncDispose]();
      await metadata[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function file(hostname: string, filepath: string, content: string): FileMetadata {
  const bytes = encoder.encode(content);
  return {
    hostname,
    filepath,
    ip_address: "10.0.0.1",
    sha256: digestOf(bytes),
    file_size: bytes.byteLength,
    file_mode: 0o100644,
    file_uid: 0,
    file_gid: 0,
    file_mtime: 1,
    file_atime: 1,
    file_ctime: 1,
  };
}

function streamOf(text: string): ReadableStream<Uint8Array> {
  return new Blob([text]).stream();
}

async function text(body: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(body).text();
}

function isCode(code: AppError["code"]) {
  return (error: unknown) => error instanceof AppError && error.code === code;
}

Deno.test("registerFiles() asks for the bytes of new content once stored nowhere, never for empty files", async () => {
  await using s = await stores();
  const results = await registerFiles(s, [
    file("a", "/x", "hello"),
    file("b", "/y", "hello"),
    file("a", "/empty", ""),
  ], T1);
  assert.deepEqual(results.map((r) => [r.outcome, r.uploadRequired]), [
    ["created", true],
    ["created", true],
    ["created", false],
  ]);
  assert.equal(results[2].file.sha256, EMPTY_DIGEST);
  assert.equal((await registerFile(s, file("a", "/x", "hello"), T2)).outcome, "unchanged");
});

Deno.test("storeBlob() publishes verified bytes and indexes them with the epoch file", async () => {
  await using s = await stores();
  const { file: epoch } = await registerFile(s, file("a", "/x", "hello"), T1);
  const result = await storeBlob(s, epoch.sha256, streamOf("hello"), { size: 5, epochFile: epoch });
  assert.deepEqual(result, { created: true, size: 5 });
  assert.equal(await isStored(s, epoch.sha256), true);
  assert.equal((await s.metadata.blobs.get(epoch.sha256))?.epoch_file_id, epoch.id);
  assert.deepEqual(await missingBlobs(s, [epoch.sha256, digestOf("other")]), [digestOf("other")]);
  assert.equal((await registerFile(s, file("b", "/y", "hello"), T2)).uploadRequired, false);
});

Deno.test("storeBlob() refuses bytes that do not hash to the digest and stores nothing", async () => {
  await using s = await stores();
  const digest = digestOf("hello");
  await assert.rejects(storeBlob(s, digest, streamOf("HELLO")), isCode("digest_mismatch"));
  await assert.rejects(
    storeBlob(s, digest, streamOf("hello"), { size: 6 }),
    isCode("invalid_input"),
  );
  assert.equal(await isStored(s, digest), false);
  assert.equal(await s.blobs.has(digest), false);
});

Deno.test("storeBlob() of a stored blob verifies the bytes but rewrites nothing", async () => {
  await using s = await stores();
  const digest = digestOf("hello");
  await storeBlob(s, digest, streamOf("hello"));
  assert.deepEqual(await storeBlob(s, digest, streamOf("hello")), { created: false, size: 5 });
  await assert.rejects(storeBlob(s, digest, streamOf("jello")), isCode("digest_mismatch"));
  assert.equal(await text((await readBlob(s, digest))!.body), "hello");
});

Deno.test("storeBlob() writes a blob again when it is indexed but gone from the blob store", async () => {
  await using s = await stores();
  const digest = digestOf("hello");
  await storeBlob(s, digest, streamOf("hello"));
  await s.blobs.delete(digest);
  assert.deepEqual(await storeBlob(s, digest, streamOf("hello")), { created: true, size: 5 });
  assert.equal(await s.blobs.has(digest), true);
});

Deno.test("uploadTarget() finds the registered file with that digest, else not_found", async () => {
  await using s = await stores();
  const { file: registered } = await registerFile(s, file("a", "/x", "hello"), T1);
  const target = await uploadTarget(s, {
    hostname: "a",
    filepath: "/x",
    digest: registered.sha256,
  });
  assert.equal(target.id, registered.id);
  await assert.rejects(
    uploadTarget(s, { hostname: "a", filepath: "/x", digest: digestOf("other") }),
    isCode("not_found"),
  );
  await assert.rejects(
    uploadTarget(s, { hostname: "b", filepath: "/x", digest: registered.sha256 }),
    isCode("not_found"),
  );
});

Deno.test("storedSize() and readBlob() give a held blob's size and bytes, ranges included", async () => {
  await using s = await stores();
  const digest = digestOf("hello world");
  assert.equal(await storedSize(s, digest), null);
  assert.equal(await storedSize(s, EMPTY_DIGEST), 0);
  await storeBlob(s, digest, streamOf("hello world"));
  assert.equal(await storedSize(s, digest), 11);
  assert.equal(await text((await readBlob(s, digest, { start: 6, end: 10 }))!.body), "world");
  assert.equal(await readBlob(s, digestOf("absent")), null);
});

Deno.test("reportDeleted() marks live files of one host, skipping unknown and repeated paths", async () => {
  await using s = await stores();
  await registerFiles(s, [file("a", "/x", "1"), file("a", "/y", "2"), file("b", "/x", "3")], T1);
  assert.equal(await reportDeleted(s, "a", ["/x", "/x", "/nope"], T2), 1);
  assert.equal(await s.metadata.files.get("a", "/x"), null);
  assert.ok(await s.metadata.files.get("b", "/x"), "another host's file of that path stays");
  assert.equal(await reportDeleted(s, "a", ["/x"], T2), 0);
});

Deno.test("firstFileWithDigest() shows the epoch file while it is live, else the oldest live file", async () => {
  await using s = await stores();
  const { file: first } = await registerFile(s, file("a", "/x", "same"), T1);
  const { file: second } = await registerFile(s, file("b", "/y", "same"), T2);
  await storeBlob(s, second.sha256, streamOf("same"), { size: 4, epochFile: second });
  assert.equal((await firstFileWithDigest(s, second.sha256))?.id, second.id);
  await reportDeleted(s, "b", ["/y"], T2);
  assert.equal((await firstFileWithDigest(s, second.sha256))?.id, first.id);
  await reportDeleted(s, "a", ["/x"], T2);
  assert.equal(await firstFileWithDigest(s, second.sha256), null);
});

Deno.test("storeBlobByDigest() records the oldest live file with the digest as the epoch file", async () => {
  await using s = await stores();
  const { file: oldest } = await registerFile(s, file("a", "/x", "same"), T1);
  await registerFile(s, file("b", "/y", "same"), T2);
  const digest = oldest.sha256;
  assert.deepEqual(await storeBlobByDigest(s, digest, streamOf("same")), {
    created: true,
    size: 4,
  });
  assert.equal((await s.metadata.blobs.get(digest))?.epoch_file_id, oldest.id);
  const orphan = digestOf("nobody has me");
  await storeBlobByDigest(s, orphan, streamOf("nobody has me"));
  assert.equal((await s.metadata.blobs.get(orphan))?.epoch_file_id, null);
});

Deno.test("storeBlobs() answers each blob in order: stored, already stored, mismatch, empty", async () => {
  await using s = await stores();
  const blob = (content: string, digest?: Digest) => {
    const bytes = encoder.encode(content);
    return { digest: digest ?? digestOf(bytes), bytes };
  };
  await storeBlob(s, digestOf("old"), streamOf("old"));
  const results = await storeBlobs(s, [
    blob("new"),
    blob("old"),
    blob("liar", digestOf("truth")),
    blob(""),
    blob("x", EMPTY_DIGEST),
  ], T1);
  assert.deepEqual(results[0], { created: true, size: 3 });
  assert.deepEqual(results[1], { created: false, size: 3 });
  assert.ok("error" in results[2] && results[2].error.code === "digest_mismatch");
  assert.deepEqual(results[3], { created: false, size: 0 });
  assert.ok("error" in results[4] && results[4].error.code === "digest_mismatch");
  assert.equal(await isStored(s, digestOf("new")), true);
  assert.equal(await isStored(s, digestOf("truth")), false);
});

Deno.test("adoptBlobByDigest() publishes a verified file without copying it, and indexes it", async () => {
  await using s = await stores();
  const path = join(s.dir, "verified.bin");
  await Deno.writeTextFile(path, "adopt me");
  const digest = digestOf("adopt me");
  const result = await adoptBlobByDigest(s, digest, 8, path);
  // The file is in the blob store's own directory tree, so the fs store can adopt it.
  assert.deepEqual(result, { created: true, size: 8 });
  assert.equal(await isStored(s, digest), true);
  assert.equal(await text((await readBlob(s, digest))!.body), "adopt me");
});

Deno.test("dedupStats() counts live files, distinct digests, stored bytes and the bytes dedup saves", async () => {
  await using s = await stores();
  await registerFiles(s, [
    file("a", "/1", "twelve bytes"),
    file("b", "/2", "twelve bytes"),
    file("c", "/3", "four"),
  ], T1);
  await storeBlob(s, digestOf("twelve bytes"), streamOf("twelve bytes"));
  assert.deepEqual(await dedupStats(s), {
    files: 3,
    distinct_digests: 2,
    stored_blobs: 1,
    stored_bytes: 12n,
    logical_bytes: 28n,
    dedup_saved_bytes: 12n,
  });
});
