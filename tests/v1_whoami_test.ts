/** `GET /v1/whoami` on the real app. */
import assert from "node:assert/strict";
import { appFixture, problem } from "./app_fixture.ts";

Deno.test("GET /v1/whoami answers the presented key's id, name, scope and host limits", async () => {
  await using f = await appFixture();
  for (const scope of ["read", "write", "admin"] as const) {
    const response = await f.request("/v1/whoami", { headers: { "x-api-key": f.keys[scope] } });
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.deepEqual(Object.keys(body).sort(), ["hosts", "id", "name", "scope"]);
    assert.equal(body.hosts, null);
    assert.equal(body.scope, scope);
    assert.equal(body.name, `${scope} key`);
  }
  const bearer = await f.app.request("/v1/whoami", {
    headers: { authorization: `Bearer ${f.keys.read}` },
  });
  assert.equal((await bearer.json()).scope, "read");
});

Deno.test("GET /v1/whoami tells a missing, an unknown and a revoked key apart (401 each)", async () => {
  await using f = await appFixture();
  const missing = await problem(await f.app.request("/v1/whoami"), 401);
  assert.match(missing.detail, /send an X-API-Key header/);
  const unknown = await problem(
    await f.request("/v1/whoami", { headers: { "x-api-key": "0".repeat(64) } }),
    401,
  );
  assert.match(unknown.detail, /^Unknown API key/);
  const record = (await f.stores.metadata.apiKeys.list()).find((k) => k.scope === "write");
  assert.ok(record);
  assert.equal(await f.stores.metadata.apiKeys.revoke(record.id, new Date()), true);
  const revoked = await problem(
    await f.request("/v1/whoami", { headers: { "x-api-key": f.keys.write } }),
    401,
  );
  assert.match(revoked.detail, /^API key "write key" was revoked at \d{4}-/);
  assert.doesNotMatch(revoked.detail, new RegExp(f.keys.write));
});

Deno.test("GET /v1/whoami is described in the OpenAPI document and announced as a feature", async () => {
  await using f = await appFixture();
  const capabilities = await (await f.app.request("/v1")).json();
  assert.ok(capabilities.features.includes("whoami"));
  const document = await (await f.app.request("/v1/openapi.json")).json();
  assert.ok(document.paths["/v1/whoami"].get);
});
