/**
 * The /v1 read routes and the classic `/api/clones` over the real app: scopes, pagination
 * while files arrive, every filter's bad input, the duplicate export formats, the OpenAPI
 * description. What each query answers is proven on both stores by the inventory contract.
 */
import assert from "node:assert/strict";
import { registerFiles } from "../lib/dedup.ts";
import { digestOf } from "../lib/digest.ts";
import { appFixture, fileAt, json, problem } from "./app_fixture.ts";

const ROUTES = [
  "/v1/hosts",
  "/v1/hosts/host-a/tree?path=/srv",
  "/v1/hosts/host-a/file?path=/srv/a.txt",
  "/v1/hosts/host-a/snapshot?path=/srv",
  "/v1/search?q=srv",
  `/v1/locations/${digestOf("alpha")}`,
  "/v1/duplicates",
  "/v1/changes?since=2020-01-01",
  "/v1/protection/at-risk",
  "/v1/protection/single-host",
  "/v1/inventory/stats",
];

async function seeded() {
  const fx = await appFixture();
  await registerFiles(fx.stores, [
    fileAt("host-a", "/srv/a.txt", "alpha"),
    fileAt("host-a", "/srv/docs/b.txt", "beta"),
    fileAt("host-b", "/home/b/a.txt", "alpha"),
    fileAt("host-b", "/home/b/c.txt", "gamma gamma"),
    fileAt("host-b", "/home/b/c2.txt", "gamma gamma"),
  ]);
  return fx;
}

Deno.test("read routes answer read and admin keys, refuse write-only keys (403) and no key (401)", async () => {
  await using fx = await seeded();
  for (const route of ROUTES) {
    for (const key of [fx.keys.read, fx.keys.admin]) {
      const response = await fx.request(route, { headers: { "x-api-key": key } });
      assert.equal(response.status, 200, `${route}: ${await response.clone().text()}`);
      await response.body?.cancel();
    }
    const refused = await problem(await fx.request(route), 403);
    assert.match(refused.detail, /scope "write"; this request needs one of "read", "admin"/);
    await problem(await fx.app.request(route), 401);
  }
  assert.deepEqual(fx.internalErrors, []);
});

Deno.test("POST /v1/hosts/{hostname}/complete-scan records a complete scan for write keys", async () => {
  await using fx = await seeded();
  const post = (key: string, host = "host-a") =>
    fx.request(`/v1/hosts/${host}/complete-scan`, {
      method: "POST",
      headers: { "x-api-key": key },
    });
  const done = await post(fx.keys.write);
  assert.equal(done.status, 204);
  await problem(await post(fx.keys.read), 403);
  const hosts = await (await fx.request("/v1/hosts", { headers: { "x-api-key": fx.keys.read } }))
    .json();
  assert.ok(hosts.items[0].last_complete_scan_at);
  assert.equal(hosts.items[1].last_complete_scan_at, null);
  await problem(await post(fx.keys.write, "a%00b"), 400);
});

Deno.test("search pages skip and repeat no file while files are registered between pages", async () => {
  await using fx = await appFixture();
  const first = Array.from(
    { length: 25 },
    (_, i) => fileAt("host-m", `/d/f${i + 10}.txt`, `c${i}`),
  );
  await registerFiles(fx.stores, first);
  const seen: string[] = [];
  let cursor: string | null = null;
  let round = 0;
  do {
    const url: string = `/v1/search?glob=*.txt&limit=10${cursor ? `&cursor=${cursor}` : ""}`;
    const response = await fx.request(url, { headers: { "x-api-key": fx.keys.read } });
    assert.equal(response.status, 200);
    const page = await response.json();
    assert.ok(page.items.length <= 10);
    seen.push(
      ...page.items.map((f: { hostname: string; filepath: string }) =>
        `${f.hostname}:${f.filepath}`
      ),
    );
    cursor = page.next_cursor;
    round++;
    await registerFiles(fx.stores, [
      fileAt("host-m", `/d/a${round}.txt`, `early ${round}`),
      fileAt("host-m", `/d/z${round}.txt`, `late ${round}`),
    ]);
  } while (cursor !== null);
  assert.equal(new Set(seen).size, seen.length);
  for (const file of first) assert.ok(seen.includes(`host-m:${file.filepath}`));
});

