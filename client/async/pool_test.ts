import assert from "node:assert/strict";
import { runPool } from "./pool.ts";

async function* numbers(count: number, pulled: { value: number }) {
  for (let i = 0; i < count; i++) {
    pulled.value++;
    yield i;
  }
}

Deno.test("runPool() keeps at most `workers` items in flight and processes every item", async () => {
  const pulled = { value: 0 };
  let inFlight = 0;
  let peak = 0;
  const done: number[] = [];
  await runPool(numbers(40, pulled), 3, async (item) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    // More items are never pulled than are in flight plus the ones finished.
    assert.ok(pulled.value <= done.length + 3);
    await new Promise((resolve) => setTimeout(resolve, 1));
    done.push(item);
    inFlight--;
  });
  assert.equal(peak, 3);
  assert.deepEqual(done.sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
});

Deno.test("runPool() stops taking items once its stop signal aborts", async () => {
  const pulled = { value: 0 };
  const stop = new AbortController();
  let processed = 0;
  await runPool(numbers(1000, pulled), 2, async () => {
    if (++processed === 10) stop.abort();
    await Promise.resolve();
  }, stop.signal);
  assert.ok(processed < 15, `processed ${processed}`);
});

Deno.test("runPool() rethrows the first worker error after the others settle", async () => {
  const pulled = { value: 0 };
  const failure = new Error("boom");
  await assert.rejects(
    runPool(numbers(100, pulled), 4, async (item) => {
      await Promise.resolve();
      if (item === 7) throw failure;
    }),
    (error) => error === failure,
  );
  assert.ok(pulled.value < 100);
});
