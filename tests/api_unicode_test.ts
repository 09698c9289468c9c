/**
 * Text that is not valid Unicode (a lone UTF-16 surrogate in JSON, percent-encoded bytes
 * that are not UTF-8 in a URL) is refused with 400 naming the field: stored, it would
 * become U+FFFD and two different paths would become one record.
 */
import assert from "node:assert/strict";
import { appFixture, fileAt, json, problem } from "./app_fixture.ts";

Deno.test("POST /put_file refuses a lone surrogate in filepath or hostname with 400 and stores nothing", async () => {
  await using f = await appFixture();
  for (
    const [field, change] of [
      ["filepath", { filepath: "/alias/\ud800" }],
      ["filepath", { filepath: "/alias/\udbff" }],
      ["hostname", { hostname: "host-\udc00" }],
      ["ip_address", { ip_address: "\ud83d" }],
    ] as const
  ) {
    const body = { ...fileAt("host-a", "/alias/x", field), ...change };
    const refused = await problem(await f.request("/put_file", json(body)), 400);
    assert.match(refused.detail, new RegExp(`at "${field}": not valid Unicode`));
  }
  assert.equal(await f.stores.metadata.files.count(), 0);
});

Deno.test("the /v1 JSON routes refuse a lone surrogate anywhere, naming its path", async () => {
  await using f = await appFixture();
  const good = fileAt("host-a", "/ok", "ok");
  const cases: [string, unknown, string][] = [
    ["/v1/files/batch", { files: [good, { ...good, filepath: "/b\ud800" }] }, "files.1.filepath"],
    ["/v1/files/deleted", { hostname: "host-a", filepaths: ["/ok", "\udfff"] }, "filepaths.1"],
    ["/v1/blobs/missing", { blobs: [], ["x\ud800"]: 1 }, "x\ufffd"],
    ["/v1/uploads", { digest: "\ud800", size: 1 }, "digest"],
  ];
  for (const [path, body, at] of cases) {
    const refused = await problem(await f.request(path, json(body)), 400);
    assert.ok(refused.detail.includes(`at "${at}": not valid Unicode`), refused.detail);
  }
  const key = await problem(
    await f.request(
      "/api_keys",
      json({ name: "k\ud800" }, { headers: { "x-api-key": f.keys.admin } }),
    ),
    400,
  );
  assert.match(key.detail, /at "name": not valid Unicode/);
  assert.equal(
    await f.stores.metadata.files.count(),
    0,
    "the good file of the batch is not registered",
  );
});

Deno.test("a query parameter or path segment that is not UTF-8 is refused with 400 naming it", async () => {
  await using f = await appFixture();
  const file = fileAt("host-a", "/a", "a");
  const registered = await f.request("/put_file", json(file));
  assert.equal(registered.status, 201);
  await registered.body?.cancel();
  for (const raw of ["%ED%A0%80", "%FF", "%C0%AF"]) {
    const response = await f.request(
      `/upload_file/${file.sha256}?hostname=host-a&filepath=${raw}`,
      {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: "a",
      },
    );
    const refused = await problem(response, 400);
    assert.match(refused.detail, /query parameter "filepath" is not valid UTF-8/);
  }
  const segment = await problem(
    await f.request("/api_keys/%ED%A0%80/revoke", {
      method: "PUT",
      headers: { "x-api-key": f.keys.admin },
    }),
    400,
  );
  assert.match(segment.detail, /path segment "%ED%A0%80" is not valid UTF-8/);
  const fine = await f.request(`/upload_file/${file.sha256}?hostname=host-a&filepath=%2Fa`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: "a",
  });
  assert.equal(fine.status, 200, await fine.clone().text());
  await fine.body?.cancel();
});
