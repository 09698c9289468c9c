import assert from "node:assert/strict";
import { defaultMaxConnections } from "./connection_guard.ts";

const limits = (soft: string) =>
  "Limit                     Soft Limit           Hard Limit           Units     \n" +
  "Max processes             63704                63704                processes \n" +
  `Max open files            ${soft.padEnd(20)} 1048576              files     \n`;

Deno.test("defaultMaxConnections() leaves 128 descriptors and takes three per connection", () => {
  assert.equal(defaultMaxConnections(limits("1024")), 298);
  assert.equal(defaultMaxConnections(limits("160")), 10);
});

Deno.test("defaultMaxConnections() stays within 8 and 4096", () => {
  assert.equal(defaultMaxConnections(limits("64")), 8);
  assert.equal(defaultMaxConnections(limits("1048576")), 4096);
  assert.equal(defaultMaxConnections(limits("unlimited")), 4096);
});

Deno.test("defaultMaxConnections() falls back to 256 when the limit cannot be read", () => {
  assert.equal(defaultMaxConnections(null), 256);
  assert.equal(defaultMaxConnections("no such line"), 256);
});
