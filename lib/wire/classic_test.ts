import assert from "node:assert/strict";
import { digestOf } from "../digest.ts";
import { fileMetadataSchema, type FileRecord } from "../models/file.ts";
import type { ApiKeyRecord } from "../models/api_key.ts";
import {
  apiKeyInfo,
  apiKeyInfoSchema,
  fileWire,
  fileWireSchema,
  putFileAnswerSchema,
  putFileResponseSchema,
} from "./classic.ts";

const classic = fileMetadataSchema.parse({
  filepath: "/srv/a.txt",
  hostname: "host-a",
  ip_address: "10.0.0.1",
  sha256: digestOf("hello"),
  file_size: 5,
});

Deno.test("fileWire() shows a record the classic way: _id, no id, has_file_content", () => {
  const record: FileRecord = {
    ...fileMetadataSchema.parse(classic),
    id: "0123456789abcdef01234567",
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-02T00:00:00.000Z",
  };
  const wire = fileWire(record, true);
  assert.equal(wire._id, record.id);
  assert.equal("id" in wire, false);
  assert.equal(wire.has_file_content, true);
  assert.deepEqual(fileWireSchema.parse(wire), wire);
  const response = { ...wire, upload_required: false, upload_url: null };
  assert.deepEqual(putFileResponseSchema.parse(response), response);
});

Deno.test("putFileAnswerSchema reads ppserver's answer and a classic server's minimal one", () => {
  const minimal = { sha256: classic.sha256, upload_required: true };
  assert.deepEqual(putFileAnswerSchema.parse(minimal), minimal);
  assert.equal(putFileAnswerSchema.safeParse({ ...minimal, sha256: "ABC" }).success, false);
});

Deno.test("apiKeyInfo() shows neither the key nor its hash", () => {
  const record: ApiKeyRecord = {
    id: "k1",
    name: "laptop",
    description: null,
    scope: "write",
    key_hash: "f".repeat(64),
    created_at: "2026-01-01T00:00:00.000Z",
    last_used_at: null,
    revoked_at: null,
    hosts: ["laptop-01"],
  };
  const info = apiKeyInfo(record);
  assert.deepEqual(apiKeyInfoSchema.parse(info), info);
  assert.equal(JSON.stringify(info).includes("f".repeat(64)), false);
  assert.equal(info.is_active, true);
});
