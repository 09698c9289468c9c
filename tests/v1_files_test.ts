/** /v1 file routes on the real app: batch registration and the deletion report. */
import assert from "node:assert/strict";
import { appFixture, fileAt, json, problem } from "./app_fixture.ts";
import { digestOf, EMPTY_DIGEST } from "../lib/digest.ts";

Deno.test("POST /v1/files/batch registers every file and answers each in order", async () => {
  await using f = await appFixture();
  const files = [fileAt("h", "/a", "alpha"), fileAt("h", "/b", "beta"), fileAt("g", "/a", "alpha")];
  const response = await f.request("/v1/files/batch", json({ files }));
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.deepEqual(body.results.map((r: { index: number }) => r.index), [0, 1, 2]);
  assert.deepEqual(body.results.map((r: { outcome: string }) => r.outcome), [
    "created",
    "created",
    "created",
  ]);
  assert.deepEqual(body.counts, { created: 3, updated: 0, unchanged: 0, invalid: 0 });
  for (const [i, result] of body.results.entries()) {
    assert.equal(result.sha256, files[i].sha256);
    assert.equal(result.upload_required, true);
    assert.match(result._id, /^[0-9a-f]{24}$/);
    assert.equal(
      (await f.stores.metadata.files.get(files[i].hostname, files[i].filepath))?.id,
      result._id,
    );
  }
  assert.deepEqual(body.missing, [digestOf("alpha"), digestOf("beta")], "each digest once");
});

Deno.test("POST /v1/files/batch answers unchanged on a rescan and updated on new bytes", async () => {
  await using f = await appFixture();
  const a = fileAt("h", "/a", "v1");
  await f.request("/v1/files/batch", json({ files: [a, fileAt("h", "/b", "b")] }));
  const response = await f.request(
    "/v1/files/batch",
    json({ files: [a, fileAt("h", "/b", "b changed")] }),
  );
  const body = await response.json();
  assert.deepEqual(body.results.map((r: { outcome: string }) => r.outcome), [
    "unchanged",
    "updated",
  ]);
  assert.deepEqual(body.counts, { created: 0, updated: 1, unchanged: 1, invalid: 0 });
});

Deno.test("POST /v1/files/batch leaves stored and empty blobs out of missing", async () => {
  await using f = await appFixture();
  const put = await f.request(`/v1/blobs/${digestOf("stored")}`, { method: "PUT", body: "stored" });
  assert.equal(put.status, 201);
  const body = await (await f.request(
    "/v1/files/batch",
    json({ files: [fileAt("h", "/s", "stored"), fileAt("h", "/e", ""), fileAt("h", "/n", "new")] }),
  )).json();
  assert.deepEqual(body.results.map((r: { upload_required: boolean }) => r.upload_required), [
    false,
    false,
    true,
  ]);
  assert.equal(body.results[1].sha256, EMPTY_DIGEST);
  assert.deepEqual(body.missing, [digestOf("new")]);
});

Deno.test("POST /v1/files/batch registers the valid files of a batch with invalid items and reports those per item", async () => {
  await using f = await appFixture();
  const good = fileAt("h", "/good", "good");
  const files = [
    good,
    { ...fileAt("h", "/bad-digest", "x"), sha256: "NOT-A-DIGEST" },
    42,
    { ...fileAt("h", "/negative", "x"), file_size: -1 },
    fileAt("h", "/also-good", "also"),
  ];
  const response = await f.request("/v1/files/batch", json({ files }));
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.deepEqual(body.results.map((r: { outcome: string }) => r.outcome), [
    "created",
    "invalid",
    "invalid",
    "invalid",
    "created",
  ]);
  assert.deepEqual(body.counts, { created: 2, updated: 0, unchanged: 0, invalid: 3 });
  assert.equal(body.results[1].errors[0].path, "sha256");
  assert.match(body.results[1].message, /^Invalid file at "sha256": /);
  assert.equal(body.results[2].errors[0].path, "");
  assert.equal(body.results[3].errors[0].path, "file_size");
  assert.equal(await f.stores.metadata.files.count(), 2);
  assert.equal((await f.stores.metadata.files.get("h", "/also-good"))?.sha256, digestOf("also"));
  assert.deepEqual(body.missing, [digestOf("good"), digestOf("also")]);
});

Deno.test("POST /v1/files/batch with only invalid items registers nothing and still answers 200", async () => {
  await using f = await appFixture();
  const response = await f.request("/v1/files/batch", json({ files: [{}, { filepath: "" }] }));
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.deepEqual(body.counts, { created: 0, updated: 0, unchanged: 0, invalid: 2 });
  assert.deepEqual(body.missing, []);
});

Deno.test("POST /v1/files/batch accepts exactly the cap and refuses one file more with 413", async () => {
  await using f = await appFixture();
  const files = Array.from({ length: 1001 }, (_, i) => fileAt("h", `/f${i}`, `content ${i}`));
  const ok = await f.request("/v1/files/batch", json({ files: files.slice(0, 1000) }));
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).counts.created, 1000);
  const over = await problem(await f.request("/v1/files/batch", json({ files })), 413);
  assert.match(over.detail, /at most 1000/);
  assert.equal(await f.stores.metadata.files.count(), 1000, "nothing of the refused batch");
});

Deno.test("POST /v1/files/batch honours configured caps, including over-cap batches with invalid items", async () => {
  await using f = await appFixture({ limits: { maxBatchFiles: 2 } });
  const files = [fileAt("h", "/a", "a"), {}, fileAt("h", "/c", "c")];
  await problem(await f.request("/v1/files/batch", json({ files })), 413);
  assert.equal(await f.stores.metadata.files.count(), 0);
});

