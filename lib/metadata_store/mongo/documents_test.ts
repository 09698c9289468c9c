import assert from "node:assert/strict";
import { ObjectId } from "mongodb";
import { digestOf } from "../../digest.ts";
import { AppError } from "../../errors.ts";
import { apiKeyOf, blobOf, fileOf, historyOf, storedFileOf, storedIds } from "./documents.ts";

const created = new Date("2025-01-02T03:04:05.678Z");
const digest = digestOf("bytes");

Deno.test("fileOf() reads a document of the earlier system: ObjectId, no updated_at, extra fields", () => {
  const id = new ObjectId();
  const file = fileOf({
    _id: id,
    filepath: "/a",
    hostname: "h",
    sha256: digest,
    file_size: 5,
    file_mode: 33188,
    file_mtime: 1,
    created_at: created,
    has_file_content: true,
    storage_path: "/var/putplace/files/ab/cd",
  });
  assert.deepEqual(file, {
    id: id.toHexString(),
    hostname: "h",
    filepath: "/a",
    ip_address: "",
    sha256: digest,
    file_size: 5,
    file_mode: 33188,
    file_uid: 0,
    file_gid: 0,
    file_mtime: 1,
    file_atime: 0,
    file_ctime: 0,
    created_at: created.toISOString(),
    updated_at: created.toISOString(),
  });
});

Deno.test("storedFileOf() says whether a file is deleted and keeps the raw id and revision", () => {
  const stored = storedFileOf({
    _id: "legacy-string-id",
    hostname: "h",
    filepath: "/a",
    sha256: digest,
    file_size: 5,
    created_at: created.toISOString(),
    deleted_at: created,
    revision: 3,
  });
  assert.equal(stored.deleted, true);
  assert.equal(stored.rawId, "legacy-string-id");
  assert.equal(stored.revision, 3);
  assert.equal(storedFileOf({ ...stored.file, _id: "x", deleted_at: null }).deleted, false);
});

Deno.test("fileOf() rejects a malformed document as internal, naming it", () => {
  assert.throws(
    () =>
      fileOf({
        _id: "doc-1",
        hostname: "h",
        filepath: "/a",
        sha256: "nope",
        file_size: 1,
        created_at: created,
      }),
    (error: unknown) =>
      error instanceof AppError && error.code === "internal" &&
      /"doc-1".*sha256/.test(error.message),
  );
});

Deno.test("historyOf() lists entries newest first, later pushes first among equal times", () => {
  const at = (iso: string) => new Date(iso);
  const entry = (content: string, replaced: string) => ({
    sha256: digestOf(content),
    file_size: content.length,
    file_mtime: 0,
    replaced_at: at(replaced),
  });
  const history = historyOf({
    history: [
      entry("a", "2026-01-01T00:00:00Z"),
      entry("b", "2026-01-03T00:00:00Z"),
      entry("c", "2026-01-02T00:00:00Z"),
      entry("d", "2026-01-03T00:00:00Z"),
    ],
  });
  assert.deepEqual(history.map((h) => h.sha256), ["d", "b", "c", "a"].map((c) => digestOf(c)));
  assert.deepEqual(historyOf({}), []);
});

Deno.test("apiKeyOf() reads the earlier system's keys: admin scope, is_active false as revoked", () => {
  const used = new Date("2025-02-01T00:00:00.000Z");
  const base = { _id: new ObjectId(), key_hash: digest, name: "k", created_at: created };
  assert.equal(apiKeyOf({ ...base, is_active: true }).scope, "admin");
  assert.equal(apiKeyOf({ ...base, is_active: true }).revoked_at, null);
  assert.equal(apiKeyOf({ ...base, is_active: false }).revoked_at, created.toISOString());
  assert.equal(
    apiKeyOf({ ...base, is_active: false, last_used_at: used }).revoked_at,
    used.toISOString(),
  );
  assert.equal(
    apiKeyOf({ ...base, scope: "read", revoked_at: used, is_active: false }).revoked_at,
    used.toISOString(),
  );
  assert.equal(apiKeyOf({ ...base, scope: "read" }).scope, "read");
});

Deno.test("blobOf() reads a blob document keyed by digest", () => {
  assert.deepEqual(blobOf({ _id: digest, size: 5, stored_at: created }), {
    digest,
    size: 5,
    stored_at: created.toISOString(),
    epoch_file_id: null,
  });
});

Deno.test("storedIds() gives both stored forms of an id, and none for a non-id", () => {
  const id = new ObjectId().toHexString();
  const ids = storedIds(id);
  assert.equal(ids.length, 2);
  assert.ok(ids[0] instanceof ObjectId && ids[0].toHexString() === id);
  assert.equal(ids[1], id);
  assert.deepEqual(storedIds("not an id"), []);
});
