/**
 * A bounded first-in first-out queue between two stages of a pipeline: `push` waits while
 * the queue holds `capacity` items (backpressure), `pop` waits while it is empty. After
 * `close()` pushes are refused and `pop` drains what is left, then answers `undefined`.
 * `discard()` closes and drops what is left (the items are counted by whoever gave up).
 */
export class BoundedQueue<T extends NonNullable<unknown>> {
  readonly capacity: number;
  #items: (T | undefined)[] = [];
  #head = 0;
  #closed = false;
  #notFull: (() => void)[] = [];
  #notEmpty: (() => void)[] = [];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`A queue needs a capacity of at least 1, not ${capacity}`);
    }
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Adds an item, waiting for room; false when the queue is (or gets) closed. */
  async push(item: T): Promise<boolean> {
    while (!this.#closed && this.size >= this.capacity) {
      await new Promise<void>((resolve) => this.#notFull.push(resolve));
    }
    if (this.#closed) return false;
    this.#items.push(item);
    this.#wake(this.#notEmpty);
    return true;
  }

  /**
   * The next item, waiting for one; `undefined` once the queue is closed and empty, or
   * when `timeoutMs` passes with nothing to take (`timedOut()` then tells which).
   */
  async pop(timeoutMs?: number): Promise<T | undefined> {
    while (this.size === 0 && !this.#closed) {
      if (timeoutMs === undefined) {
        await new Promise<void>((resolve) => this.#notEmpty.push(resolve));
        continue;
      }
      let fired = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#notEmpty.push(resolve);
        timer = setTimeout(() => {
          fired = true;
          const at = this.#notEmpty.indexOf(resolve);
          if (at !== -1) this.#notEmpty.splice(at, 1);
          resolve();
        }, timeoutMs);
      });
      clearTimeout(timer);
      if (fired && this.size === 0) return undefined;
    }
    if (this.size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#wake(this.#notFull);
    return item;
  }

  /** No more pushes; what is queued can still be popped. */
  close(): void {
    this.#closed = true;
    this.#wakeAll();
  }

  /** Closes and drops what is queued; answers how many items were dropped. */
  discard(): number {
    const dropped = this.size;
    this.#items = [];
    this.#head = 0;
    this.close();
    return dropped;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = await this.pop();
      if (item === undefined) return;
      yield item;
    }
  }

  #wake(waiters: (() => void)[]): void {
    waiters.shift()?.();
  }

  #wakeAll(): void {
    for (const resolve of this.#notFull.splice(0)) resolve();
    for (const resolve of this.#notEmpty.splice(0)) resolve();
  }
}
