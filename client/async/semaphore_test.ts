import assert from "node:assert/strict";
import { Semaphore } from "./semaphore.ts";

Deno.test("Semaphore lets at most its permits run at once", async () => {
  const semaphore = new Semaphore(2);
  let running = 0;
  let most = 0;
  await Promise.all(Array.from({ length: 10 }, () =>
    semaphore.with(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      running--;
    })));
  assert.equal(most, 2);
  assert.equal(semaphore.free, 2);
});

Deno.test("Semaphore.acquire() rejects when its signal aborts while waiting, and the permit is not lost", async () => {
  const semaphore = new Semaphore(1);
  await semaphore.acquire();
  const controller = new AbortController();
  const waiting = semaphore.acquire(controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
  semaphore.release();
  assert.equal(semaphore.free, 1);
});