Deno.test("POST /v1/files/batch refuses a body over the byte cap with 413, by header or by stream", async () => {
  await using f = await appFixture({ limits: { maxBatchBytes: 4096 } });
  const files = Array.from(
    { length: 40 },
    (_, i) => fileAt("h", `/${"p".repeat(100)}${i}`, `${i}`),
  );
  await problem(await f.request("/v1/files/batch", json({ files })), 413);
  const text = new TextEncoder().encode(JSON.stringify({ files }));
  const streamed = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < text.byteLength; i += 1000) controller.enqueue(text.slice(i, i + 1000));
      controller.close();
    },
  });
  await problem(
    await f.request("/v1/files/batch", { method: "POST", body: streamed }),
    413,
  );
  assert.equal(await f.stores.metadata.files.count(), 0);
});

Deno.test("POST /v1/files/batch refuses a bad envelope with 422", async () => {
  await using f = await appFixture();
  for (const body of ["{", "[]", '{"files": {}}', '{"file": []}', "null", '"files"']) {
    await problem(
      await f.request("/v1/files/batch", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }),
      422,
    );
  }
  assert.deepEqual(f.internalErrors, []);
});

Deno.test("POST /v1/files/batch needs a write key: 401 without one, 403 for a read key", async () => {
  await using f = await appFixture();
  const body = { files: [fileAt("h", "/a", "a")] };
  await problem(await f.app.request("/v1/files/batch", json(body)), 401);
  await problem(
    await f.request("/v1/files/batch", json(body, { headers: { "x-api-key": f.keys.read } })),
    403,
  );
  assert.equal(await f.stores.metadata.files.count(), 0);
});

Deno.test("POST /v1/files/batch registers two entries for one path in order, the last one winning", async () => {
  await using f = await appFixture();
  const body = await (await f.request(
    "/v1/files/batch",
    json({ files: [fileAt("h", "/same", "first"), fileAt("h", "/same", "second")] }),
  )).json();
  assert.deepEqual(body.results.map((r: { outcome: string }) => r.outcome), ["created", "updated"]);
  assert.equal(body.results[0]._id, body.results[1]._id);
  assert.equal((await f.stores.metadata.files.get("h", "/same"))?.sha256, digestOf("second"));
  assert.deepEqual(body.missing, [digestOf("second")], "the replaced digest is not needed");
  assert.deepEqual(body.results.map((r: { upload_required: boolean }) => r.upload_required), [
    false,
    true,
  ]);
});

Deno.test("POST /v1/files/deleted soft-deletes: get_file no longer finds the file, history stays", async () => {
  await using f = await appFixture();
  await f.request(
    "/v1/files/batch",
    json({ files: [fileAt("h", "/gone", "gone"), fileAt("h", "/kept", "kept")] }),
  );
  const response = await f.request(
    "/v1/files/deleted",
    json({ hostname: "h", filepaths: ["/gone", "/never-registered"] }),
  );
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { deleted: 1, skipped: 1 });
  await problem(await f.request(`/get_file/${digestOf("gone")}`), 404);
  assert.equal((await f.request(`/get_file/${digestOf("kept")}`)).status, 200);
  assert.equal(await f.stores.metadata.files.count(), 1);
  const again = await f.request("/v1/files/deleted", json({ hostname: "h", filepaths: ["/gone"] }));
  assert.deepEqual(await again.json(), { deleted: 0, skipped: 1 });
});

Deno.test("a deleted file registered again comes back", async () => {
  await using f = await appFixture();
  const file = fileAt("h", "/back", "back");
  const [first] =
    (await (await f.request("/v1/files/batch", json({ files: [file] }))).json()).results;
  await f.request("/v1/files/deleted", json({ hostname: "h", filepaths: ["/back"] }));
  const [again] =
    (await (await f.request("/v1/files/batch", json({ files: [file] }))).json()).results;
  assert.equal(again.outcome, "updated");
  assert.equal(again._id, first._id);
  const found = await f.request(`/get_file/${digestOf("back")}`);
  assert.equal(found.status, 200);
  assert.equal((await found.json())._id, first._id);
});

Deno.test("POST /v1/files/deleted only touches the named host", async () => {
  await using f = await appFixture();
  await f.request(
    "/v1/files/batch",
    json({ files: [fileAt("h1", "/x", "x"), fileAt("h2", "/x", "x")] }),
  );
  await f.request("/v1/files/deleted", json({ hostname: "h1", filepaths: ["/x"] }));
  assert.equal(await f.stores.metadata.files.get("h1", "/x"), null);
  assert.notEqual(await f.stores.metadata.files.get("h2", "/x"), null);
});

Deno.test("POST /v1/files/deleted refuses more paths than the cap with 413 and bad reports with 422", async () => {
  await using f = await appFixture();
  const filepaths = Array.from({ length: 10_001 }, (_, i) => `/p${i}`);
  await problem(await f.request("/v1/files/deleted", json({ hostname: "h", filepaths })), 413);
  const atCap = await f.request(
    "/v1/files/deleted",
    json({ hostname: "h", filepaths: filepaths.slice(0, 10_000) }),
  );
  assert.equal(atCap.status, 200);
  for (
    const bad of [{ filepaths: ["/a"] }, { hostname: "h", filepaths: [""] }, { hostname: "h" }]
  ) {
    await problem(await f.request("/v1/files/deleted", json(bad)), 422);
  }
  await problem(
    await f.request(
      "/v1/files/deleted",
      json({ hostname: "h", filepaths: ["/a"] }, { headers: { "x-api-key": f.keys.read } }),
    ),
    403,
  );
});
