/**
 * A bounded pool of workers pulling from one async iterator: at most `workers` items
 * are in flight, and the source is only read as fast as they are taken (a walk is
 * never drained into a list). Workers stop taking items once `stop` aborts. The first
 * error a worker throws stops the others and is rethrown once all have settled.
 */
export async function runPool<T>(
  source: AsyncIterator<T>,
  workers: number,
  work: (item: T, worker: number) => Promise<void>,
  stop?: AbortSignal,
): Promise<void> {
  let failure: { error: unknown } | null = null;
  const worker = async (index: number) => {
    while (failure === null && !stop?.aborted) {
      const next = await source.next();
      if (next.done) return;
      try {
        await work(next.value, index);
      } catch (error) {
        failure ??= { error };
        return;
      }
    }
  };
  const settled = await Promise.allSettled(
    Array.from({ length: Math.max(1, workers) }, (_, i) => worker(i)),
  );
  for (const result of settled) {
    if (result.status === "rejected") failure ??= { error: result.reason };
  }
  await source.return?.();
  if (failure !== null) throw failure.error;
}