Deno.test("every filter is validated: a bad one is a 400 problem naming it, nothing else happens", async () => {
  await using fx = await seeded();
  const bad: [string, RegExp][] = [
    ["/v1/hosts?limit=0", /"limit"/],
    ["/v1/hosts?limit=1001", /"limit"/],
    ["/v1/hosts?limit=ten", /"limit"/],
    ["/v1/hosts?cursor=nonsense", /Invalid cursor/],
    ["/v1/hosts?colour=blue", /unknown parameter "colour"/],
    ["/v1/search?q=a&q=b", /"q"/],
    ["/v1/search?glob=[abc", /glob/],
    ["/v1/search?digest=ABC", /"digest"/],
    ["/v1/search?min_size=10&max_size=5", /"max_size"/],
    ["/v1/search?min_size=-1", /"min_size"/],
    ["/v1/search?mtime_from=x", /"mtime_from"/],
    ["/v1/search?reported_since=yesterday", /"reported_since"/],
    ["/v1/changes", /"since"/],
    ["/v1/changes?since=2026-02-01&until=2026-01-01", /"until"/],
    ["/v1/duplicates?format=xml", /"format"/],
    ["/v1/duplicates?min_size=1e999", /"min_size"/],
    ["/v1/hosts/host-a/file", /"path"/],
    ["/v1/locations/not-a-digest", /digest/i],
  ];
  for (const [route, detail] of bad) {
    const body = await problem(
      await fx.request(route, { headers: { "x-api-key": fx.keys.read } }),
      400,
    );
    assert.match(body.detail, detail, route);
  }
  // A cursor of one query is refused by another.
  const page =
    await (await fx.request("/v1/search?limit=1", { headers: { "x-api-key": fx.keys.read } }))
      .json();
  await problem(
    await fx.request(`/v1/protection/at-risk?cursor=${page.next_cursor}`, {
      headers: { "x-api-key": fx.keys.read },
    }),
    400,
  );
  await problem(
    await fx.request("/v1/hosts/host-a/file?path=/none", {
      headers: { "x-api-key": fx.keys.read },
    }),
    404,
  );
  assert.deepEqual(fx.internalErrors, []);
});

Deno.test("duplicates: a JSON page with totals, or every group as JSON Lines or CSV", async () => {
  await using fx = await seeded();
  const read = { "x-api-key": fx.keys.read };
  const page = await (await fx.request("/v1/duplicates?limit=1", { headers: read })).json();
  const gamma = {
    sha256: digestOf("gamma gamma"),
    file_size: 11,
    count: 2,
    hosts: 1,
    reclaimable_bytes: 11,
  };
  const alpha = {
    sha256: digestOf("alpha"),
    file_size: 5,
    count: 2,
    hosts: 2,
    reclaimable_bytes: 5,
  };
  assert.deepEqual(page.items, [gamma]);
  assert.deepEqual(page.totals, { groups: 2, files: 4, reclaimable_bytes: 16 });
  const rest =
    await (await fx.request(`/v1/duplicates?cursor=${page.next_cursor}`, { headers: read })).json();
  assert.deepEqual(rest.items, [alpha]);
  assert.equal(rest.next_cursor, null);

  const jsonl = await fx.request("/v1/duplicates?format=jsonl", { headers: read });
  assert.equal(jsonl.headers.get("content-type"), "application/jsonl");
  assert.deepEqual((await jsonl.text()).trim().split("\n").map((l) => JSON.parse(l)), [
    gamma,
    alpha,
  ]);

  const csv = await fx.request("/v1/duplicates?host=host-a&host=host-b", {
    headers: { ...read, accept: "text/csv" },
  });
  assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
  assert.equal(
    await csv.text(),
    "sha256,file_size,count,hosts,reclaimable_bytes\r\n" +
      `${gamma.sha256},11,2,1,11\r\n${alpha.sha256},5,2,2,5\r\n`,
  );
  const onlyA = await (await fx.request("/v1/duplicates?host=host-a", { headers: read })).json();
  assert.deepEqual(onlyA.items, []);
});

