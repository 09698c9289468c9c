/**
 * Keys bound to hosts: a write key limited to host names (exact or glob) may register,
 * report deleted and upload only for those hosts; everything else is 403 and changes
 * nothing. The limits are set at creation and shown in key listings.
 */
import assert from "node:assert/strict";
import { BLOB_BATCH_CONTENT_TYPE, encodeFrames } from "../lib/wire/blob_batch.ts";
import { apiKeyCreatedSchema, apiKeyInfoSchema } from "../lib/wire/classic.ts";
import { digestOf } from "../lib/digest.ts";
import { type AppFixture, appFixture, fileAt, json, problem } from "./app_fixture.ts";

const encoder = new TextEncoder();

async function boundKey(f: AppFixture, hosts: string[]): Promise<string> {
  const response = await f.request(
    "/api_keys",
    json({ name: "laptop", scope: "write", hosts }, { headers: { "x-api-key": f.keys.admin } }),
  );
  assert.equal(response.status, 201, await response.clone().text());
  const created = apiKeyCreatedSchema.parse(await response.json());
  assert.deepEqual(created.hosts, hosts);
  return created.api_key;
}

async function ok(response: Response, status = 200): Promise<void> {
  assert.equal(response.status, status, await response.clone().text());
  await response.body?.cancel();
}

Deno.test("host limits are set at creation, shown in listings, and only for write keys", async () => {
  await using f = await appFixture();
  const admin = { headers: { "x-api-key": f.keys.admin } };
  const bound = await boundKey(f, ["laptop-01", "build-*"]);
  const whoami = await f.request("/v1/whoami", { headers: { "x-api-key": bound } });
  assert.deepEqual((await whoami.json()).hosts, ["laptop-01", "build-*"]);
  const listed = apiKeyInfoSchema.array().parse(await (await f.request("/api_keys", admin)).json());
  assert.deepEqual(listed.map((k) => [k.name, k.hosts]), [
    ["read key", null],
    ["write key", null],
    ["admin key", null],
    ["laptop", ["laptop-01", "build-*"]],
  ]);
  for (
    const body of [
      { name: "r", scope: "read", hosts: ["h"] },
      { name: "a", scope: "admin", hosts: ["h"] },
      { name: "w", scope: "write", hosts: [] },
      { name: "w", scope: "write", hosts: ["two words"] },
    ]
  ) {
    const refused = await problem(await f.request("/api_keys", json(body, admin)), 422);
    assert.match(refused.detail, /at "hosts(\.0)?"/);
  }
});

Deno.test("a host-bound key registers and reports deletions only for its hosts (403 otherwise, nothing changed)", async () => {
  await using f = await appFixture();
  const key = { headers: { "x-api-key": await boundKey(f, ["laptop-01", "build-*"]) } };
  await ok(await f.request("/put_file", json(fileAt("laptop-01", "/a"), key)), 201);
  await ok(await f.request("/put_file", json(fileAt("build-7", "/a"), key)), 201);
  // Another host's file, registered with an unbound key.
  await ok(await f.request("/put_file", json(fileAt("db-1", "/a"))), 201);

  const foreign = await problem(await f.request("/put_file", json(fileAt("db-1", "/b"), key)), 403);
  assert.match(foreign.detail, /hosts "laptop-01", "build-\*" only, not of host "db-1"/);
  await problem(await f.request("/put_file", json(fileAt("laptop-011", "/b"), key)), 403);
  const batch = { files: [fileAt("laptop-01", "/c"), fileAt("db-1", "/c")] };
  await problem(await f.request("/v1/files/batch", json(batch, key)), 403);
  assert.equal(await f.stores.metadata.files.get("laptop-01", "/c"), null, "no part of the batch");
  await problem(
    await f.request("/v1/files/deleted", json({ hostname: "db-1", filepaths: ["/a"] }, key)),
    403,
  );
  assert.ok(await f.stores.metadata.files.get("db-1", "/a"), "db-1's file is still live");
  await problem(await f.request("/v1/hosts/db-1/complete-scan", { method: "POST", ...key }), 403);
  await ok(await f.request("/v1/hosts/laptop-01/complete-scan", { method: "POST", ...key }), 204);

  await ok(await f.request("/v1/files/batch", json({ files: [fileAt("build-x", "/d")] }, key)));
  await ok(
    await f.request("/v1/files/deleted", json({ hostname: "laptop-01", filepaths: ["/a"] }, key)),
  );
  assert.equal(await f.stores.metadata.files.get("laptop-01", "/a"), null);
});

Deno.test("a host-bound key uploads only blobs its hosts registered (403 otherwise, nothing stored)", async () => {
  await using f = await appFixture();
  const keyValue = await boundKey(f, ["laptop-01"]);
  const key = { "x-api-key": keyValue };
  const own = fileAt("laptop-01", "/own", "own bytes");
  const other = fileAt("db-1", "/other", "other bytes");
  await ok(await f.request("/put_file", json(own, { headers: key })), 201);
  await ok(await f.request("/put_file", json(other)), 201);

  const classic = (file: typeof own, content: string) =>
    f.request(
      `/upload_file/${file.sha256}?hostname=${file.hostname}&filepath=${file.filepath}`,
      {
        method: "POST",
        headers: { ...key, "content-type": "application/octet-stream" },
        body: content,
      },
    );
  await problem(await classic(other, "other bytes"), 403);
  const put = (digest: string, content: string) =>
    f.request(`/v1/blobs/${digest}`, { method: "PUT", headers: key, body: content });
  await problem(await put(other.sha256, "other bytes"), 403);
  await problem(await put(digestOf("nobody's"), "nobody's"), 403);
  const frames = encodeFrames([
    { digest: own.sha256, bytes: encoder.encode("own bytes") },
    { digest: other.sha256, bytes: encoder.encode("other bytes") },
  ]);
  await problem(
    await f.request("/v1/blobs/batch", {
      method: "POST",
      headers: { ...key, "content-type": BLOB_BATCH_CONTENT_TYPE },
      body: frames,
    }),
    403,
  );
  await problem(
    await f.request("/v1/uploads", json({ digest: other.sha256, size: 11 }, { headers: key })),
    403,
  );
  assert.equal(await f.stores.blobs.has(own.sha256), false, "no blob of the refused batch");
  assert.equal(await f.stores.blobs.has(other.sha256), false);

  await ok(await classic(own, "own bytes"));
  assert.equal(await f.stores.blobs.has(own.sha256), true);
  await ok(await put(own.sha256, "own bytes"));
});
