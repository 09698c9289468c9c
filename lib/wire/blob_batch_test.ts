import assert from "node:assert/strict";
import { digestOf } from "../digest.ts";
import { AppError } from "../errors.ts";
import { encodeFrames, type Frame, frameHeader, readFrames } from "./blob_batch.ts";

const LIMITS = { maxBlobBytes: 1024, maxCount: 100 };
const encoder = new TextEncoder();

/** A stream that hands out `bytes` in chunks of `chunkSize`, to cross every boundary. */
function chunked(bytes: Uint8Array, chunkSize: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>, limits = LIMITS): Promise<Frame[]> {
  const frames: Frame[] = [];
  for await (const frame of readFrames(body, limits)) frames.push(frame);
  return frames;
}

function blob(text: string) {
  const bytes = encoder.encode(text);
  return { digest: digestOf(bytes), bytes };
}

Deno.test("readFrames() yields each blob with its digest and exact bytes, whatever the chunking", async () => {
  const blobs = [blob("first"), blob(""), blob("line\nwith newline\n"), blob("x".repeat(700))];
  const encoded = encodeFrames(blobs);
  for (const chunkSize of [1, 2, 7, 64, 65, 4096]) {
    const frames = await collect(chunked(encoded, chunkSize));
    assert.deepEqual(
      frames,
      blobs.map((b, index) => ({
        index,
        digest: b.digest,
        size: b.bytes.byteLength,
        bytes: b.bytes,
      })),
      `chunks of ${chunkSize}`,
    );
  }
});

Deno.test("readFrames() yields nothing for an empty body and skips blank lines between frames", async () => {
  assert.deepEqual(await collect(chunked(new Uint8Array(0), 1)), []);
  const a = blob("a");
  const body = new Uint8Array([
    ...encoder.encode("\n"),
    ...encodeFrames([a]),
    ...encoder.encode("\n\n"),
  ]);
  assert.equal((await collect(chunked(body, 3))).length, 1);
});

Deno.test("readFrames() skips the bytes of a blob over the per-blob cap and reports it", async () => {
  const big = blob("y".repeat(2000));
  const small = blob("small");
  const frames = await collect(chunked(encodeFrames([big, small]), 100));
  assert.deepEqual(frames[0], { index: 0, digest: big.digest, size: 2000, tooLarge: true });
  assert.deepEqual(frames[1], { index: 1, digest: small.digest, size: 5, bytes: small.bytes });
});

Deno.test("readFrames() rejects a malformed header line with invalid_input", async () => {
  for (
    const header of [
      "nothex 5\n",
      `${"A".repeat(64)} 1\n`,
      `${digestOf("a")} -1\n`,
      `${digestOf("a")} 01\n`,
      `${digestOf("a")}\n`,
      `${digestOf("a")}  1\n`,
      `${digestOf("a")} 1 1\n`,
      `${digestOf("a")} 1\r\n`,
    ]
  ) {
    await assert.rejects(
      collect(chunked(encoder.encode(header + "a"), 16)),
      (error: unknown) =>
        error instanceof AppError && error.code === "invalid_input" &&
        /Malformed blob batch/.test(error.message),
      header,
    );
  }
});

Deno.test("readFrames() rejects an overlong header line without reading on", async () => {
  await assert.rejects(
    collect(chunked(encoder.encode("z".repeat(10_000)), 1000)),
    (error: unknown) => error instanceof AppError && /longer than 128 bytes/.test(error.message),
  );
});

Deno.test("readFrames() rejects a body that ends inside a frame", async () => {
  const a = blob("complete bytes");
  const encoded = encodeFrames([a]);
  await assert.rejects(
    collect(chunked(encoded.subarray(0, encoded.byteLength - 3), 4)),
    (error: unknown) =>
      error instanceof AppError && error.code === "invalid_input" &&
      /frame 0 has 11 of its 14 bytes/.test(error.message),
  );
  await assert.rejects(
    collect(chunked(encoder.encode(`${a.digest} 14`), 4)),
    (error: unknown) => error instanceof AppError && /no newline/.test(error.message),
  );
});

Deno.test("readFrames() refuses more blobs than the count cap with payload_too_large", async () => {
  const blobs = Array.from({ length: 4 }, (_, i) => blob(`blob ${i}`));
  await assert.rejects(
    collect(chunked(encodeFrames(blobs), 50), { maxBlobBytes: 1024, maxCount: 3 }),
    (error: unknown) => error instanceof AppError && error.code === "payload_too_large",
  );
});

Deno.test("readFrames() passes on an error of the body stream as invalid_input", async () => {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`${digestOf("abc")} 3\na`));
    },
    pull(controller) {
      controller.error(new TypeError("connection reset"));
    },
  });
  await assert.rejects(
    collect(body),
    (error: unknown) =>
      error instanceof AppError && error.code === "invalid_input" &&
      /ended early/.test(error.message),
  );
});

Deno.test("encodeFrames() writes each blob as its frameHeader line then its bytes", () => {
  const a = blob("alpha");
  const empty = blob("");
  const body = encodeFrames([a, empty]);
  const expected = `${frameHeader(a.digest, 5)}alpha${frameHeader(empty.digest, 0)}`;
  assert.equal(new TextDecoder().decode(body), expected);
  assert.equal(frameHeader(a.digest, 5), `${a.digest} 5\n`);
});
