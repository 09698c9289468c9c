/** Bad input anywhere under /v1 gets a 4xx problem+json answer: never a 500, never internals. */
import assert from "node:assert/strict";
import { appFixture } from "./app_fixture.ts";
import { digestOf } from "../lib/digest.ts";
import { BLOB_BATCH_CONTENT_TYPE } from "../lib/wire/blob_batch.ts";

const DIGEST = digestOf("x");

Deno.test("every /v1 route answers malformed requests with a 4xx problem and logs no internal error", async () => {
  await using f = await appFixture();
  const upload = await (await f.request("/v1/uploads", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ digest: DIGEST, size: 1 }),
  })).json();
  const bodies: (string | null)[] = [
    null,
    "",
    "{",
    "[1,2",
    "\u0000\u0001\u0002",
    '{"files": null}',
    '{"blobs": [{"digest": null, "size": "1"}]}',
    '{"digest": 5, "size": 1e400}',
    '{"hostname": ["a"], "filepaths": "x"}',
    JSON.stringify({ files: [{ sha256: DIGEST, file_size: 1e308, filepath: "a", hostname: "h" }] }),
  ];
  const routes: [string, string, Record<string, string>][] = [
    ["POST", "/v1/files/batch", { "content-type": "application/json" }],
    ["POST", "/v1/files/deleted", { "content-type": "application/json" }],
    ["POST", "/v1/blobs/missing", { "content-type": "application/json" }],
    ["POST", "/v1/uploads", { "content-type": "application/json" }],
    ["POST", "/v1/blobs/batch", { "content-type": BLOB_BATCH_CONTENT_TYPE }],
    ["POST", "/v1/blobs/batch", { "content-type": "text/plain" }],
    ["PUT", `/v1/blobs/${DIGEST}`, {}],
    ["PUT", "/v1/blobs/%00", {}],
    ["PATCH", upload.location, { "upload-offset": "0" }],
    ["PATCH", upload.location, { "upload-offset": "x" }],
    ["PATCH", "/v1/uploads/%2e%2e", { "upload-offset": "0" }],
  ];
  for (const [method, path, headers] of routes) {
    for (const body of bodies) {
      const response = await f.request(path, { method, headers, body });
      const text = await response.text();
      const where = `${method} ${path} with ${JSON.stringify(body)}`;
      if (response.status < 400) continue; // e.g. an empty blob batch is a valid empty batch
      assert.ok(response.status < 500, `${where}: ${response.status} ${text}`);
      assert.match(
        response.headers.get("content-type") ?? "",
        /^application\/problem\+json/,
        where,
      );
      const problem = JSON.parse(text);
      assert.equal(problem.status, response.status, where);
      assert.doesNotMatch(text, /\/tmp\/|\/work\/|at \w+ \(|node_modules|sqlite/i, where);
    }
  }
  for (
    const [path, headers] of [
      [`/v1/blobs/${DIGEST}`, { range: "bytes=-" }],
      [`/v1/blobs/${DIGEST}`, { range: "bytes=99999999999999999999999-1" }],
      [`/v1/blobs/${DIGEST}`, { "if-none-match": "\u00ff" }],
      ["/v1/blobs/missing", {}],
      ["/v1/uploads/", {}],
      ["/v1/uploads/x/y", {}],
    ] as const
  ) {
    const response = await f.request(path, { headers: { ...headers } });
    await response.body?.cancel();
    assert.ok(response.status >= 400 && response.status < 500, `GET ${path}: ${response.status}`);
  }
  assert.deepEqual(f.internalErrors, []);
});

Deno.test("a documented /v1 path asked with a method it lacks is 405 with an Allow header; unknown paths stay 404", async () => {
  await using f = await appFixture();
  const cases: [string, string, string][] = [
    ["DELETE", "/v1/files/batch", "POST"],
    ["POST", `/v1/blobs/${DIGEST}`, "DELETE, GET, HEAD, PUT"],
    ["GET", "/v1/files/batch", "POST"],
    ["PUT", "/v1", "GET, HEAD"],
    ["PATCH", "/v1/openapi.json", "GET, HEAD"],
  ];
  for (const [method, path, allow] of cases) {
    const response = await f.request(path, { method, body: method === "GET" ? undefined : "x" });
    assert.equal(response.status, 405, `${method} ${path}`);
    assert.equal(response.headers.get("allow"), allow, `${method} ${path}`);
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    const body = await response.json();
    assert.equal(body.status, 405);
    assert.match(body.detail, new RegExp(`Method ${method} is not allowed`));
  }
  const unknown = await f.request("/v1/nothing-here", { method: "DELETE" });
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();
  assert.deepEqual(f.internalErrors, []);
});
