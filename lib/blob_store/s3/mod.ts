/**
 * S3 blob store (AWS S3 or any S3-compatible store: MinIO, Ceph, R2, moto in tests).
 *
 * Key layout `<prefix><first two hex>/<digest>` (default prefix `files/`), the earlier
 * system's, so its buckets keep working. Writes: see upload.ts (verify before publish,
 * never replace). Reads stream the object's body; a range is resolved against the object's
 * size first. Opening checks that the bucket exists and is writable (a probe object under
 * the prefix is written and deleted) and says what is wrong when it is not.
 *
 * Credentials: explicit keys when both are given, else the named profile, else the AWS
 * default chain (environment, shared config and credentials files, SSO, container and
 * instance roles).
 */
import { randomBytes } from "node:crypto";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { Digest } from "../../digest.ts";
import { AppError, short } from "../../errors.ts";
import { blobKey } from "../_layout.ts";
import {
  type BlobBytes,
  type BlobStore,
  type ByteRange,
  putEach,
  type PutManyResult,
  type PutResult,
  resolveRange,
  type S3BlobStoreConfig,
  type StoredBlob,
} from "../mod.ts";
import { isNotFound, reasonOf, unavailable } from "./errors.ts";
import { putVerified } from "./upload.ts";

export const S3_DEFAULTS = {
  region: "us-east-1",
  prefix: "files/",
  partBytes: 8 * 1024 * 1024,
  partsInFlight: 4,
} as const;

/** How long to wait for a TCP connection to the endpoint. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Puts in flight at once for `putMany`. */
const PUT_MANY_CONCURRENCY = 16;

export async function openS3BlobStore(config: S3BlobStoreConfig): Promise<BlobStore> {
  const client = new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    profile: config.profile,
    credentials: config.accessKeyId && config.secretAccessKey
      ? {
        accessKeyId: config.accessKeyId,
        secretAccessKey: config.secretAccessKey,
        sessionToken: config.sessionToken,
      }
      : undefined,
    // Checksums are set explicitly (SHA-256 of every put and part), not by the SDK.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS },
  });
  const store = new S3BlobStore(client, config);
  try {
    await store.checkWritable();
    return store;
  } catch (error) {
    client.destroy();
    throw error;
  }
}

class S3BlobStore implements BlobStore {
  readonly kind = "s3";
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #where: string;
  readonly #partBytes: number;
  readonly #partsInFlight: number;

  constructor(client: S3Client, config: S3BlobStoreConfig) {
    this.#client = client;
    this.#bucket = config.bucket;
    this.#prefix = config.prefix;
    this.#where = `S3 bucket "${config.bucket}"${
      config.endpoint ? ` at "${config.endpoint}"` : ` in region ${config.region}`
    }`;
    this.#partBytes = config.partBytes ?? S3_DEFAULTS.partBytes;
    this.#partsInFlight = config.partsInFlight ?? S3_DEFAULTS.partsInFlight;
  }

  #key(digest: Digest): string {
    return blobKey(digest, this.#prefix);
  }

  /** Fails with one message naming what is wrong: no bucket, no access, no endpoint. */
  async checkWritable(): Promise<void> {
    const fail = (what: string, error: unknown) =>
      new AppError(
        "unavailable",
        `Cannot use ${this.#where}: ${what}${reasonOf(error, this.#bucket)}`,
        {
          cause: error,
        },
      );
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
    } catch (error) {
      throw fail("", error);
    }
    const probe = `${this.#prefix}.putplace-write-check-${randomBytes(8).toString("hex")}`;
    try {
      await this.#client.send(
        new PutObjectCommand({ Bucket: this.#bucket, Key: probe, Body: new Uint8Array(0) }),
      );
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: probe }));
    } catch (error) {
      throw fail(`cannot write under "${this.#prefix}": `, error);
    }
  }

  async has(digest: Digest): Promise<boolean> {
    try {
      await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(digest) }),
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw unavailable("read", error, this.#bucket);
    }
  }

  async put(
    digest: Digest,
    size: number | undefined,
    body: ReadableStream<Uint8Array>,
  ): Promise<PutResult> {
    return await putVerified(
      {
        client: this.#client,
        bucket: this.#bucket,
        key: this.#key(digest),
        digest,
        partBytes: this.#partBytes,
        partsInFlight: this.#partsInFlight,
      },
      size,
      body,
    );
  }

  async get(digest: Digest, range?: ByteRange): Promise<StoredBlob | null> {
    const Key = this.#key(digest);
    try {
      if (!range) {
        const object = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key }));
        const size = object.ContentLength ?? 0;
        return { size, range: { start: 0, end: size - 1 }, body: bodyOf(object.Body) };
      }
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key }));
      const size = head.ContentLength ?? 0;
      const resolved = resolveRange(size, range);
      if (resolved === "unsatisfiable") {
        throw new AppError(
          "invalid_input",
          `Range starting at ${range.start} is outside blob "${short(digest)}" of ${size} bytes`,
        );
      }
      const object = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key,
          Range: `bytes=${resolved.start}-${resolved.end}`,
          IfMatch: head.ETag,
        }),
      );
      return { size, range: resolved, body: bodyOf(object.Body) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw unavailable("read", error, this.#bucket);
    }
  }

  /** S3 has no cheaper way to store many objects: each is a verified `put`. */
  putMany(blobs: readonly BlobBytes[]): Promise<PutManyResult[]> {
    return putEach(this, blobs, PUT_MANY_CONCURRENCY);
  }

  async delete(digest: Digest): Promise<void> {
    try {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(digest) }),
      );
    } catch (error) {
      if (isNotFound(error)) return;
      throw unavailable("delete", error, this.#bucket);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
    } catch (error) {
      throw unavailable("reach the bucket", error, this.#bucket);
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#client.destroy();
    return Promise.resolve();
  }
}

/** The SDK's body as a web stream (an empty stream for an empty object). */
function bodyOf(
  body: { transformToWebStream(): ReadableStream } | undefined,
): ReadableStream<Uint8Array> {
  if (!body) return ReadableStream.from<Uint8Array>([]);
  return body.transformToWebStream() as ReadableStream<Uint8Array>;
}
