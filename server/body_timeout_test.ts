import assert from "node:assert/strict";
import { AppError } from "../lib/errors.ts";
import { timedBody } from "./body_timeout.ts";

Deno.test("timedBody() passes chunks through and counts them", async () => {
  const counted: number[] = [];
  const body = timedBody(
    ReadableStream.from([new Uint8Array(3), new Uint8Array(5)]),
    { timeoutMs: 1000, onStall: () => assert.fail("no stall"), onBytes: (n) => counted.push(n) },
  );
  const chunks = await Array.fromAsync(body);
  assert.deepEqual(chunks.map((c) => c.length), [3, 5]);
  assert.deepEqual(counted, [3, 5]);
});

Deno.test("timedBody() fails with 408 when no chunk comes for the timeout, and says so once", async () => {
  let stalls = 0;
  let cancelled: unknown;
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(1));
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  const reader = timedBody(source, { timeoutMs: 50, onStall: () => stalls++, onBytes: () => {} })
    .getReader();
  assert.equal((await reader.read()).value?.length, 1);
  await assert.rejects(
    reader.read(),
    (error: unknown) =>
      error instanceof AppError && error.status === 408 && /stopped arriving/.test(error.message),
  );
  assert.equal(stalls, 1);
  assert.ok(cancelled instanceof AppError, "the source is cancelled");
});
