import assert from "node:assert/strict";
import { backoffDelay, retryAfterMs, sleep } from "./retry.ts";

const policy = { retries: 5, baseDelayMs: 100, maxDelayMs: 1_000 };

Deno.test("backoffDelay() grows exponentially with full jitter and is capped", () => {
  assert.equal(backoffDelay(1, policy, null, () => 1), 100);
  assert.equal(backoffDelay(2, policy, null, () => 1), 200);
  assert.equal(backoffDelay(3, policy, null, () => 1), 400);
  assert.equal(backoffDelay(10, policy, null, () => 1), 1_000);
  assert.equal(backoffDelay(3, policy, null, () => 0), 0);
  assert.equal(backoffDelay(3, policy, null, () => 0.5), 200);
});

Deno.test("backoffDelay() honours Retry-After within the cap", () => {
  assert.equal(backoffDelay(1, policy, 300), 300);
  assert.equal(backoffDelay(1, policy, 60_000), 1_000);
});

Deno.test("retryAfterMs() reads seconds and HTTP dates", () => {
  assert.equal(retryAfterMs("2"), 2_000);
  assert.equal(retryAfterMs(null), null);
  assert.equal(retryAfterMs("soon"), null);
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(retryAfterMs("Wed, 01 Jan 2025 00:00:03 GMT", now), 3_000);
});

Deno.test("sleep() rejects with the abort reason as soon as its signal aborts", async () => {
  const controller = new AbortController();
  const reason = new Error("stop");
  const waiting = sleep(60_000, controller.signal);
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);
});
