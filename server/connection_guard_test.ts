import assert from "node:assert/strict";
import { defaultMaxConnections, probeFreeDescriptors } from "./connection_guard.ts";

Deno.test("defaultMaxConnections() keeps 128 descriptors for the stores and takes three per connection", () => {
  assert.equal(defaultMaxConnections(1000), 290);
  assert.equal(defaultMaxConnections(12_416), 4096);
});

Deno.test("defaultMaxConnections() keeps half under a tiny limit, and stays within 8 and 4096", () => {
  assert.equal(defaultMaxConnections(128), 21);
  assert.equal(defaultMaxConnections(10), 8);
  assert.equal(defaultMaxConnections(1_000_000), 4096);
});

Deno.test("defaultMaxConnections() falls back to 256 when the free descriptors are unknown", () => {
  assert.equal(defaultMaxConnections(null), 256);
});

Deno.test("probeFreeDescriptors() counts up to its limit and leaves nothing open", () => {
  const before = [...Deno.readDirSync("/proc/self/fd")].length;
  assert.equal(probeFreeDescriptors(50), 50);
  assert.equal([...Deno.readDirSync("/proc/self/fd")].length, before);
});
