/**
 * Resumable uploads of large blobs, modeled on tus and the IETF resumable upload draft.
 *
 * An upload is created for a digest and size, then appended to at its current offset
 * by any number of requests; each append makes its bytes durable (fsync) before it is
 * acknowledged, and a request cut off keeps the bytes that arrived. The bytes are hashed
 * as they arrive (the hash so far is kept in memory between appends; after a restart the
 * part is read once to rebuild it) and written past the page cache (`DirectWriter`).
 * When the offset reaches the size, the hash is checked against the digest and the
 * durable part is published: adopted by the blob store in place when it can (fs, same
 * filesystem: a hard link, no copy), else streamed through `storeBlob` (S3). Then the
 * upload is gone; bytes that do not hash to the digest discard the upload. Uploads
 * untouched for `expirySeconds` are removed by `sweepExpiredUploads`.
 *
 * On disk, in the directory given: `<id>.json` (digest, size, creation time; written
 * atomically, its presence is the upload's existence) and `<id>.part` (the bytes so far;
 * its length is the offset). One append at a time per upload: a second concurrent one is
 * a conflict (an in-process lock, and an exclusive `flock` on the part file for the other
 * workers of a ppserver with `--workers`, which share this directory).
 */
import { dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { type Digest, DigestWriter, EMPTY_DIGEST } from "../lib/digest.ts";
import { adoptBlobByDigest, isStored, storeBlobByDigest, type Stores } from "../lib/dedup.ts";
import { AppError, isAppError, short } from "../lib/errors.ts";
import { digestSchema } from "../lib/digest.ts";
import { chunksOf } from "../lib/body_chunks.ts";
import { DirectWriter } from "../lib/direct_writer.ts";
import { fsErrorName, isNoSpace } from "../lib/fs_error_name.ts";
import { syncDirectory } from "../lib/sync_directory.ts";

export interface UploadStatus {
  id: string;
  digest: Digest;
  size: number;
  /** Bytes durably received. */
  offset: number;
  created_at: string;
  /** When the upload is removed unless it is appended to before. */
  expires_at: string;
}

export type CreateResult =
  | { kind: "created"; upload: UploadStatus }
  | { kind: "already_stored"; digest: Digest; size: number };

export type AppendResult =
  /** More bytes are needed; `interrupted` when the body ended early (what came is kept). */
  | { kind: "partial"; upload: UploadStatus; interrupted: boolean }
  /** The upload is complete and verified; `created` false when the blob was already stored. */
  | { kind: "complete"; digest: Digest; size: number; created: boolean };

export interface ResumableUploadsOptions {
  /** Where partial uploads live (`<data dir>/uploads`); created when missing. */
  dir: string;
  stores: Stores;
  /** Uploads untouched this long are removed by `sweepExpiredUploads`. */
  expirySeconds: number;
  /** Largest upload accepted. */
  maxUploadBytes: number;
}

const ID_PATTERN = /^[0-9a-f]{32}$/;
const HASH_BUFFER_BYTES = 1 << 20;
const READ_BUFFER_BYTES = 1 << 20;

const recordSchema = z.object({
  digest: digestSchema,
  size: z.number().int().min(0),
  created_at: z.string(),
  /** The id of the API key that created the upload (absent in records from before). */
  owner: z.string().optional(),
});
type UploadRecord = z.infer<typeof recordSchema>;

export async function openResumableUploads(
  options: ResumableUploadsOptions,
): Promise<ResumableUploads> {
  try {
    await Deno.mkdir(options.dir, { recursive: true });
    // Its entry in the data directory is durable before any upload in it is acknowledged.
    await syncDirectory(dirname(resolve(options.dir)));
  } catch (error) {
    throw new AppError("unavailable", `Cannot use the uploads directory: ${fsErrorName(error)}`, {
      cause: error,
    });
  }
  return new ResumableUploads(options);
}

/**
 * Who asks: an upload belongs to the API key that created it; another key gets
 * `not_found` for it (as for an unknown id), except an admin key.
 */
export interface UploadCaller {
  keyId: string;
  admin: boolean;
}

export function isUploadId(value: string): boolean {
  return ID_PATTERN.test(value);
}

export class ResumableUploads {
  readonly expirySeconds: number;
  readonly #dir: string;
  readonly #stores: Stores;
  readonly #maxUploadBytes: number;
  /** Uploads being appended to, with the offset made durable so far. */
  readonly #active = new Map<string, { durable: number }>();
  /**
   * The hash of each upload's bytes so far, updated as appends arrive in order, so that
   * completing an upload does not read it again. Lost on restart: then the part is read.
   */
  readonly #hashers = new Map<string, DigestWriter>();
  /** Uploads the expiry sweep is deciding about: appends wait (409) meanwhile. */
  readonly #expiring = new Set<string>();

  constructor(options: ResumableUploadsOptions) {
    this.#dir = options.dir;
    this.#stores = options.stores;
    this.expirySeconds = options.expirySeconds;
    this.#maxUploadBytes = options.maxUploadBytes;
  }

  #record(id: string): string {
    return join(this.#dir, `${id}.json`);
  }

  #part(id: string): string {
    return join(this.#dir, `${id}.part`);
  }

  /** Starts an upload, unless the blob is already stored. */
  async create(
    digest: Digest,
    size: number,
    caller: UploadCaller,
    now = new Date(),
  ): Promise<CreateResult> {
    if (size > this.#maxUploadBytes) {
      throw new AppError(
        "payload_too_large",
        `Upload of ${size} bytes is larger than the limit of ${this.#maxUploadBytes} bytes`,
      );
    }
    if (size === 0 && digest !== EMPTY_DIGEST) {
      throw new AppError(
        "digest_mismatch",
        `Cannot upload blob "${short(digest)}" with size 0: zero bytes hash to "${
          short(EMPTY_DIGEST)
        }"`,
      );
    }
    if (await isStored(this.#stores, digest)) return { kind: "already_stored", digest, size };
    const id = randomBytes(16).toString("hex");
    const record: UploadRecord = {
      digest,
      size,
      created_at: now.toISOString(),
      owner: caller.keyId,
    };
    await io("create the upload", async () => {
      const part = await Deno.open(this.#part(id), { write: true, createNew: true });
      part.close();
      const temp = `${this.#record(id)}.tmp`;
      await writeDurably(temp, JSON.stringify(record));
      await Deno.rename(temp, this.#record(id));
      await syncDirectory(this.#dir);
    });
    return { kind: "created", upload: this.#status(id, record, 0, now) };
  }

  /** Where an upload stands; `not_found` when there is no such upload. */
  async status(id: string, caller: UploadCaller): Promise<UploadStatus> {
    const record = await this.#read(id, caller);
    const info = await this.#statPart(id);
    const active = this.#active.get(id);
    if (active) return this.#status(id, record, active.durable, new Date());
    return this.#status(id, record, info.size, info.mtime ?? new Date(record.created_at));
  }

  /**
   * Appends `body` at `offset`, which must be the upload's offset (else `conflict`). The
   * bytes are durable before this returns; a body that ends early keeps what arrived.
   * More bytes than the upload's size: `invalid_input`, nothing of this body is kept.
   */
  async append(
    id: string,
    caller: UploadCaller,
    offset: number,
    body: ReadableStream<Uint8Array>,
    declaredLength?: number,
  ): Promise<AppendResult> {
    if (this.#active.has(id) || this.#expiring.has(id)) {
      await body.cancel().catch(() => {});
      throw new AppError(
        "conflict",
        `Upload "${id}" is being appended to by another request; retry when it ends`,
      );
    }
    const state = { durable: 0 };
    this.#active.set(id, state);
    // The hash of the bytes so far, taken out while this append runs: kept again only when
    // it matches the bytes on disk when the append ends.
    let hasher = this.#hashers.get(id);
    this.#hashers.delete(id);
    let writer: DirectWriter | undefined;
    let lock: Disposable | undefined;
    try {
      const record = await this.#read(id, caller);
      lock = await this.#lockAcross(id);
      const start = (await this.#statPart(id)).size;
      state.durable = start;
      if (offset !== start) {
        throw new AppError("conflict", `Upload "${id}" is at offset ${start}, not ${offset}`);
      }
      if (declaredLength !== undefined && start + declaredLength > record.size) {
        throw tooMuch(id, record.size);
      }
      if (hasher?.size !== start) hasher = await this.#hashPart(id, start);
      writer = await io("write the upload", () => DirectWriter.open(this.#part(id), start));
      let appended: Awaited<ReturnType<typeof appendBody>>;
      try {
        appended = await appendBody(writer, hasher, body, record.size - start);
        if (!appended.overflow) await io("write the upload", () => writer!.finish());
      } catch (error) {
        // A failed write or sync (EIO, ENOSPC): bytes past `start` may never have reached
        // the disk. The part is cut back to the last acknowledged offset, so a later
        // completion cannot publish bytes that are not there.
        await writer.close().catch(() => {});
        writer = undefined;
        await this.#cutBack(id, start).catch(() => {});
        throw error;
      }
      const { written, interrupted, overflow } = appended;
      await writer.close();
      writer = undefined;
      if (overflow) {
        await this.#cutBack(id, start);
        throw tooMuch(id, record.size);
      }
      const reached = start + written;
      if (reached < record.size) {
        state.durable = reached;
        this.#hashers.set(id, hasher);
        return {
          kind: "partial",
          upload: this.#status(id, record, reached, new Date()),
          interrupted,
        };
      }
      return await this.#complete(id, record, hasher);
    } finally {
      await writer?.close().catch(() => {});
      lock?.[Symbol.dispose]();
      this.#active.delete(id);
    }
  }

  /**
   * Holds the upload against the other processes sharing this directory (an exclusive
   * `flock` on its part file, let go on dispose); `conflict` when one of them holds it.
   */
  async #lockAcross(id: string): Promise<Disposable> {
    let part: Deno.FsFile;
    try {
      part = await Deno.open(this.#part(id), { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw noUpload(id);
      throw unavailable("use the upload", error);
    }
    if (!await part.tryLock(true)) {
      part.close();
      throw new AppError(
        "conflict",
        `Upload "${id}" is being appended to by another request; retry when it ends`,
      );
    }
    return { [Symbol.dispose]: () => part.close() };
  }

  /** Removes an upload; `not_found` when there is none, `conflict` while it is appended to. */
  async abandon(id: string, caller: UploadCaller): Promise<void> {
    if (this.#active.has(id)) {
      throw new AppError("conflict", `Upload "${id}" is being appended to; cannot remove it now`);
    }
    this.#active.set(id, { durable: 0 });
    try {
      await this.#read(id, caller);
      using _lock = await this.#lockAcross(id);
      await this.#remove(id);
    } finally {
      this.#active.delete(id);
    }
  }

  /**
   * Removes uploads untouched for `expirySeconds` before `now` (and stray files of
   * uploads that never finished being created). Returns how many uploads were removed.
   */
  async sweepExpiredUploads(now = new Date()): Promise<number> {
    const cutoff = now.getTime() - this.expirySeconds * 1000;
    const lastTouched = new Map<string, number>();
    await io("list uploads", async () => {
      for await (const entry of Deno.readDir(this.#dir)) {
        const id = entry.name.split(".")[0];
        if (!entry.isFile || !isUploadId(id)) continue;
        const info = await Deno.stat(join(this.#dir, entry.name)).catch(() => null);
        if (!info) continue;
        const touched = (info.mtime ?? now).getTime();
        lastTouched.set(id, Math.max(lastTouched.get(id) ?? 0, touched));
      }
    });
    let removed = 0;
    for (const [id, touched] of lastTouched) {
      if (touched > cutoff || this.#active.has(id)) continue;
      // An append may have run since the listing: the upload is looked at again, with
      // appends held off, and kept when it was touched meanwhile.
      this.#expiring.add(id);
      try {
        if (this.#active.has(id) || await this.#lastTouched(id) > cutoff) continue;
        await this.#remove(id);
        removed++;
      } finally {
        this.#expiring.delete(id);
      }
    }
    return removed;
  }

  /** Verifies the whole upload's hash, then publishes it: adopted in place when possible. */
  async #complete(id: string, record: UploadRecord, hasher: DigestWriter): Promise<AppendResult> {
    const { digest, size } = record;
    try {
      hasher.verify(digest, size);
    } catch (error) {
      // Bytes that are not the blob never will be: the upload is discarded.
      await this.#remove(id);
      throw error;
    }
    const adopted = await adoptBlobByDigest(this.#stores, digest, size, this.#part(id));
    if (adopted !== null) {
      await this.#remove(id);
      return { kind: "complete", digest, size, created: adopted.created };
    }
    // A blob store that cannot adopt the file (another filesystem, S3) gets it streamed.
    const part = await this.#openPart(id, { read: true });
    try {
      const { created } = await storeBlobByDigest(this.#stores, digest, partStream(part), {
        size,
      });
      await this.#remove(id);
      return { kind: "complete", digest, size, created };
    } catch (error) {
      if (
        isAppError(error) && (error.code === "digest_mismatch" || error.code === "invalid_input")
      ) {
        await this.#remove(id);
      }
      throw error;
    } finally {
      try {
        part.close();
      } catch { /* closed when its stream ended */ }
    }
  }

  /** When an upload's files were last changed (-Infinity when they are gone). */
  async #lastTouched(id: string): Promise<number> {
    let touched = -Infinity;
    for (const path of [this.#record(id), this.#part(id)]) {
      const info = await Deno.stat(path).catch(() => null);
      if (info?.mtime) touched = Math.max(touched, info.mtime.getTime());
    }
    return touched;
  }

  /** Cuts an upload's part back to `length` bytes (an acknowledged offset), durably. */
  async #cutBack(id: string, length: number): Promise<void> {
    await io("write the upload", async () => {
      await Deno.truncate(this.#part(id), length);
      const file = await Deno.open(this.#part(id), { write: true });
      try {
        await file.syncData();
      } finally {
        file.close();
      }
    });
  }

  /** Hashes the first `length` bytes of an upload's part (after a restart of the server). */
  async #hashPart(id: string, length: number): Promise<DigestWriter> {
    const hasher = new DigestWriter();
    const part = await this.#openPart(id, { read: true });
    try {
      await io("read the upload", async () => {
        const buffer = new Uint8Array(Math.min(HASH_BUFFER_BYTES, Math.max(length, 1)));
        while (hasher.size < length) {
          const n = await part.read(
            buffer.subarray(0, Math.min(buffer.length, length - hasher.size)),
          );
          if (n === null) throw new Error("The upload is shorter than its offset");
          hasher.update(buffer.subarray(0, n));
        }
      });
    } finally {
      part.close();
    }
    return hasher;
  }

  async #read(id: string, caller: UploadCaller): Promise<UploadRecord> {
    if (!isUploadId(id)) throw noUpload(id);
    let text: string;
    try {
      text = await Deno.readTextFile(this.#record(id));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw noUpload(id);
      throw unavailable("read the upload", error);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw noUpload(id);
    }
    const parsed = recordSchema.safeParse(value);
    if (!parsed.success) throw noUpload(id);
    const { owner } = parsed.data;
    if (owner !== undefined && owner !== caller.keyId && !caller.admin) throw noUpload(id);
    return parsed.data;
  }

  async #openPart(id: string, options: Deno.OpenOptions): Promise<Deno.FsFile> {
    try {
      return await Deno.open(this.#part(id), options);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw noUpload(id);
      throw unavailable("open the upload", error);
    }
  }

  async #statPart(id: string): Promise<Deno.FileInfo> {
    try {
      return await Deno.stat(this.#part(id));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw noUpload(id);
      throw unavailable("read the upload", error);
    }
  }

  async #remove(id: string): Promise<void> {
    this.#hashers.delete(id);
    await io("remove the upload", async () => {
      for (const path of [this.#record(id), `${this.#record(id)}.tmp`, this.#part(id)]) {
        await Deno.remove(path).catch((error) => {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        });
      }
    });
  }

  #status(id: string, record: UploadRecord, offset: number, touched: Date): UploadStatus {
    return {
      id,
      digest: record.digest,
      size: record.size,
      offset,
      created_at: record.created_at,
      expires_at: new Date(touched.getTime() + this.expirySeconds * 1000).toISOString(),
    };
  }
}

/**
 * The bytes of an upload's part for the blob store. A local read error is the server's
 * failure (`unavailable`, 5xx, the upload kept), never "the upload ended early", which a
 * blob store reports for a body that breaks off and which discards the upload.
 */
export function partStream(part: Deno.FsFile): ReadableStream<Uint8Array> {
  const reader = part.readable.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(unavailable("read the upload", error));
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Hashes `body` and hands it to `writer`, at most `room` bytes. A body that errors (a cut
 * connection) ends the append with what arrived; the bytes are all given to the writer.
 */
async function appendBody(
  writer: DirectWriter,
  hasher: DigestWriter,
  body: ReadableStream<Uint8Array>,
  room: number,
): Promise<{ written: number; interrupted: boolean; overflow: boolean }> {
  let written = 0;
  const chunks = chunksOf(body, READ_BUFFER_BYTES);
  let interrupted = false;
  let overflow = false;
  try {
    while (true) {
      let chunk: Uint8Array | null;
      try {
        chunk = await chunks.next();
      } catch {
        interrupted = true;
        break;
      }
      if (chunk === null) break;
      if (written + chunk.byteLength > room) {
        overflow = true;
        await chunks.cancel();
        break;
      }
      hasher.update(chunk);
      await io("write the upload", () => writer.write(chunk));
      written += chunk.byteLength;
    }
  } catch (error) {
    await chunks.cancel();
    throw error;
  } finally {
    chunks.release();
  }
  return { written, interrupted, overflow };
}

async function writeDurably(path: string, text: string): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    await file.write(new TextEncoder().encode(text));
    await file.syncData();
  } finally {
    file.close();
  }
}

/** Runs a filesystem step; failures become `unavailable` without paths. */
async function io<T>(action: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (isAppError(error)) throw error;
    throw unavailable(action, error);
  }
}

function unavailable(action: string, error: unknown): AppError {
  if (isNoSpace(error)) {
    return new AppError("insufficient_storage", "No space left for resumable uploads", {
      cause: error,
    });
  }
  return new AppError("unavailable", `Cannot ${action}: ${fsErrorName(error)}`, { cause: error });
}

function noUpload(id: string): AppError {
  return new AppError("not_found", `No upload "${short(id, 40)}"`);
}

function tooMuch(id: string, size: number): AppError {
  return new AppError(
    "invalid_input",
    `More bytes than the ${size} declared for upload "${id}" were sent; nothing of them was kept`,
  );
}

/**
 * Runs `sweepExpiredUploads` now and then every `intervalMs` (by default a quarter of the
 * expiry, between one second and fifteen minutes) until the returned function is called.
 */
export function startSweeping(
  uploads: ResumableUploads,
  onError: (error: unknown) => void,
  intervalMs = Math.min(Math.max(uploads.expirySeconds * 250, 1000), 15 * 60 * 1000),
): () => void {
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      await uploads.sweepExpiredUploads(new Date());
    } catch (error) {
      onError(error);
    } finally {
      running = false;
    }
  };
  void sweep();
  const timer = setInterval(sweep, intervalMs);
  return () => clearInterval(timer);
}
