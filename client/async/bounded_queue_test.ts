import assert from "node:assert/strict";
import { BoundedQueue } from "./bounded_queue.ts";

Deno.test("BoundedQueue.push() waits while the queue is full and resumes when an item is taken", async () => {
  const queue = new BoundedQueue<number>(2);
  assert.equal(await queue.push(1), true);
  assert.equal(await queue.push(2), true);
  let third = false;
  const pushing = queue.push(3).then((ok) => {
    third = ok;
  });
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(third, false, "the third push waits");
  assert.equal(queue.size, 2);
  assert.equal(await queue.pop(), 1);
  await pushing;
  assert.equal(third, true);
  assert.deepEqual([await queue.pop(), await queue.pop()], [2, 3]);
});

Deno.test("BoundedQueue.pop() waits for an item, and drains what is left after close()", async () => {
  const queue = new BoundedQueue<string>(4);
  const popped = queue.pop();
  await queue.push("a");
  assert.equal(await popped, "a");
  await queue.push("b");
  queue.close();
  assert.equal(await queue.push("c"), false, "a closed queue refuses pushes");
  assert.equal(await queue.pop(), "b");
  assert.equal(await queue.pop(), undefined);
});

Deno.test("BoundedQueue.pop(timeout) answers undefined when nothing comes, and a later push still reaches a waiting pop", async () => {
  const queue = new BoundedQueue<number>(1);
  assert.equal(await queue.pop(5), undefined);
  assert.equal(queue.closed, false);
  const waiting = queue.pop();
  await queue.push(7);
  assert.equal(await waiting, 7);
});

Deno.test("BoundedQueue.close() wakes pushers waiting for room; discard() drops what is queued", async () => {
  const queue = new BoundedQueue<number>(1);
  await queue.push(1);
  const blocked = queue.push(2);
  assert.equal(queue.discard(), 1);
  assert.equal(await blocked, false);
  assert.equal(await queue.pop(), undefined);
});

Deno.test("BoundedQueue iterates in order until closed and empty", async () => {
  const queue = new BoundedQueue<number>(3);
  const producer = (async () => {
    for (let i = 0; i < 100; i++) await queue.push(i);
    queue.close();
  })();
  const seen: number[] = [];
  for await (const item of queue) seen.push(item);
  await producer;
  assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i));
});

Deno.test("BoundedQueue refuses a capacity below 1", () => {
  assert.throws(() => new BoundedQueue(0), RangeError);
});
