/**
 * The web UI in-process: the real app (SQLite `:memory:`, fs blob store in a temp dir) called
 * with `app.request()`, as a browser would call it: redirects, sign-in, the session cookie,
 * CSRF tokens, sign-out, expiry, key management, the Content-Security-Policy.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createApp } from "../server/app.ts";
import { DEFAULT_LIMITS } from "../server/limits.ts";
import { openMetadataStore } from "../lib/metadata_store/open.ts";
import { openBlobStore } from "../lib/blob_store/open.ts";
import { issueApiKey } from "../lib/auth.ts";
import type { Scope } from "../lib/models/api_key.ts";
import { UiSessions } from "../server/ui/mod.ts";
import { digestOf } from "../lib/digest.ts";
import { fileAt } from "./file_fixture.ts";

const ORIGIN = "http://ppserver.test";

async function uiFixture() {
  const dir = await Deno.makeTempDir({ prefix: "ui-test-" });
  const metadata = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  const blobs = await openBlobStore({ kind: "fs", root: join(dir, "blobs") });
  let now = Date.parse("2026-11-30T00:00:00Z");
  const clock = {
    advance(ms: number) {
      now += ms;
    },
  };
  const sessions = new UiSessions({ idleMs: 60_000, absoluteMs: 600_000, now: () => now });
  const internalErrors: unknown[] = [];
  const app = createApp({
    stores: { metadata, blobs },
    limits: DEFAULT_LIMITS,
    version: "0.0.0-test",
    uiSessions: sessions,
    logError: (error) => internalErrors.push(error),
  });
  const issue = async (
    scope: Scope,
    name = `${scope} key`,
  ) => (await issueApiKey(metadata.apiKeys, { name, description: null, scope }));
  const keys = {
    admin: (await issue("admin")).key,
    write: (await issue("write")).key,
    read: (await issue("read")).key,
  };
  const request = (path: string, init: RequestInit = {}) =>
    Promise.resolve(app.request(`${ORIGIN}${path}`, init));
  /** A same-origin form post, as a browser sends it. */
  const post = (path: string, fields: Record<string, string>, cookie?: string, headers = {}) =>
    request(path, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: ORIGIN,
        "sec-fetch-site": "same-origin",
        ...(cookie ? { cookie } : {}),
        ...headers,
      },
      body: new URLSearchParams(fields).toString(),
    });
  /** Signs in; returns the cookie header to send and the session's CSRF token. */
  const signIn = async (key: string) => {
    const response = await post("/ui/sign-in", { api_key: key, next: "/ui" });
    assert.equal(response.status, 303, await response.text());
    const setCookie = response.headers.get("set-cookie") ?? "";
    const cookie = setCookie.split(";")[0];
    const page = await request("/ui", { headers: { cookie } });
    const html = await page.text();
    const csrf = html.match(/name="csrf" value="([^"]+)"/)?.[1];
    assert.ok(csrf, "a signed-in page carries the CSRF token");
    return { cookie, csrf, setCookie };
  };
  return {
    app,
    metadata,
    sessions,
    clock,
    keys,
    internalErrors,
    request,
    post,
    signIn,
    issue,
    async [Symbol.asyncDispose]() {
      await metadata[Symbol.asyncDispose]();
      await blobs[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("GET / sends a browser to /ui and keeps JSON for API clients", async () => {
  await using ui = await uiFixture();
  const browser = await ui.request("/", { headers: { accept: "text/html,*/*;q=0.8" } });
  assert.equal(browser.status, 302);
  assert.equal(browser.headers.get("location"), "/ui");
  const api = await ui.request("/", { headers: { accept: "application/json" } });
  assert.equal(api.status, 200);
  assert.equal((await api.json()).status, "running");
  const slash = await ui.request("/ui/");
  assert.equal(slash.status, 301);
  assert.equal(slash.headers.get("location"), "/ui");
  const plain = await ui.request("/");
  assert.equal(plain.status, 200);
  assert.equal((await plain.json()).version, "0.0.0-test");
});

Deno.test("a signed-out browser sees only the sign-in page", async () => {
  await using ui = await uiFixture();
  for (const path of ["/ui", "/ui/keys", "/ui/nowhere"]) {
    const response = await ui.request(path);
    assert.equal(response.status, 303, path);
    assert.equal(
      response.headers.get("location"),
      `/ui/sign-in?next=${encodeURIComponent(path)}`,
    );
    await response.body?.cancel();
  }
  const signIn = await ui.request("/ui/sign-in");
  assert.equal(signIn.status, 200);
  const html = await signIn.text();
  assert.match(html, /<label for="api_key">/);
  assert.doesNotMatch(html, /Fleet inventory|API keys<\/a>/);
  const forged = await ui.request("/ui", { headers: { cookie: "pp_session=" + "A".repeat(43) } });
  assert.equal(forged.status, 303);
  assert.match(forged.headers.get("set-cookie") ?? "", /pp_session=;/);
});

Deno.test("pages carry a strict Content-Security-Policy and no inline script or style", async () => {
  await using ui = await uiFixture();
  const { cookie } = await ui.signIn(ui.keys.admin);
  for (const path of ["/ui/sign-in", "/ui", "/ui/keys"]) {
    const response = await ui.request(path, { headers: { cookie } });
    const csp = response.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(response.headers.get("cache-control"), "no-store");
    const html = await response.text();
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)/, `${path} has an inline script`);
    assert.doesNotMatch(html, /\sstyle=|<style/, `${path} has inline style`);
    assert.doesNotMatch(html, /\son[a-z]+=/, `${path} has an inline event handler`);
  }
});

Deno.test("sign-in with a read key sets an HttpOnly, SameSite=Strict session cookie, never the key", async () => {
  await using ui = await uiFixture();
  const { setCookie, cookie } = await ui.signIn(ui.keys.read);
  assert.match(setCookie, /^pp_session=[A-Za-z0-9_-]{43};/);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  assert.match(setCookie, /Path=\/ui/);
  assert.match(setCookie, /Max-Age=600/);
  assert.doesNotMatch(setCookie, /Secure/);
  assert.ok(!setCookie.includes(ui.keys.read));
  const dashboard = await ui.request("/ui", { headers: { cookie } });
  assert.equal(dashboard.status, 200);
  assert.match(await dashboard.text(), /Fleet inventory/);
  assert.equal(ui.sessions.size, 1);
});

Deno.test("the session cookie is Secure when the browser reached the server over https", async () => {
  await using ui = await uiFixture();
  const response = await ui.post("/ui/sign-in", { api_key: ui.keys.read }, undefined, {
    "x-forwarded-proto": "https",
  });
  assert.equal(response.status, 303);
  assert.match(response.headers.get("set-cookie") ?? "", /; Secure/);
});

Deno.test("sign-in refuses a bad key, a revoked key and a write key, and says why", async () => {
  await using ui = await uiFixture();
  const cases: [string, RegExp][] = [
    ["not-a-key", /64 hexadecimal characters/],
    ["0".repeat(64), /not valid, or it was revoked/],
    [ui.keys.write, /write key, meant for ppclient/],
  ];
  const revoked = await ui.issue("read", "revoked");
  await ui.metadata.apiKeys.revoke(revoked.record.id, new Date());
  cases.push([revoked.key, /not valid, or it was revoked/]);
  for (const [key, message] of cases) {
    const response = await ui.post("/ui/sign-in", { api_key: key });
    assert.equal(response.status, 401, key);
    assert.equal(response.headers.get("set-cookie"), null);
    assert.match(await response.text(), message);
  }
  assert.equal(ui.sessions.size, 0);
});

Deno.test("sign-in goes back to the page asked for, and only to a page of the UI", async () => {
  await using ui = await uiFixture();
  const cases: [string, string][] = [
    ["/ui/keys", "/ui/keys"],
    ["https://evil.example/ui", "/ui"],
    ["//evil.example/ui", "/ui"],
    ["/ui//evil.example", "/ui"],
    ["/api_keys", "/ui"],
  ];
  for (const [next, location] of cases) {
    const response = await ui.post("/ui/sign-in", { api_key: ui.keys.admin, next });
    assert.equal(response.headers.get("location"), location, next);
  }
});

Deno.test("a form from another origin is refused, sign-in included", async () => {
  await using ui = await uiFixture();
  const crossSite = await ui.post("/ui/sign-in", { api_key: ui.keys.admin }, undefined, {
    origin: "http://evil.example",
    "sec-fetch-site": "cross-site",
  });
  assert.equal(crossSite.status, 403);
  assert.equal(crossSite.headers.get("set-cookie"), null);
  const { cookie, csrf } = await ui.signIn(ui.keys.admin);
  const before = (await ui.metadata.apiKeys.list()).length;
  const forged = await ui.post("/ui/keys", { csrf, name: "x", scope: "admin" }, cookie, {
    origin: "http://evil.example",
    "sec-fetch-site": "cross-site",
  });
  assert.equal(forged.status, 403);
  assert.equal((await ui.metadata.apiKeys.list()).length, before);
});

Deno.test("state-changing forms need the session's CSRF token", async () => {
  await using ui = await uiFixture();
  const { cookie, csrf } = await ui.signIn(ui.keys.admin);
  const before = (await ui.metadata.apiKeys.list()).length;
  const tokens: Record<string, string>[] = [{}, { csrf: "x".repeat(43) }, { csrf: csrf.slice(1) }];
  for (const fields of tokens) {
    const response = await ui.post(
      "/ui/keys",
      { name: "sneaky", scope: "admin", ...fields },
      cookie,
    );
    assert.equal(response.status, 403);
    assert.match(await response.text(), /security token is missing or stale/);
  }
  assert.equal((await ui.metadata.apiKeys.list()).length, before);
  // Another session's token is not this session's.
  const other = await ui.signIn(ui.keys.admin);
  const crossed = await ui.post("/ui/keys", { csrf: other.csrf, name: "x", scope: "read" }, cookie);
  assert.equal(crossed.status, 403);
  await crossed.body?.cancel();
  const signOut = await ui.post("/ui/sign-out", {}, cookie);
  assert.equal(signOut.status, 403, "sign-out without the token is refused too");
  await signOut.body?.cancel();
});

Deno.test("an admin creates a key shown once, revokes and deletes keys", async () => {
  await using ui = await uiFixture();
  const { cookie, csrf } = await ui.signIn(ui.keys.admin);
  const created = await ui.post("/ui/keys", {
    csrf,
    name: "laptop-07",
    scope: "read",
    description: "",
  }, cookie);
  assert.equal(created.status, 200);
  assert.equal(created.headers.get("cache-control"), "no-store");
  const html = await created.text();
  const key = html.match(/<code class="secret" id="new-key">([0-9a-f]{64})<\/code>/)?.[1];
  assert.ok(key, "the new key is on the page");
  const record = (await ui.metadata.apiKeys.list()).find((k) => k.name === "laptop-07");
  assert.ok(record);
  assert.equal(record.scope, "read");
  assert.equal(record.description, null);
  const list = await (await ui.request("/ui/keys", { headers: { cookie } })).text();
  assert.match(list, /laptop-07/);
  assert.ok(!list.includes(key), "the list never shows a key");

  // The new key signs in; once revoked its session ends at the next request.
  const session = await ui.signIn(key);
  const revoke = await ui.post(`/ui/keys/${record.id}/revoke`, { csrf }, cookie);
  assert.equal(revoke.status, 303);
  assert.equal(revoke.headers.get("location"), "/ui/keys?done=revoked");
  const after = await ui.request("/ui", { headers: { cookie: session.cookie } });
  assert.equal(after.status, 303);
  assert.match(after.headers.get("location") ?? "", /^\/ui\/sign-in/);

  const removed = await ui.post(`/ui/keys/${record.id}/delete`, { csrf }, cookie);
  assert.equal(removed.status, 303);
  assert.equal(await ui.metadata.apiKeys.get(record.id), null);
  const again = await ui.post(`/ui/keys/${record.id}/delete`, { csrf }, cookie);
  assert.equal(again.status, 404);
  assert.match(await again.text(), /No API key with id/);
});

Deno.test("key creation with a bad name or scope says so and creates nothing", async () => {
  await using ui = await uiFixture();
  const { cookie, csrf } = await ui.signIn(ui.keys.admin);
  const before = (await ui.metadata.apiKeys.list()).length;
  for (const fields of [{ name: " ", scope: "read" }, { name: "ok", scope: "root" }]) {
    const response = await ui.post("/ui/keys", { csrf, ...fields }, cookie);
    assert.equal(response.status, 400);
    assert.match(await response.text(), /The key was not created/);
  }
  const notForm = await ui.request("/ui/keys", {
    method: "POST",
    headers: { cookie, "content-type": "application/json", origin: ORIGIN },
    body: JSON.stringify({ csrf, name: "x", scope: "read" }),
  });
  assert.equal(notForm.status, 415);
  await notForm.body?.cancel();
  assert.equal((await ui.metadata.apiKeys.list()).length, before);
});

Deno.test("an admin key cannot delete itself from the UI", async () => {
  await using ui = await uiFixture();
  const { cookie, csrf } = await ui.signIn(ui.keys.admin);
  const self = (await ui.metadata.apiKeys.list()).find((k) => k.scope === "admin");
  assert.ok(self);
  const response = await ui.post(`/ui/keys/${self.id}/delete`, { csrf }, cookie);
  assert.equal(response.status, 409);
  assert.match(await response.text(), /cannot delete itself/);
  assert.ok(await ui.metadata.apiKeys.get(self.id));
});

Deno.test("a read key sees the dashboard but not key management", async () => {
  await using ui = await uiFixture();
  const { cookie, csrf } = await ui.signIn(ui.keys.read);
  const dashboard = await (await ui.request("/ui", { headers: { cookie } })).text();
  assert.doesNotMatch(dashboard, /href="\/ui\/keys"/);
  const keys = await ui.request("/ui/keys", { headers: { cookie } });
  assert.equal(keys.status, 403);
  assert.match(await keys.text(), /needs an admin key/);
  const create = await ui.post("/ui/keys", { csrf, name: "x", scope: "admin" }, cookie);
  assert.equal(create.status, 403);
  await create.body?.cancel();
});

Deno.test("sign-out ends the session and clears the cookie", async () => {
  await using ui = await uiFixture();
  const { cookie, csrf } = await ui.signIn(ui.keys.read);
  const response = await ui.post("/ui/sign-out", { csrf }, cookie);
  assert.equal(response.status, 303);
  assert.equal(response.headers.get("location"), "/ui/sign-in");
  assert.match(response.headers.get("set-cookie") ?? "", /pp_session=;.*Max-Age=0/);
  const after = await ui.request("/ui", { headers: { cookie } });
  assert.equal(after.status, 303);
  assert.equal(ui.sessions.size, 0);
});

Deno.test("sessions expire when idle and at their absolute lifetime", async () => {
  await using ui = await uiFixture();
  const idle = await ui.signIn(ui.keys.read);
  ui.clock.advance(61_000);
  assert.equal((await ui.request("/ui", { headers: { cookie: idle.cookie } })).status, 303);

  const busy = await ui.signIn(ui.keys.read);
  for (let minute = 0; minute < 9; minute++) {
    ui.clock.advance(59_000);
    const page = await ui.request("/ui", { headers: { cookie: busy.cookie } });
    assert.equal(page.status, 200, `minute ${minute}`);
    await page.body?.cancel();
  }
  ui.clock.advance(90_000); // 10.35 minutes since sign-in: past the 10 minute lifetime
  assert.equal((await ui.request("/ui", { headers: { cookie: busy.cookie } })).status, 303);
});

Deno.test("assets are served from memory with a content version and caching", async () => {
  await using ui = await uiFixture();
  const page = await (await ui.request("/ui/sign-in")).text();
  for (const name of ["app.css", "app.js", "icon.svg"]) {
    const url = page.match(
      new RegExp(`"(/ui/assets/${name.replace(".", "\\.")}\\?v=[0-9a-f]{16})"`),
    )
      ?.[1];
    assert.ok(url, `${name} is linked with its version`);
    const response = await ui.request(url);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("cache-control") ?? "", /immutable/);
    const etag = response.headers.get("etag") ?? "";
    assert.ok((await response.text()).length > 100);
    const cached = await ui.request(url, { headers: { "if-none-match": etag } });
    assert.equal(cached.status, 304);
  }
  const missing = await ui.request("/ui/assets/nope.js");
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("an unknown page of a signed-in browser is a 404 page, not JSON", async () => {
  await using ui = await uiFixture();
  const { cookie } = await ui.signIn(ui.keys.read);
  const response = await ui.request("/ui/nowhere", { headers: { cookie } });
  assert.equal(response.status, 404);
  assert.match(response.headers.get("content-type") ?? "", /text\/html/);
  assert.match(await response.text(), /There is no page at \/ui\/nowhere/);
  assert.deepEqual(ui.internalErrors, []);
});

async function withInventory(ui: Awaited<ReturnType<typeof uiFixture>>) {
  const files = [
    fileAt("h1", "/a/x.txt", "shared"),
    fileAt("h2", "/b/x.txt", "shared"),
    fileAt("h1", "/a/only.txt", "only on h1"),
  ];
  const register = await ui.request("/v1/files/batch", {
    method: "POST",
    headers: { "x-api-key": ui.keys.write, "content-type": "application/json" },
    body: JSON.stringify({ files }),
  });
  assert.equal(register.status, 200, await register.text());
  const upload = await ui.request(`/v1/blobs/${digestOf("shared")}`, {
    method: "PUT",
    headers: { "x-api-key": ui.keys.write, "content-type": "application/octet-stream" },
    body: "shared",
  });
  assert.equal(upload.status, 201, await upload.text());
}

Deno.test("every page answers a signed-in read key from the read API", async () => {
  await using ui = await uiFixture();
  await withInventory(ui);
  const { cookie } = await ui.signIn(ui.keys.read);
  const shared = digestOf("shared");
  const pages: [string, RegExp][] = [
    ["/ui", /Files over time/],
    ["/ui/hosts", /href="\/ui\/hosts\/h2"/],
    ["/ui/hosts/h1", /href="\/ui\/hosts\/h1\?path=%2Fa"/],
    ["/ui/hosts/h1?path=/a", /only\.txt/],
    ["/ui/hosts/h1/file?path=/a/x.txt", /epoch file/],
    [`/ui/contents/${shared}`, /\/b\/x\.txt/],
    ["/ui/search?q=x.t", /2 files match/],
    ["/ui/search?min_size=8", /only\.txt/],
    ["/ui/duplicates", new RegExp(shared.slice(0, 10))],
    ["/ui/duplicates?host=h1", /No duplicated content with these filters/],
    ["/ui/changes?since=2000-01-01T00:00", /added/],
    ["/ui/protection", /\/a\/only\.txt/],
  ];
  for (const [path, expected] of pages) {
    const response = await ui.request(path, { headers: { cookie } });
    const html = await response.text();
    assert.equal(response.status, 200, `${path}: ${html.slice(0, 300)}`);
    assert.match(html, expected, path);
    assert.match(html, /^<!doctype html>/, path);
  }
  const fragment = await ui.request("/ui/search?q=only&fragment=1", { headers: { cookie } });
  const html = await fragment.text();
  assert.doesNotMatch(html, /<html/);
  assert.match(html, /1 files match/);
  assert.deepEqual(ui.internalErrors, []);
});

Deno.test("a download of a content is its stored bytes, named after the file", async () => {
  await using ui = await uiFixture();
  await withInventory(ui);
  const { cookie } = await ui.signIn(ui.keys.read);
  const shared = digestOf("shared");
  const download = await ui.request(`/ui/contents/${shared}/download?name=/a/x.txt`, {
    headers: { cookie },
  });
  assert.equal(download.status, 200);
  assert.equal(download.headers.get("content-length"), "6");
  assert.match(download.headers.get("content-disposition") ?? "", /filename="x\.txt"/);
  assert.equal(await download.text(), "shared");
  const missing = await ui.request(`/ui/contents/${digestOf("only on h1")}/download`, {
    headers: { cookie },
  });
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /does not hold content/);
  const signedOut = await ui.request(`/ui/contents/${shared}/download`);
  assert.equal(signedOut.status, 303);
});

Deno.test("a bad filter is a 400 page naming it, and nothing else breaks", async () => {
  await using ui = await uiFixture();
  await withInventory(ui);
  const { cookie } = await ui.signIn(ui.keys.read);
  const cases: [string, number, RegExp][] = [
    ["/ui/search?min_size=lots", 400, /Invalid min_size "lots"/],
    ["/ui/search?digest=zz", 400, /digest/],
    ["/ui/search?q=a&bogus=1", 400, /unknown parameter "bogus"/],
    ["/ui/changes?since=yesterday", 400, /since/],
    ["/ui/duplicates?min_size=-1", 400, /Invalid min_size "-1"/],
    ["/ui/hosts?limit=0", 400, /limit/],
    ["/ui/hosts/h1/file", 400, /path/],
    ["/ui/hosts/h1/file?path=/nope", 404, /No file "\/nope" on host "h1"/],
    ["/ui/contents/zz", 400, /digest/i],
    ["/ui/hosts/h1?cursor=not-a-cursor", 400, /cursor/i],
  ];
  for (const [path, status, message] of cases) {
    const response = await ui.request(path, { headers: { cookie } });
    const html = (await response.text()).replaceAll("&quot;", '"');
    assert.equal(response.status, status, `${path}: ${html.slice(0, 400)}`);
    assert.match(response.headers.get("content-type") ?? "", /text\/html/, path);
    assert.match(html, message, path);
  }
  const fragment = await ui.request("/ui/search?q=a&min_size=lots&fragment=1", {
    headers: { cookie },
  });
  assert.equal(fragment.status, 400);
  const html = await fragment.text();
  assert.doesNotMatch(html, /<html/);
  assert.match(html, /role="alert"/);
  assert.deepEqual(ui.internalErrors, []);
});
