/** `GET /v1` (capabilities) and `GET /v1/openapi.json` on the real app. */
import assert from "node:assert/strict";
import { appFixture, fileAt, json, problem } from "./app_fixture.ts";
import { DEFAULT_LIMITS } from "../server/limits.ts";
import { digestOf } from "../lib/digest.ts";

const ALL_FEATURES = [
  "files.batch",
  "files.deleted",
  "blobs.missing",
  "blobs.put",
  "blobs.get",
  "blobs.batch",
  "uploads.resumable",
  "stats",
  "whoami",
  "inventory.queries",
  "hosts.complete_scan",
  "admin.removal",
  "audit",
];

Deno.test("GET /v1 answers without a key: API version, features and the configured limits", async () => {
  await using f = await appFixture({ limits: { maxBatchFiles: 500 }, expirySeconds: 7200 });
  const response = await f.app.request("/v1");
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.api, "putplace");
  assert.equal(body.api_version, 1);
  assert.equal(body.server_version, "0.0.0-test");
  assert.deepEqual([...body.features].sort(), [...ALL_FEATURES].sort());
  assert.deepEqual(body.limits, {
    json_bytes: DEFAULT_LIMITS.maxJsonBytes,
    upload_bytes: DEFAULT_LIMITS.maxUploadBytes,
    batch_files: 500,
    batch_items: 10_000,
    batch_bytes: 4 * 1024 * 1024,
    blob_batch_bytes: 16 * 1024 * 1024,
    blob_batch_blob_bytes: 1024 * 1024,
    blob_batch_count: 10_000,
  });
  assert.equal(body.upload_expiry_seconds, 7200);
  assert.equal(body.blob_batch_content_type, "application/vnd.putplace.blob-batch");
  assert.equal(body.openapi, "/v1/openapi.json");
});

Deno.test("an app built without resumable uploads neither announces nor serves them", async () => {
  await using f = await appFixture({ resumable: false });
  const app = f.app;
  const body = await (await app.request("/v1")).json();
  assert.equal(body.features.includes("uploads.resumable"), false);
  assert.equal(body.upload_expiry_seconds, null);
  await problem(
    await app.request("/v1/uploads", json({ digest: digestOf("x"), size: 1 })),
    404,
  );
  const doc = await (await app.request("/v1/openapi.json")).json();
  assert.equal(doc.paths["/v1/uploads"], undefined);
});

Deno.test("GET /v1/openapi.json is an OpenAPI 3.1 document with unique operation ids", async () => {
  await using f = await appFixture();
  const response = await f.app.request("/v1/openapi.json");
  assert.equal(response.status, 200);
  const doc = await response.json();
  assert.equal(doc.openapi, "3.1.0");
  assert.equal(doc.info.version, "0.0.0-test");
  assert.deepEqual(doc.components.securitySchemes.ApiKey, {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
  });
  const ids: string[] = [];
  for (const [path, item] of Object.entries<Record<string, Record<string, unknown>>>(doc.paths)) {
    assert.match(path, /^\/v1(\/|$)/);
    for (const [method, operation] of Object.entries(item)) {
      ids.push(String(operation.operationId));
      assert.ok(Object.keys(operation.responses as object).length > 0, `${method} ${path}`);
      const open = path === "/v1" || path === "/v1/openapi.json";
      assert.deepEqual(operation.security, open ? [] : [{ ApiKey: [] }], `${method} ${path}`);
    }
  }
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test("every /v1 route is documented and every documented operation is routed", async () => {
  await using f = await appFixture();
  const doc = await (await f.app.request("/v1/openapi.json")).json();
  const documented = new Set<string>();
  for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
    for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`);
  }
  const routed = new Set(
    f.app.routes
      .filter((r) => r.method !== "ALL" && r.path.startsWith("/v1"))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
  );
  for (const route of routed) assert.ok(documented.has(route), `${route} is documented`);
  for (const operation of documented) {
    const [method, path] = operation.split(" ");
    if (method === "HEAD") {
      assert.ok(routed.has(`GET ${path}`), `${operation} is served by its GET`);
      continue;
    }
    assert.ok(routed.has(operation), `${operation} is routed`);
    // Routed for real: without a key the answer is 401 (or 200 for open routes), never 404.
    const url = path.replace("{digest}", digestOf("x")).replace("{id}", "0".repeat(32));
    const response = await f.app.request(url, { method });
    assert.ok([200, 401].includes(response.status), `${operation}: ${response.status}`);
    await response.body?.cancel();
  }
});

Deno.test("the OpenAPI request schemas are the ones that validate: caps and fields match the routes", async () => {
  await using f = await appFixture({ limits: { maxBatchFiles: 7, maxBatchItems: 9 } });
  const doc = await (await f.app.request("/v1/openapi.json")).json();
  const body = (path: string) =>
    doc.paths[path].post.requestBody.content["application/json"].schema;
  const batch = body("/v1/files/batch");
  assert.equal(batch.properties.files.maxItems, 7);
  assert.deepEqual(batch.properties.files.items.required.sort(), [
    "file_size",
    "filepath",
    "hostname",
    "sha256",
  ]);
  assert.equal(batch.properties.files.items.properties.sha256.pattern, "^[0-9a-f]{64}$");
  assert.equal(body("/v1/blobs/missing").properties.blobs.maxItems, 9);
  assert.equal(body("/v1/files/deleted").properties.filepaths.maxItems, 9);
  assert.deepEqual(body("/v1/uploads").required.sort(), ["digest", "size"]);
  // And the routes enforce exactly those caps.
  const files = Array.from({ length: 8 }, (_, i) => fileAt("h", `/${i}`, `${i}`));
  await problem(await f.request("/v1/files/batch", json({ files })), 413);
  assert.equal((await f.request("/v1/files/batch", json({ files: files.slice(1) }))).status, 200);
  const blobs = Array.from({ length: 10 }, (_, i) => ({ digest: digestOf(`${i}`), size: 1 }));
  await problem(await f.request("/v1/blobs/missing", json({ blobs })), 413);
  const ranged = doc.paths["/v1/blobs/{digest}"].get;
  assert.deepEqual(Object.keys(ranged.responses).sort(), [
    "200",
    "206",
    "304",
    "400",
    "401",
    "403",
    "404",
    "416",
  ]);
  assert.equal(
    doc.paths["/v1/files/batch"].post.responses["413"].content["application/problem+json"].schema
      .required.includes("detail"),
    true,
  );
});
