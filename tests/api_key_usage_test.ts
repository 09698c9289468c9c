/**
 * Recording when an API key was last used is bookkeeping: when that write fails (a full
 * disk, a metadata store that refuses writes) requests still succeed.
 */
import assert from "node:assert/strict";
import type { MetadataStore } from "../lib/metadata_store/mod.ts";
import { digestOf } from "../lib/digest.ts";
import { appFixture, fileAt, json } from "./app_fixture.ts";

/** The store with `apiKeys.touch` failing like SQLite on a full disk. */
function failingTouch(store: MetadataStore, calls: { n: number }): MetadataStore {
  const apiKeys = new Proxy(store.apiKeys, {
    get(target, property) {
      if (property === "touch") {
        return () => {
          calls.n++;
          return Promise.reject(new Error("database or disk is full"));
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return new Proxy(store, {
    get(target, property) {
      if (property === "apiKeys") return apiKeys;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

Deno.test("a failing last_used_at write fails no request, and is logged once", async () => {
  const calls = { n: 0 };
  await using f = await appFixture({
    wrapMetadata: (store) => failingTouch(store, calls),
    expectInternalErrors: true,
  });
  const file = fileAt("host-a", "/a.txt", "hello");
  const registered = await f.request("/v1/files/batch", json({ files: [file] }));
  assert.equal(registered.status, 200, await registered.clone().text());
  await registered.body?.cancel();
  const read = { headers: { "x-api-key": f.keys.read } };
  for (
    const [path, status] of [
      ["/v1/stats", 200],
      [`/get_file/${file.sha256}`, 200],
      [`/v1/blobs/${digestOf("absent")}`, 404],
      ["/v1/stats", 200],
    ] as const
  ) {
    const response = await f.request(path, read);
    assert.equal(response.status, status, `${path}: ${await response.clone().text()}`);
    await response.body?.cancel();
  }
  await f.keyUsage.settled();
  assert.equal(calls.n, 2, "one write per key (write key, read key), none awaited");
  assert.equal(f.internalErrors.length, 1, "the run of failures is logged once");
  assert.match(String(f.internalErrors[0]), /Cannot record when an API key was last used/);
});
