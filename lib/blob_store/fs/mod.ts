/**
 * Filesystem blob store: `<root>/<first two hex>/<digest>`, and packs for the blobs of
 * small-blob batches (see `packs.ts`).
 *
 * `put` writes a private temporary file in the blob's own directory while hashing,
 * verifies digest and size, fsyncs it, then publishes it with `link()` (which never
 * replaces an existing blob) and fsyncs the directory. A failed upload only ever
 * removes its own temporary file.
 */
import { dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { bytesMismatch, type Digest, DigestWriter, verifyStream } from "../../digest.ts";
import { AppError, short } from "../../errors.ts";
import { blobKey } from "../_layout.ts";
import { fileSlice } from "./file_slice.ts";
import { unavailable } from "./errors.ts";
import { fsErrorName } from "../../fs_error_name.ts";
import { syncDirectory } from "../../sync_directory.ts";
import { Packs } from "./packs.ts";
import {
  type BlobBytes,
  type BlobStore,
  type ByteRange,
  type PutManyResult,
  type PutResult,
  readPutChunk,
  resolveRange,
  type StoredBlob,
} from "../mod.ts";

const TEMP_PREFIX = ".tmp-";
const WRITE_BUFFER_BYTES = 1 << 20;

export interface FsBlobStoreOptions {
  /**
   * A temporary file untouched this long is left over from a crash (a killed process, or
   * a worker of another) and removed (default 1 hour: an upload writes to its file as
   * bytes arrive, and the server's body timeout ends a stalled one long before).
   */
  staleTempMs?: number;
  /** How often the blob directory is swept for such files while running (default 10 min). */
  sweepIntervalMs?: number;
}

export async function openFsBlobStore(
  root: string,
  options: FsBlobStoreOptions = {},
): Promise<BlobStore> {
  const staleTempMs = options.staleTempMs ?? 60 * 60 * 1000;
  try {
    await Deno.mkdir(root, { recursive: true });
    // A root made just now must stay after a power cut, like what will be published in it.
    await syncDirectory(dirname(resolve(root)));
    await sweepStaleTempFiles(root, staleTempMs, new Set());
    const store = new FsBlobStore(root, await Packs.open(root));
    store.sweepEvery(options.sweepIntervalMs ?? 10 * 60 * 1000, staleTempMs);
    return store;
  } catch (error) {
    throw new AppError(
      "unavailable",
      `Cannot use blob directory "${root}": ${fsErrorName(error)}`,
      { cause: error },
    );
  }
}

class FsBlobStore implements BlobStore {
  readonly kind = "fs";
  /**
   * Digests being published in this process, by a put or a pack append: one content is
   * published once. A write waits for the others of its digests, then finds the blob stored.
   */
  readonly #claims = new Map<Digest, Promise<void>>();
  /** Temporary files of this process's writes in progress: never swept. */
  readonly #temps = new Set<string>();
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #sweeping: Promise<void> | null = null;

  constructor(private readonly root: string, private readonly packs: Packs) {}

  /** Sweeps stale temporary files every `intervalMs` while the store is open. */
  sweepEvery(intervalMs: number, staleTempMs: number): void {
    const sweeper = setInterval(() => {
      // A sweep that fails (a disk error) is tried again at the next interval.
      this.#sweeping ??= sweepStaleTempFiles(this.root, staleTempMs, this.#temps)
        .catch(() => {})
        .finally(() => this.#sweeping = null);
    }, intervalMs);
    Deno.unrefTimer(sweeper);
    this.#sweeper = sweeper;
  }

  #path(digest: Digest): string {
    return join(this.root, blobKey(digest));
  }

  async has(digest: Digest): Promise<boolean> {
    if (this.packs.has(digest)) return true;
    try {
      return (await Deno.stat(this.#path(digest))).isFile;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw unavailable("read", error);
    }
  }

  async put(
    digest: Digest,
    size: number | undefined,
    body: ReadableStream<Uint8Array>,
  ): Promise<PutResult> {
    if (this.packs.has(digest)) {
      return { created: false, size: await verifyStream(digest, size, body) };
    }
    const final = this.#path(digest);
    const dir = join(final, "..");
    const temp = join(dir, `${TEMP_PREFIX}${randomBytes(8).toString("hex")}`);
    let file: Deno.FsFile | undefined;
    this.#temps.add(temp);
    try {
      file = await createTemp(this.root, dir, temp);
    } catch (error) {
      this.#temps.delete(temp);
      await body.cancel().catch(() => {});
      throw unavailable("write", error);
    }
    try {
      const written = await writeVerified(file, digest, size, body);
      await file.syncData();
      file.close();
      file = undefined;
      return { created: await this.#publishOnce(digest, temp, final), size: written };
    } catch (error) {
      throw error instanceof AppError ? error : unavailable("write", error);
    } finally {
      try {
        file?.close();
      } catch { /* already closed */ }
      await Deno.remove(temp).catch(() => {});
      this.#temps.delete(temp);
    }
  }

  /**
   * Verified blobs not stored yet go to a pack, together; the file check is a synchronous
   * stat on purpose: it is cheap, and an async one per tiny blob costs a thread handoff.
   */
  async putMany(blobs: readonly BlobBytes[]): Promise<PutManyResult[]> {
    const results: (PutManyResult | undefined)[] = new Array(blobs.length);
    const verified = new Map<Digest, BlobBytes>();
    blobs.forEach((blob, index) => {
      const error = bytesMismatch(blob.digest, blob.bytes);
      if (error) results[index] = { error };
      else if (!verified.has(blob.digest)) verified.set(blob.digest, blob);
    });
    const release = await this.#claim([...verified.keys()]);
    const fresh = new Map<Digest, BlobBytes>();
    try {
      for (const blob of verified.values()) {
        if (!this.packs.has(blob.digest) && !this.#fileExists(blob.digest)) {
          fresh.set(blob.digest, blob);
        }
      }
      if (fresh.size > 0) await this.packs.append([...fresh.values()]);
    } finally {
      release();
    }
    return blobs.map((blob, index) => {
      const result = results[index];
      if (result) return result;
      // A digest given twice in one call is created once.
      const created = fresh.delete(blob.digest);
      return { created, size: blob.bytes.byteLength };
    });
  }

  #fileExists(digest: Digest): boolean {
    try {
      return Deno.statSync(this.#path(digest)).isFile;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw unavailable("read", error);
    }
  }

  async adopt(digest: Digest, size: number, path: string): Promise<PutResult | null> {
    if (this.packs.has(digest)) return { created: false, size };
    try {
      return { created: await this.#publishOnce(digest, path, this.#path(digest)), size };
    } catch (error) {
      // Another filesystem, or one without hard links: the caller copies instead.
      const code = (error as { code?: unknown }).code;
      if (code === "EXDEV" || code === "EPERM" || code === "ENOTSUP") return null;
      throw error instanceof AppError ? error : unavailable("write", error);
    }
  }

  /**
   * Publishes the verified, durable file `source` as blob `digest` unless the blob was
   * stored meanwhile (in a pack or as a file): one content, one copy. Answers only once the
   * blob's directory entry is durable, also when another write published it first.
   */
  async #publishOnce(digest: Digest, source: string, final: string): Promise<boolean> {
    const release = await this.#claim([digest]);
    try {
      if (this.packs.has(digest)) return false;
      const dir = dirname(final);
      let created: boolean;
      try {
        created = await publish(source, final);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        await makeShard(this.root, dir);
        created = await publish(source, final);
      }
      await syncDirectory(dir);
      return created;
    } finally {
      release();
    }
  }

  /**
   * Waits until no other write of these digests runs in this process, then holds them all
   * until released. All or none at once, so two writes never wait for each other.
   */
  async #claim(digests: readonly Digest[]): Promise<() => void> {
    while (true) {
      const held = digests.flatMap((digest) => this.#claims.get(digest) ?? []);
      if (held.length === 0) break;
      await Promise.all(held);
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    for (const digest of digests) this.#claims.set(digest, promise);
    return () => {
      for (const digest of digests) this.#claims.delete(digest);
      resolve();
    };
  }

  async get(digest: Digest, range?: ByteRange): Promise<StoredBlob | null> {
    const packed = this.packs.locate(digest);
    if (packed) {
      const resolved = this.#resolve(digest, packed.size, range);
      const file = await this.packs.openAt(packed, resolved.start);
      return {
        size: packed.size,
        range: resolved,
        body: fileSlice(file, resolved.end - resolved.start + 1),
      };
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.#path(digest), { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw unavailable("read", error);
    }
    try {
      const { size } = await file.stat();
      const resolved = this.#resolve(digest, size, range);
      // The whole blob: the file's own stream, which Deno.serve sends without copying
      // chunks through JavaScript (and which closes the file at its end).
      if (resolved.start === 0 && resolved.end === size - 1) {
        return { size, range: resolved, body: file.readable };
      }
      if (resolved.start > 0) await file.seek(resolved.start, Deno.SeekMode.Start);
      return { size, range: resolved, body: fileSlice(file, resolved.end - resolved.start + 1) };
    } catch (error) {
      file.close();
      throw error instanceof AppError ? error : unavailable("read", error);
    }
  }

  #resolve(digest: Digest, size: number, range: ByteRange | undefined) {
    const resolved = resolveRange(size, range);
    if (resolved === "unsatisfiable") {
      throw new AppError(
        "invalid_input",
        `Range starting at ${range?.start} is outside blob "${short(digest)}" of ${size} bytes`,
      );
    }
    return resolved;
  }

  async delete(digest: Digest): Promise<void> {
    this.packs.remove(digest);
    try {
      await Deno.remove(this.#path(digest));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw unavailable("delete", error);
    }
  }

  async ping(): Promise<void> {
    try {
      const info = await Deno.stat(this.root);
      if (!info.isDirectory) throw new Error("not a directory");
    } catch (error) {
      throw unavailable("reach", error);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    clearInterval(this.#sweeper);
    await this.#sweeping;
    await this.packs.close();
  }
}

/**
 * Streams `body` into `file` while hashing; throws unless it matches. Two large buffers
 * alternate so the disk write of one overlaps hashing and filling the other.
 */
async function writeVerified(
  file: Deno.FsFile,
  digest: Digest,
  size: number | undefined,
  body: ReadableStream<Uint8Array>,
): Promise<number> {
  const hasher = new DigestWriter();
  // A small blob of declared size needs no more than its size (plus one byte, so a body
  // longer than declared is still seen) in one buffer.
  const bufferBytes = Math.min(WRITE_BUFFER_BYTES, (size ?? WRITE_BUFFER_BYTES) + 1);
  const buffers = [new Uint8Array(bufferBytes), new Uint8Array(bufferBytes)];
  let current = 0;
  let filled = 0;
  let writing: Promise<unknown> = Promise.resolve();
  let writeError: unknown;
  const writeAll = async (bytes: Uint8Array) => {
    let offset = 0;
    while (offset < bytes.byteLength) offset += await file.write(bytes.subarray(offset));
  };
  const flush = async () => {
    await writing;
    if (writeError !== undefined) throw unavailable("write", writeError);
    writing = writeAll(buffers[current].subarray(0, filled)).catch((e) => (writeError = e));
    current ^= 1;
    filled = 0;
  };
  const reader = body.getReader();
  try {
    while (true) {
      const value = await readPutChunk(reader, hasher, digest, size);
      if (value === null) break;
      let offset = 0;
      while (offset < value.byteLength) {
        const buffer = buffers[current];
        const take = Math.min(value.byteLength - offset, buffer.byteLength - filled);
        buffer.set(value.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === buffer.byteLength) await flush();
      }
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    await writing;
    throw error;
  } finally {
    reader.releaseLock();
  }
  await flush();
  await writing;
  if (writeError !== undefined) throw unavailable("write", writeError);
  hasher.verify(digest, size);
  return hasher.size;
}

/** Creates the temporary file; the shard directory is made only when it is missing. */
async function createTemp(root: string, dir: string, temp: string): Promise<Deno.FsFile> {
  const open = () => Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
  try {
    return await open();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await makeShard(root, dir);
    return await open();
  }
}

/** Makes a shard directory and makes its entry in the root durable (a blob in it will be). */
async function makeShard(root: string, dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await syncDirectory(root);
}

/** Publishes without ever replacing: false when the blob was already there. */
async function publish(temp: string, final: string): Promise<boolean> {
  try {
    await Deno.link(temp, final);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  }
}

async function sweepStaleTempFiles(
  root: string,
  staleMs: number,
  inUse: ReadonlySet<string>,
): Promise<void> {
  const cutoff = Date.now() - staleMs;
  for await (const shard of Deno.readDir(root)) {
    if (!shard.isDirectory || shard.name.length !== 2) continue;
    for await (const entry of Deno.readDir(join(root, shard.name))) {
      if (!entry.name.startsWith(TEMP_PREFIX)) continue;
      const path = join(root, shard.name, entry.name);
      if (inUse.has(path)) continue;
      const info = await Deno.stat(path).catch(() => null);
      if (info && (info.mtime?.getTime() ?? 0) < cutoff) await Deno.remove(path).catch(() => {});
    }
  }
}
