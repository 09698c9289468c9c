import assert from "node:assert/strict";
import { digestOf, EMPTY_DIGEST } from "../digest.ts";
import { fileMetadataSchema } from "./file.ts";

const classic = {
  filepath: "/srv/a.txt",
  hostname: "host-a",
  ip_address: "10.0.0.1",
  sha256: digestOf("hello"),
  file_size: 5,
  file_mode: 0o100644,
  file_uid: 1000,
  file_gid: 1000,
  file_mtime: 1_700_000_000.5,
  file_atime: 1_700_000_001.5,
  file_ctime: 1_700_000_002.5,
};

Deno.test("fileMetadataSchema accepts the classic put_file body as is", () => {
  assert.deepEqual(fileMetadataSchema.parse(classic), classic);
});

Deno.test("fileMetadataSchema strips server-managed fields a client sends", () => {
  const parsed = fileMetadataSchema.parse({
    ...classic,
    has_file_content: true,
    storage_path: "/etc/passwd",
    created_at: "1999-01-01",
    _id: "x",
  });
  assert.deepEqual(parsed, classic);
});

Deno.test("fileMetadataSchema fills stat defaults when only the essentials are sent", () => {
  const parsed = fileMetadataSchema.parse({
    filepath: "/f",
    hostname: "h",
    sha256: digestOf("x"),
    file_size: 1,
  });
  assert.deepEqual(parsed, {
    filepath: "/f",
    hostname: "h",
    ip_address: "",
    sha256: digestOf("x"),
    file_size: 1,
    file_mode: 0,
    file_uid: 0,
    file_gid: 0,
    file_mtime: 0,
    file_atime: 0,
    file_ctime: 0,
  });
});

Deno.test("fileMetadataSchema rejects bad values, naming the field", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["sha256", { sha256: classic.sha256.toUpperCase() }],
    ["sha256", { sha256: classic.sha256.slice(1) }],
    ["file_size", { file_size: -1 }],
    ["file_size", { file_size: 0.5 }],
    ["file_size", { file_size: Number.MAX_SAFE_INTEGER + 1 }],
    ["file_mode", { file_mode: -1 }],
    ["file_mtime", { file_mtime: Infinity }],
    ["file_mtime", { file_mtime: NaN }],
    ["filepath", { filepath: "" }],
    ["filepath", { filepath: "/a\0b" }],
    ["filepath", { filepath: `/${"p".repeat(4096)}` }],
    ["hostname", { hostname: "" }],
    ["hostname", { hostname: "h\0" }],
    ["ip_address", { ip_address: "x".repeat(65) }],
  ];
  for (const [field, change] of cases) {
    const result = fileMetadataSchema.safeParse({ ...classic, ...change });
    assert.equal(result.success, false, JSON.stringify(change));
    assert.deepEqual(result.error?.issues[0].path, [field]);
  }
});

Deno.test("fileMetadataSchema accepts negative and fractional times (files from before 1970)", () => {
  const parsed = fileMetadataSchema.parse({ ...classic, file_mtime: -1.25, file_ctime: 0 });
  assert.equal(parsed.file_mtime, -1.25);
});

Deno.test("fileMetadataSchema ties the empty digest to a size of 0 bytes, both ways", () => {
  assert.equal(
    fileMetadataSchema.safeParse({ ...classic, sha256: EMPTY_DIGEST, file_size: 0 }).success,
    true,
  );
  for (const change of [{ file_size: 0 }, { sha256: EMPTY_DIGEST }]) {
    const result = fileMetadataSchema.safeParse({ ...classic, ...change });
    assert.equal(result.success, false, JSON.stringify(change));
    assert.deepEqual(result.error?.issues[0].path, ["sha256"]);
  }
});