Deno.test("classic GET /api/clones/{sha256}: every location, epoch file first, as /get_file documents", async () => {
  await using fx = await seeded();
  // host-b uploads the bytes: its file becomes the epoch file.
  const upload = await fx.request(
    `/upload_file/${digestOf("alpha")}?hostname=host-b&filepath=/home/b/a.txt`,
    { method: "POST", headers: { "content-type": "application/octet-stream" }, body: "alpha" },
  );
  assert.equal(upload.status, 200);
  const response = await fx.request(`/api/clones/${digestOf("alpha")}`);
  assert.equal(response.status, 200);
  const clones = await response.json();
  assert.deepEqual(
    clones.map((c: { hostname: string; filepath: string }) => `${c.hostname}:${c.filepath}`),
    [
      "host-b:/home/b/a.txt",
      "host-a:/srv/a.txt",
    ],
  );
  const getFile = await (await fx.request(`/get_file/${digestOf("alpha")}`)).json();
  assert.deepEqual(clones[0], getFile);
  assert.equal(clones[1].has_file_content, true);
  assert.deepEqual(await (await fx.request(`/api/clones/${digestOf("nothing")}`)).json(), []);
  await problem(await fx.request("/api/clones/xyz"), 400);
});

Deno.test("the OpenAPI document describes every read route with its parameters", async () => {
  await using fx = await seeded();
  const document = await (await fx.app.request("/v1/openapi.json")).json();
  for (
    const path of [
      "/v1/hosts",
      "/v1/hosts/{hostname}/tree",
      "/v1/hosts/{hostname}/file",
      "/v1/hosts/{hostname}/snapshot",
      "/v1/search",
      "/v1/locations/{digest}",
      "/v1/duplicates",
      "/v1/changes",
      "/v1/protection/at-risk",
      "/v1/protection/single-host",
      "/v1/inventory/stats",
    ]
  ) {
    const operation = document.paths[path]?.get;
    assert.ok(operation, path);
    assert.equal(operation["x-putplace-scope"], "read");
    assert.ok(operation.responses["400"] && operation.responses["403"], path);
  }
  const search = document.paths["/v1/search"].get.parameters.map((p: { name: string }) => p.name);
  assert.deepEqual(search.slice(0, 3), ["q", "glob", "host"]);
  const changes = document.paths["/v1/changes"].get.parameters;
  assert.equal(changes.find((p: { name: string }) => p.name === "since").required, true);
  const capabilities = await (await fx.app.request("/v1")).json();
  assert.ok(capabilities.features.includes("inventory.queries"));
});

Deno.test("changes, at-risk files and inventory stats over HTTP", async () => {
  await using fx = await seeded();
  const read = { "x-api-key": fx.keys.read };
  const changes =
    await (await fx.request("/v1/changes?host=host-a&since=2000-01-01", { headers: read }))
      .json();
  assert.deepEqual(
    changes.items.map((c: { kind: string; filepath: string }) => `${c.kind} ${c.filepath}`),
    [
      "added /srv/a.txt",
      "added /srv/docs/b.txt",
    ],
  );
  const deleted = await fx.request(
    "/v1/files/deleted",
    json({ hostname: "host-a", filepaths: ["/srv/docs/b.txt"] }),
  );
  assert.equal(deleted.status, 200);
  const after =
    await (await fx.request("/v1/changes?host=host-a&since=2000-01-01", { headers: read }))
      .json();
  assert.equal(after.items.at(-1).kind, "deleted");
  const risk = await (await fx.request("/v1/protection/at-risk?host=host-b", { headers: read }))
    .json();
  assert.equal(risk.items.length, 3);
  const stats = await (await fx.request("/v1/inventory/stats?host=host-b", { headers: read }))
    .json();
  assert.equal(stats.files, 3);
  assert.equal(stats.dedup_saved_bytes, 11);
});
