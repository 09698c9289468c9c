import assert from "node:assert/strict";
import { defaultMaxConnections } from "./connection_guard.ts";

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

Deno.test("probeFreeDescriptors() counts up to its limit and leaves nothing open", async () => {
  // In a process of its own: tests running in parallel share this one's descriptor table.
  const module = JSON.stringify(new URL("./connection_guard.ts", import.meta.url).href);
  const script = `import { probeFreeDescriptors } from ${module};
const count = () => [...Deno.readDirSync("/proc/self/fd")].length;
const before = count();
const probed = probeFreeDescriptors(50);
console.log(JSON.stringify({ probed, leaked: count() - before }));`;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    stdin: "null",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), { probed: 50, leaked: 0 });
});
