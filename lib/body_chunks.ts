/**
 * Reads a body chunk by chunk. A byte stream (Deno's request and response bodies) is read
 * into one reused buffer: with the default reader every chunk is a new allocation, and
 * V8 lets ~64 MiB of dead ones pile up before it collects them (measured: a 1 GiB request
 * body read to nothing peaks at 117 MiB RSS that way, 50 MiB with a reused buffer).
 * Other streams are read with the default reader.
 */
export interface BodyChunks {
  /** The next chunk, valid until the next call; null at the end. */
  next(): Promise<Uint8Array | null>;
  cancel(): Promise<void>;
  release(): void;
}

export function chunksOf(body: ReadableStream<Uint8Array>, bufferBytes: number): BodyChunks {
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream: the default reader below.
  }
  const reader = byob ?? body.getReader();
  let buffer = new ArrayBuffer(bufferBytes);
  return {
    async next(): Promise<Uint8Array | null> {
      if (byob === null) {
        const result = await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
        return result.done ? null : result.value;
      }
      const result = await byob.read(new Uint8Array(buffer));
      if (result.value) buffer = result.value.buffer as ArrayBuffer;
      return result.done ? null : result.value;
    },
    cancel: () => reader.cancel().catch(() => {}),
    release: () => reader.releaseLock(),
  };
}
