import assert from "node:assert/strict";
import { formatSpan } from "./outage.ts";

Deno.test("formatSpan() says seconds under a minute, minutes and hours above", () => {
  assert.equal(formatSpan(0), "0 s");
  assert.equal(formatSpan(400), "0 s");
  assert.equal(formatSpan(42_000), "42 s");
  assert.equal(formatSpan(60_000), "1 min");
  assert.equal(formatSpan(90_000), "90 s");
  assert.equal(formatSpan(300_000), "5 min");
  assert.equal(formatSpan(3_600_000), "1 h");
  assert.equal(formatSpan(5_400_000), "1 h 30 min");
});
