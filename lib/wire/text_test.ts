import assert from "node:assert/strict";
import { decodeComponent, illFormedTextAt } from "./text.ts";

Deno.test("illFormedTextAt() names the first string or key holding a lone surrogate", () => {
  assert.equal(
    illFormedTextAt({ files: [{ filepath: "/ok" }, { filepath: "/a/\ud800" }] }),
    "files.1.filepath",
  );
  assert.equal(illFormedTextAt({ hostname: "h\udbff" }), "hostname");
  assert.equal(illFormedTextAt("\udc00"), "");
  assert.equal(illFormedTextAt({ ["k\ud800"]: 1 }), "k\ufffd");
  assert.equal(
    illFormedTextAt({ a: ["x", 1, null, true, { b: "\ud83d\ude00" }] }),
    null,
    "a pair is fine",
  );
});

Deno.test("decodeComponent() decodes UTF-8 and refuses bytes that are not", () => {
  assert.equal(decodeComponent("%E2%82%AC"), "\u20ac");
  assert.equal(decodeComponent("a+b", true), "a b");
  assert.equal(decodeComponent("a+b"), "a+b");
  for (const raw of ["%ED%A0%80", "%FF", "%C0%AF", "%E2%82", "%"]) {
    assert.equal(decodeComponent(raw), null, raw);
  }
});

Deno.test("illFormedTextAt() walks a value nested 100,000 deep without overflowing", () => {
  const deep = JSON.parse("[".repeat(100_000) + '"\\ud800"' + "]".repeat(100_000));
  assert.equal(illFormedTextAt(deep), Array(100_000).fill(0).join("."));
  assert.equal(illFormedTextAt(JSON.parse("[".repeat(100_000) + "]".repeat(100_000))), null);
});
