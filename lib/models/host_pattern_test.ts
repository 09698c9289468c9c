import assert from "node:assert/strict";
import { hostAllowed, hostLimitsSchema } from "./host_pattern.ts";

Deno.test("hostAllowed() matches exact names and * ? globs, case-sensitively, and null allows all", () => {
  assert.equal(hostAllowed(null, "anything"), true);
  assert.equal(hostAllowed(["laptop-01"], "laptop-01"), true);
  assert.equal(hostAllowed(["laptop-01"], "laptop-011"), false);
  assert.equal(hostAllowed(["laptop-01"], "LAPTOP-01"), false);
  assert.equal(hostAllowed(["build-*"], "build-"), true);
  assert.equal(hostAllowed(["build-*"], "build-7.example.com"), true);
  assert.equal(hostAllowed(["build-*"], "xbuild-7"), false);
  assert.equal(hostAllowed(["db-?"], "db-1"), true);
  assert.equal(hostAllowed(["db-?"], "db-12"), false);
  assert.equal(hostAllowed(["a.b"], "aXb"), false, "a dot is a dot");
  assert.equal(hostAllowed(["(x|y)"], "x"), false, "regex syntax is literal");
  assert.equal(hostAllowed(["h-1", "h-2"], "h-2"), true);
});

Deno.test("hostLimitsSchema refuses empty lists, empty or spaced patterns and too many", () => {
  assert.equal(hostLimitsSchema.safeParse(null).success, true);
  assert.equal(hostLimitsSchema.safeParse(["a", "b*"]).success, true);
  for (const bad of [[], [""], ["a b"], ["a\0"], ["x".repeat(256)], Array(101).fill("h")]) {
    assert.equal(hostLimitsSchema.safeParse(bad).success, false, JSON.stringify(bad).slice(0, 40));
  }
});
