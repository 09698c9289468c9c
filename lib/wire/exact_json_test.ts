import assert from "node:assert/strict";
import { exactJson } from "./exact_json.ts";

Deno.test("exactJson() writes a bigint past 2^53 as its exact digits, a JSON number", () => {
  const text = exactJson({ bytes: 2n ** 60n + 1n, files: 3, name: "x" });
  assert.equal(text, '{"bytes":1152921504606846977,"files":3,"name":"x"}');
  assert.equal(JSON.parse(text).files, 3);
});
