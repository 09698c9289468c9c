/**
 * Writing one blob to S3 so that only verified bytes ever become visible.
 *
 * The body is hashed as it streams. A blob that fits in one part (`partBytes`, 8 MiB by
 * default) is held in memory until its digest is verified and only then sent, in one
 * `PutObject` that also carries its SHA-256 checksum (real S3 checks it; some S3-compatible
 * stores, moto among them, do not). A larger blob goes up as a multipart upload, parts in
 * parallel (at most `partsInFlight` at once, so memory stays bounded, each with its own
 * SHA-256 checksum), and is completed only once the whole stream's digest and size are
 * verified; otherwise the upload is aborted, after its parts in flight settle, so nothing
 * is left behind.
 *
 * Publishing never replaces a blob: both `PutObject` and `CompleteMultipartUpload` carry
 * `If-None-Match: *`. When the key exists (412), the object there is checked: ours carry
 * the digest in their metadata (`x-amz-meta-putplace-sha256`, written only with verified
 * bytes); any other object (one the earlier system wrote, which stored bytes before
 * verifying them) is read and hashed, and replaced by the verified bytes only if it does not
 * match.
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { type Digest, DigestWriter } from "../../digest.ts";
import { AppError, short } from "../../errors.ts";
import { type PutResult, readPutChunk } from "../mod.ts";
import { isConditionalConflict, isNotFound, isPreconditionFailed, unavailable } from "./errors.ts";

/** User metadata on every object this store writes: the digest its bytes were verified to have. */
export const VERIFIED_DIGEST_METADATA = "putplace-sha256";

/** S3 allows at most this many parts in one multipart upload. */
const MAX_PARTS = 10_000;
const PUBLISH_ATTEMPTS = 5;

export interface UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
  digest: Digest;
  partBytes: number;
  partsInFlight: number;
}

export async function putVerified(
  target: UploadTarget,
  size: number | undefined,
  body: ReadableStream<Uint8Array>,
): Promise<PutResult> {
  const { digest } = target;
  const reader = body.getReader();
  const hasher = new DigestWriter();
  const parts = new PartBuffer(target.partBytes);
  let multipart: MultipartUpload | undefined;
  try {
    while (true) {
      const value = await readPutChunk(reader, hasher, digest, size);
      if (value === null) break;
      for (const part of parts.push(value)) {
        multipart ??= await MultipartUpload.start(target);
        await multipart.add(part);
      }
    }
    hasher.verify(digest, size);
    if (!multipart) {
      const bytes = parts.rest();
      const created = await publish(target, (conditional) => putObject(target, bytes, conditional));
      return { created, size: hasher.size };
    }
    await multipart.add(parts.rest());
    await multipart.settle();
    const upload = multipart;
    const created = await publish(target, (conditional) => upload.complete(conditional));
    return { created, size: hasher.size };
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error instanceof AppError ? error : unavailable("write", error, target.bucket);
  } finally {
    reader.releaseLock();
    await multipart?.abortUnlessCompleted();
  }
}

/**
 * Runs `write(true)` (a write that fails with 412 when the key exists) and, when the key
 * exists, keeps what is there if it is verified, else overwrites it with `write(false)`.
 * True when this call wrote the blob.
 */
async function publish(
  target: UploadTarget,
  write: (conditional: boolean) => Promise<void>,
): Promise<boolean> {
  for (let attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt++) {
    try {
      await write(true);
      return true;
    } catch (error) {
      if (isConditionalConflict(error)) {
        await pause(attempt);
        continue;
      }
      if (!isPreconditionFailed(error)) throw error;
    }
    const existing = await checkExisting(target);
    if (existing === "verified") return false;
    if (existing === "mismatched") {
      await write(false);
      return true;
    }
    // Deleted between our write and our look: try again.
  }
  throw new AppError(
    "unavailable",
    `Blob store cannot write blob "${short(target.digest)}": the key kept changing`,
  );
}

/** What is stored under the target's key: absent, verified bytes, or bytes that do not match. */
async function checkExisting(target: UploadTarget): Promise<"absent" | "verified" | "mismatched"> {
  const { client, bucket, key, digest } = target;
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (head.Metadata?.[VERIFIED_DIGEST_METADATA] === digest) return "verified";
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!object.Body) return "mismatched";
    const hasher = new DigestWriter();
    for await (const chunk of object.Body.transformToWebStream()) hasher.update(chunk);
    return hasher.digest() === digest ? "verified" : "mismatched";
  } catch (error) {
    if (isNotFound(error)) return "absent";
    throw error;
  }
}

