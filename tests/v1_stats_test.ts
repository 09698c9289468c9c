/** `GET /v1/stats` on the real app. */
import assert from "node:assert/strict";
import { appFixture, fileAt, json, problem } from "./app_fixture.ts";
import { digestOf } from "../lib/digest.ts";

Deno.test("GET /v1/stats counts live files, distinct digests, stored and logical bytes and dedup savings", async () => {
  await using f = await appFixture();
  const read = { headers: { "x-api-key": f.keys.read } };
  const empty = await f.request("/v1/stats", read);
  assert.equal(empty.status, 200);
  assert.deepEqual(await empty.json(), {
    files: 0,
    distinct_digests: 0,
    stored_blobs: 0,
    stored_bytes: 0,
    logical_bytes: 0,
    dedup_saved_bytes: 0,
  });
  const shared = "ten bytes!"; // 10 bytes on three hosts
  const own = "only here, 20 bytes."; // 20 bytes
  await f.request(
    "/v1/files/batch",
    json({
      files: [
        fileAt("a", "/s", shared),
        fileAt("b", "/s", shared),
        fileAt("c", "/s", shared),
        fileAt("a", "/own", own),
        fileAt("a", "/gone", "deleted, not counted"),
      ],
    }),
  );
  await f.request("/v1/files/deleted", json({ hostname: "a", filepaths: ["/gone"] }));
  await f.request(`/v1/blobs/${digestOf(shared)}`, { method: "PUT", body: shared });
  const stats = await (await f.request("/v1/stats", read)).json();
  assert.deepEqual(stats, {
    files: 4,
    distinct_digests: 2,
    stored_blobs: 1,
    stored_bytes: 10,
    logical_bytes: 10 * 3 + 20,
    dedup_saved_bytes: 10 * 2,
  });
  await problem(await f.app.request("/v1/stats"), 401);
});
