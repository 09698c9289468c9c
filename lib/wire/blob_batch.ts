/**
 * The small-blob batch framing of `POST /v1/blobs/batch`,
 * `application/vnd.putplace.blob-batch`: for each blob a header line `<digest> <size>\n`
 * (ASCII, the digest as 64 lowercase hex, the size in decimal) followed by exactly `size`
 * bytes. Empty lines between frames are skipped. The client writes it (`frameHeader`,
 * `encodeFrames`), the server reads it (`readFrames`); both are pure.
 *
 * `readFrames` reads frames as the body streams in, holding at most one blob of at most
 * `maxBlobBytes`; a blob declared larger is skipped (its bytes are read and dropped) and
 * reported as such. Broken framing is `invalid_input`; more frames than `maxCount` is
 * `payload_too_large`.
 */
import { type Digest, isDigest } from "../digest.ts";
import { AppError, short } from "../errors.ts";

export const BLOB_BATCH_CONTENT_TYPE = "application/vnd.putplace.blob-batch";

/** The header line of one frame. */
export function frameHeader(digest: string, size: number): string {
  return `${digest} ${size}\n`;
}

/** Encodes blobs in the framing, as one body. */
export function encodeFrames(
  blobs: readonly { digest: string; bytes: Uint8Array }[],
): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  const parts = blobs.flatMap((b) => [
    encoder.encode(frameHeader(b.digest, b.bytes.byteLength)),
    b.bytes,
  ]);
  return concat(parts, parts.reduce((n, p) => n + p.byteLength, 0));
}

/** Longest header line accepted: 64 + 1 + 16 digits, with room to spare. */
const MAX_HEADER_BYTES = 128;
const NEWLINE = 0x0a;
/** A frame's size: decimal, no leading zeros, at most 16 digits. */
const SIZE = /^(0|[1-9][0-9]{0,15})$/;

export type Frame =
  | { index: number; digest: Digest; size: number; bytes: Uint8Array }
  | { index: number; digest: Digest; size: number; tooLarge: true };

export interface FrameLimits {
  maxBlobBytes: number;
  maxCount: number;
}

export async function* readFrames(
  body: ReadableStream<Uint8Array>,
  limits: FrameLimits,
): AsyncGenerator<Frame> {
  const input = new ByteReader(body);
  try {
    let index = 0;
    while (true) {
      const line = await input.readLine(MAX_HEADER_BYTES);
      if (line === null) return;
      if (line === "") continue;
      const [digest, sizeText, ...rest] = line.split(" ");
      if (!isDigest(digest) || sizeText === undefined || !SIZE.test(sizeText) || rest.length) {
        throw new AppError(
          "invalid_input",
          `Malformed blob batch: frame ${index} starts with "${short(line, 80)}", ` +
            `expected "<digest> <size>"`,
        );
      }
      if (index >= limits.maxCount) {
        throw new AppError(
          "payload_too_large",
          `Blob batch has more than ${limits.maxCount} blobs`,
        );
      }
      const frame = index++;
      const size = Number(sizeText);
      if (size > limits.maxBlobBytes) {
        await input.skip(size, frame);
        yield { index: frame, digest, size, tooLarge: true };
      } else {
        yield { index: frame, digest, size, bytes: await input.readExactly(size, frame) };
      }
    }
  } finally {
    await input.cancel();
  }
}

/** Pulls bytes from a stream: lines and exact lengths, across chunk boundaries. */
class ByteReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  async #fill(): Promise<boolean> {
    while (this.#chunk.byteLength === 0 && !this.#done) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await this.#reader.read();
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw new AppError("invalid_input", "Blob batch body ended early", { cause: error });
      }
      if (result.done) this.#done = true;
      else this.#chunk = result.value;
    }
    return this.#chunk.byteLength > 0;
  }

  /** The next line without its newline; null at the end of the body. */
  async readLine(max: number): Promise<string | null> {
    const parts: Uint8Array[] = [];
    let length = 0;
    while (true) {
      if (!await this.#fill()) {
        if (length === 0) return null;
        throw new AppError(
          "invalid_input",
          "Malformed blob batch: the last header line has no newline",
        );
      }
      const newline = this.#chunk.indexOf(NEWLINE);
      const take = newline === -1 ? this.#chunk.byteLength : newline;
      length += take;
      if (length > max) {
        throw new AppError(
          "invalid_input",
          `Malformed blob batch: a header line is longer than ${max} bytes`,
        );
      }
      parts.push(this.#chunk.subarray(0, take));
      this.#chunk = this.#chunk.subarray(newline === -1 ? take : take + 1);
      if (newline !== -1) return new TextDecoder().decode(concat(parts, length));
    }
  }

  async readExactly(size: number, frame: number): Promise<Uint8Array> {
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      if (!await this.#fill()) throw truncated(frame, filled, size);
      const take = Math.min(size - filled, this.#chunk.byteLength);
      out.set(this.#chunk.subarray(0, take), filled);
      filled += take;
      this.#chunk = this.#chunk.subarray(take);
    }
    return out;
  }

  async skip(size: number, frame: number): Promise<void> {
    let skipped = 0;
    while (skipped < size) {
      if (!await this.#fill()) throw truncated(frame, skipped, size);
      const take = Math.min(size - skipped, this.#chunk.byteLength);
      skipped += take;
      this.#chunk = this.#chunk.subarray(take);
    }
  }

  async cancel(): Promise<void> {
    if (!this.#done) await this.#reader.cancel().catch(() => {});
    this.#reader.releaseLock();
  }
}

function truncated(frame: number, got: number, size: number): AppError {
  return new AppError(
    "invalid_input",
    `Blob batch body ended early: frame ${frame} has ${got} of its ${size} bytes`,
  );
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