async function putObject(target: UploadTarget, bytes: Uint8Array, conditional: boolean) {
  await target.client.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: target.key,
      Body: bytes,
      ContentLength: bytes.byteLength,
      ContentType: "application/octet-stream",
      ChecksumAlgorithm: "SHA256",
      ChecksumSHA256: Buffer.from(target.digest, "hex").toString("base64"),
      Metadata: { [VERIFIED_DIGEST_METADATA]: target.digest },
      IfNoneMatch: conditional ? "*" : undefined,
    }),
  );
}

/** Collects chunks into parts of exactly `partBytes`; a part is released only once more bytes follow it. */
class PartBuffer {
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  constructor(private readonly partBytes: number) {}

  /** Adds a chunk; returns the parts that are now complete. */
  push(chunk: Uint8Array): Uint8Array[] {
    const ready: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (this.#bytes === this.partBytes) ready.push(this.rest());
      const take = Math.min(chunk.byteLength - offset, this.partBytes - this.#bytes);
      this.#chunks.push(chunk.subarray(offset, offset + take));
      this.#bytes += take;
      offset += take;
    }
    return ready;
  }

  /** The bytes collected so far, as one array; the buffer is then empty. */
  rest(): Uint8Array {
    const bytes = new Uint8Array(this.#bytes);
    let offset = 0;
    for (const chunk of this.#chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.#chunks = [];
    this.#bytes = 0;
    return bytes;
  }
}

/** One multipart upload: parts sent in parallel, completed or aborted exactly once. */
class MultipartUpload {
  #inFlight = new Set<Promise<void>>();
  #parts: CompletedPart[] = [];
  #count = 0;
  #failure: unknown = undefined;
  #completed = false;
  #aborted = false;

  private constructor(private readonly target: UploadTarget, private readonly uploadId: string) {}

  static async start(target: UploadTarget): Promise<MultipartUpload> {
    const { UploadId } = await target.client.send(
      new CreateMultipartUploadCommand({
        Bucket: target.bucket,
        Key: target.key,
        ContentType: "application/octet-stream",
        ChecksumAlgorithm: "SHA256",
        Metadata: { [VERIFIED_DIGEST_METADATA]: target.digest },
      }),
    );
    if (!UploadId) {
      throw new AppError("unavailable", "Blob store cannot write: S3 gave no upload id");
    }
    return new MultipartUpload(target, UploadId);
  }

  /** Queues a part; waits while `partsInFlight` parts are being sent. */
  async add(bytes: Uint8Array): Promise<void> {
    while (this.#inFlight.size >= this.target.partsInFlight) await Promise.race(this.#inFlight);
    if (this.#failure !== undefined) throw this.#failure;
    const number = ++this.#count;
    if (number > MAX_PARTS) {
      throw new AppError(
        "payload_too_large",
        `Cannot store blob "${
          short(this.target.digest)
        }": larger than ${MAX_PARTS} parts of ${this.target.partBytes} bytes`,
      );
    }
    const sent: Promise<void> = this.#send(number, bytes)
      .catch((error) => {
        this.#failure ??= error;
      })
      .finally(() => this.#inFlight.delete(sent));
    this.#inFlight.add(sent);
  }

  async #send(partNumber: number, bytes: Uint8Array): Promise<void> {
    const { client, bucket, key } = this.target;
    const checksum = createHash("sha256").update(bytes).digest("base64");
    const result = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: this.uploadId,
        PartNumber: partNumber,
        Body: bytes,
        ContentLength: bytes.byteLength,
        ChecksumAlgorithm: "SHA256",
        ChecksumSHA256: checksum,
      }),
    );
    this.#parts.push({ PartNumber: partNumber, ETag: result.ETag, ChecksumSHA256: checksum });
  }

  /** Waits for every part in flight; throws the first part failure. */
  async settle(): Promise<void> {
    await Promise.all(this.#inFlight);
    if (this.#failure !== undefined) throw this.#failure;
  }

  async complete(conditional: boolean): Promise<void> {
    await this.target.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.target.bucket,
        Key: this.target.key,
        UploadId: this.uploadId,
        MultipartUpload: {
          Parts: [...this.#parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0)),
        },
        IfNoneMatch: conditional ? "*" : undefined,
      }),
    );
    this.#completed = true;
  }

  /** Aborts (after the parts in flight settle) unless completed; never throws. */
  async abortUnlessCompleted(): Promise<void> {
    if (this.#completed || this.#aborted) return;
    this.#aborted = true;
    await Promise.all(this.#inFlight);
    await this.target.client.send(
      new AbortMultipartUploadCommand({
        Bucket: this.target.bucket,
        Key: this.target.key,
        UploadId: this.uploadId,
      }),
    ).catch(() => {
      // Left for the bucket's lifecycle rule for incomplete multipart uploads (see README).
    });
  }
}

function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 20));
}
