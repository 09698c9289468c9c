/**
 * Admin removal: a decommissioned host's records, a content purged (records and blob),
 * each with an audit record listed by GET /v1/audit; admin keys only.
 */
import assert from "node:assert/strict";
import { auditListResponseSchema, auditRecordSchema } from "../lib/wire/v1.ts";
import { digestOf } from "../lib/digest.ts";
import { appFixture, fileAt, json, problem } from "./app_fixture.ts";

async function ok(response: Response, status = 200): Promise<unknown> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return JSON.parse(text);
}

Deno.test("DELETE /v1/hosts/{hostname} removes every record of the host, keeps others and blobs, and is audited", async () => {
  await using f = await appFixture();
  const admin = { headers: { "x-api-key": f.keys.admin } };
  const gone = fileAt("old-host", "/a", "shared");
  await ok(
    await f.request("/v1/files/batch", json({ files: [gone, fileAt("old-host", "/b", "b")] })),
  );
  await ok(
    await f.request("/v1/files/batch", json({ files: [fileAt("kept-host", "/a", "shared")] })),
  );
  await ok(await f.request(`/v1/blobs/${gone.sha256}`, { method: "PUT", body: "shared" }), 201);
  await ok(await f.request("/v1/files/deleted", json({ hostname: "old-host", filepaths: ["/b"] })));

  await problem(await f.request("/v1/hosts/old-host", { method: "DELETE" }), 403);
  const record = auditRecordSchema.parse(
    await ok(await f.request("/v1/hosts/old-host", { method: "DELETE", ...admin })),
  );
  assert.equal(record.action, "host_removed");
  assert.equal(record.subject, "old-host");
  assert.equal(record.files_removed, 2, "the deleted file's record goes too");
  assert.equal(record.key_name, "admin key");
  assert.equal(await f.stores.metadata.files.get("old-host", "/a"), null);
  assert.deepEqual(await f.stores.metadata.files.history("old-host", "/a"), []);
  assert.ok(await f.stores.metadata.files.get("kept-host", "/a"));
  assert.equal(await f.stores.blobs.has(gone.sha256), true, "blobs stay");
  const again = auditRecordSchema.parse(
    await ok(await f.request("/v1/hosts/old-host", { method: "DELETE", ...admin })),
  );
  assert.equal(again.files_removed, 0);
  const listed = auditListResponseSchema.parse(await ok(await f.request("/v1/audit", admin)));
  assert.deepEqual(listed.records.map((r) => r.id), [again.id, record.id], "newest first");
});

Deno.test("DELETE /v1/blobs/{digest} purges a leaked secret: blob, every record and its history, audited", async () => {
  await using f = await appFixture();
  const admin = { headers: { "x-api-key": f.keys.admin } };
  const secret = fileAt("host-a", "/home/a/.aws/credentials", "secret");
  await ok(
    await f.request(
      "/v1/files/batch",
      json({ files: [secret, fileAt("host-b", "/copy", "secret")] }),
    ),
  );
  // A third file held the secret once and was then rewritten: its history names it.
  await ok(
    await f.request("/v1/files/batch", json({ files: [fileAt("host-c", "/was", "secret")] })),
  );
  await ok(
    await f.request("/v1/files/batch", json({ files: [fileAt("host-c", "/was", "clean")] })),
  );
  await ok(await f.request(`/v1/blobs/${secret.sha256}`, { method: "PUT", body: "secret" }), 201);

  await problem(await f.request(`/v1/blobs/${secret.sha256}`, { method: "DELETE" }), 403);
  const record = auditRecordSchema.parse(
    await ok(await f.request(`/v1/blobs/${secret.sha256}`, { method: "DELETE", ...admin })),
  );
  assert.equal(record.action, "blob_purged");
  assert.equal(record.subject, secret.sha256);
  assert.equal(record.files_removed, 2);
  assert.equal(await f.stores.blobs.has(secret.sha256), false);
  assert.equal(await f.stores.metadata.blobs.has(secret.sha256), false);
  await problem(
    await f.request(`/v1/blobs/${secret.sha256}`, { headers: { "x-api-key": f.keys.read } }),
    404,
  );
  assert.equal(await f.stores.metadata.files.get("host-a", secret.filepath), null);
  assert.equal(await f.stores.metadata.files.get("host-b", "/copy"), null);
  const rewritten = await f.stores.metadata.files.get("host-c", "/was");
  assert.equal(rewritten?.sha256, digestOf("clean"), "a file that moved on stays");
  assert.deepEqual(await f.stores.metadata.files.history("host-c", "/was"), []);
  await problem(await f.request("/v1/blobs/NOTADIGEST", { method: "DELETE", ...admin }), 400);
  const listed = auditListResponseSchema.parse(
    await ok(await f.request("/v1/audit?limit=1", admin)),
  );
  assert.deepEqual(listed.records.map((r) => r.id), [record.id]);
  await problem(await f.request("/v1/audit?limit=0", admin), 422);
  await problem(await f.request("/v1/audit", { headers: { "x-api-key": f.keys.write } }), 403);
});
