/**
 * Digests: lowercase hex SHA-256 of a blob, and the streaming hash that produces them.
 * Hashing uses node:crypto, which in Deno runs ~15x faster than crypto.subtle.
 */
import { createHash, type Hash } from "node:crypto";
import { z } from "zod";
import { AppError, short } from "./errors.ts";

/** The one spelling of a digest's shape: 64 lowercase hex characters. */
export const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

/**
 * A digest on any trust boundary (JSON bodies, rows, documents, wire answers). It keeps
 * its pattern in the generated JSON Schema, for the input and the output alike.
 */
export const digestSchema = z.string().regex(DIGEST_PATTERN, {
  message: "Expected a digest: 64 lowercase hex characters",
}).brand<"Digest">();
export type Digest = z.infer<typeof digestSchema>;

/** The digest of zero bytes: always "stored", never uploaded. */
export const EMPTY_DIGEST =
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" as Digest;

export function isDigest(value: unknown): value is Digest {
  return typeof value === "string" && DIGEST_PATTERN.test(value);
}

/** Accepts exactly 64 lowercase hex characters; anything else is `invalid_input`. */
export function parseDigest(value: string): Digest {
  if (!isDigest(value)) {
    throw new AppError(
      "invalid_input",
      `Invalid digest "${short(String(value), 80)}": expected 64 lowercase hex characters`,
    );
  }
  return value;
}

/** Incremental SHA-256 that also counts bytes. */
export class DigestWriter {
  #hash: Hash = createHash("sha256");
  #size = 0;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
  }

  get size(): number {
    return this.#size;
  }

  digest(): Digest {
    return this.#hash.digest("hex") as Digest;
  }

  /**
   * Ends the hash and checks what arrived is blob `expected` (and `declaredSize` bytes
   * long, when given); otherwise throws `invalid_input` (size) or `digest_mismatch`.
   */
  verify(expected: Digest, declaredSize?: number): void {
    if (declaredSize !== undefined && this.#size !== declaredSize) {
      throw new AppError(
        "invalid_input",
        `Cannot store blob "${
          short(expected)
        }": ${this.#size} bytes arrived, ${declaredSize} declared`,
      );
    }
    const actual = this.digest();
    if (actual !== expected) {
      throw new AppError(
        "digest_mismatch",
        `Cannot store blob "${short(expected)}": bytes hash to "${short(actual)}"`,
      );
    }
  }
}

/** Why in-memory `bytes` are not blob `expected` (`digest_mismatch`); null when they are. */
export function bytesMismatch(expected: Digest, bytes: Uint8Array): AppError | null {
  const hasher = new DigestWriter();
  hasher.update(bytes);
  try {
    hasher.verify(expected, bytes.byteLength);
    return null;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
}

/**
 * Reads and hashes a body without keeping it: its size when it is blob `expected`
 * (`declaredSize` bytes, when given), else it throws like `DigestWriter.verify`; a body
 * that fails midway is `invalid_input`.
 */
export async function verifyStream(
  expected: Digest,
  declaredSize: number | undefined,
  body: ReadableStream<Uint8Array>,
): Promise<number> {
  const hasher = new DigestWriter();
  try {
    for await (const chunk of body) hasher.update(chunk);
  } catch (error) {
    throw new AppError(
      "invalid_input",
      `Cannot store blob "${short(expected)}": the upload ended early`,
      { cause: error },
    );
  }
  hasher.verify(expected, declaredSize);
  return hasher.size;
}

/**
 * A pass-through stream that hashes what flows through it. After the stream ends,
 * `result()` gives the digest and byte count.
 */
export function digestingStream(): {
  stream: TransformStream<Uint8Array, Uint8Array>;
  result: () => { digest: Digest; size: number };
} {
  const writer = new DigestWriter();
  let final: { digest: Digest; size: number } | undefined;
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      writer.update(chunk);
      controller.enqueue(chunk);
    },
    flush() {
      final = { digest: writer.digest(), size: writer.size };
    },
  });
  return {
    stream,
    result: () => {
      if (!final) throw new AppError("internal", "Digest read before the stream ended");
      return final;
    },
  };
}

/** Digest of in-memory bytes (tests and small values only; files use `hashFile`). */
export function digestOf(bytes: Uint8Array | string): Digest {
  return createHash("sha256").update(bytes).digest("hex") as Digest;
}
