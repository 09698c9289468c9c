/**
 * Filesystem blob store: `<root>/<first two hex>/<digest>`.
 *
 * `put` writes a private temporary file in the blob's own directory while hashing,
 * verifies digest and size, fsyncs it, then publishes it with `link()` (which never
 * replaces an existing blob) and fsyncs the directory. A failed upload only ever
 * removes its own temporary file.
 */
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { type Digest, DigestWriter } from "../digest.ts";
import { AppError, short } from "../errors.ts";
import { blobKey } from "./_layout.ts";
import {
  type BlobStore,
  type ByteRange,
  type PutResult,
  resolveRange,
  type StoredBlob,
} from "./mod.ts";

const TEMP_PREFIX = ".tmp-";
const WRITE_BUFFER_BYTES = 1 << 20;
const READ_CHUNK_BYTES = 256 * 1024;
/** Temporary files older than this are left over from a crash and swept at open. */
const STALE_TEMP_MS = 60 * 60 * 1000;

export async function openFsBlobStore(root: string): Promise<BlobStore> {
  try {
    await Deno.mkdir(root, { recursive: true });
    await sweepStaleTempFiles(root);
  } catch (error) {
    throw new AppError("unavailable", `Cannot use blob directory "${root}": ${describe(error)}`, {
      cause: error,
    });
  }
  return new FsBlobStore(root);
}

class FsBlobStore implements BlobStore {
  readonly kind = "fs";
  constructor(private readonly root: string) {}

  #path(digest: Digest): string {
    return join(this.root, blobKey(digest));
  }

  async has(digest: Digest): Promise<boolean> {
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
    const final = this.#path(digest);
    const dir = join(final, "..");
    const temp = join(dir, `${TEMP_PREFIX}${randomBytes(8).toString("hex")}`);
    let file: Deno.FsFile | undefined;
    try {
      file = await createTemp(dir, temp);
    } catch (error) {
      await body.cancel().catch(() => {});
      throw unavailable("write", error);
    }
    try {
      const written = await writeVerified(file, digest, size, body);
      await file.syncData();
      file.close();
      file = undefined;
      const created = await publish(temp, final);
      if (created) await syncDirectory(dir);
      return { created, size: written };
    } catch (error) {
      throw error instanceof AppError ? error : unavailable("write", error);
    } finally {
      try {
        file?.close();
      } catch { /* already closed */ }
      await Deno.remove(temp).catch(() => {});
    }
  }

  async adopt(digest: Digest, size: number, path: string): Promise<PutResult | null> {
    const final = this.#path(digest);
    const dir = join(final, "..");
    try {
      let created: boolean;
      try {
        created = await publish(path, final);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        await Deno.mkdir(dir, { recursive: true });
        created = await publish(path, final);
      }
      if (created) await syncDirectory(dir);
      return { created, size };
    } catch (error) {
      // Another filesystem, or one without hard links: the caller copies instead.
      const code = (error as { code?: unknown }).code;
      if (code === "EXDEV" || code === "EPERM" || code === "ENOTSUP") return null;
      throw unavailable("write", error);
    }
  }

  async get(digest: Digest, range?: ByteRange): Promise<StoredBlob | null> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.#path(digest), { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw unavailable("read", error);
    }
    try {
      const { size } = await file.stat();
      const resolved = resolveRange(size, range);
      if (resolved === "unsatisfiable") {
        throw new AppError(
          "invalid_input",
          `Range starting at ${range?.start} is outside blob "${short(digest)}" of ${size} bytes`,
        );
      }
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

  async delete(digest: Digest): Promise<void> {
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

  async [Symbol.asyncDispose](): Promise<void> {}
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
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw new AppError(
          "invalid_input",
          `Cannot store blob "${short(digest)}": the upload ended early`,
          { cause: error },
        );
      }
      if (chunk.done) break;
      const value = chunk.value;
      hasher.update(value);
      if (size !== undefined && hasher.size > size) {
        throw new AppError(
          "invalid_input",
          `Cannot store blob "${short(digest)}": more than the declared ${size} bytes arrived`,
        );
      }
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
async function createTemp(dir: string, temp: string): Promise<Deno.FsFile> {
  const open = () => Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
  try {
    return await open();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.mkdir(dir, { recursive: true });
    return await open();
  }
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

async function syncDirectory(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

function fileSlice(file: Deno.FsFile, length: number): ReadableStream<Uint8Array> {
  let remaining = length;
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      file.close();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (remaining <= 0) {
        close();
        controller.close();
        return;
      }
      const chunk = new Uint8Array(Math.min(READ_CHUNK_BYTES, remaining));
      let n: number | null;
      try {
        n = await file.read(chunk);
      } catch (error) {
        close();
        controller.error(unavailable("read", error));
        return;
      }
      if (n === null) {
        close();
        controller.error(new AppError("internal", "Blob ended before its recorded size"));
        return;
      }
      remaining -= n;
      controller.enqueue(chunk.subarray(0, n));
      if (remaining <= 0) {
        close();
        controller.close();
      }
    },
    cancel() {
      close();
    },
  });
}

async function sweepStaleTempFiles(root: string): Promise<void> {
  const cutoff = Date.now() - STALE_TEMP_MS;
  for await (const shard of Deno.readDir(root)) {
    if (!shard.isDirectory || shard.name.length !== 2) continue;
    for await (const entry of Deno.readDir(join(root, shard.name))) {
      if (!entry.name.startsWith(TEMP_PREFIX)) continue;
      const path = join(root, shard.name, entry.name);
      const info = await Deno.stat(path).catch(() => null);
      if (info && (info.mtime?.getTime() ?? 0) < cutoff) await Deno.remove(path).catch(() => {});
    }
  }
}

function unavailable(action: string, error: unknown): AppError {
  return new AppError("unavailable", `Blob store cannot ${action}: ${describe(error)}`, {
    cause: error,
  });
}

/** Error class name only: never a path or an OS message with paths in it. */
function describe(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotFound) return "not found";
  if (error instanceof Error) return error.name;
  return "unknown error";
}
