/**
 * `GET /v1/stats` past 2^53 bytes, through a real ppserver: the sums are answered as exact
 * JSON numbers (node:sqlite refused to read them as numbers, so the route failed for good).
 */
import assert from "node:assert/strict";
import { digestOf } from "../lib/digest.ts";
import { startPpserver } from "./_servers/ppserver.ts";

Deno.test("GET /v1/stats answers byte sums past 2^53 exactly", async () => {
  await using server = await startPpserver();
  for (const path of ["/srv/huge-1.img", "/srv/huge-2.img"]) {
    const response = await fetch(`${server.url}/put_file`, {
      method: "POST",
      headers: { "x-api-key": server.adminKey, "content-type": "application/json" },
      body: JSON.stringify({
        filepath: path,
        hostname: "host-a",
        ip_address: "10.0.0.1",
        sha256: digestOf(path),
        file_size: Number.MAX_SAFE_INTEGER,
      }),
    });
    await response.body?.cancel();
    assert.equal(response.status, 201);
  }
  const response = await fetch(`${server.url}/v1/stats`, {
    headers: { "x-api-key": server.adminKey },
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.match(text, new RegExp(`"logical_bytes":${2n * BigInt(Number.MAX_SAFE_INTEGER)}[,}]`));
  assert.equal(JSON.parse(text).files, 2);
});
