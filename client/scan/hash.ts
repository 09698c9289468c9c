/**
 * Hashing a file from disk: SHA-256 through `node:crypto` with large reads into two
 * reused buffers (the next read runs while the current block is hashed), so memory per
 * file in flight is fixed whatever the file size.
 *
 * A file is hashed only if it stays the same file with the same size, mtime and ctime
 * from before the first read to after the last one, and the bytes read equal its size.
 * Otherwise the outcome says it changed or vanished and no digest is given: a digest
 * is never reported for bytes that were not the file's at one moment.
 */
import { createHash } from "node:crypto";
import type { Digest } from "../../lib/digest.ts";
import { describeFsError } from "./walk.ts";

export const READ_BUFFER_BYTES = 1024 * 1024;

/** Files smaller than this are read with the small pair of buffers. */
export const SMALL_READ_BYTES = 64 * 1024;

/**
 * The read buffers of one worker, reused for every file it hashes: a small pair for small
 * files, and a large pair (`size` bytes each) made the first time a larger file comes,
 * so workers that only ever see small files hold little memory.
 */
export class ReadBuffers {
  readonly size: number;
  #a: Uint8Array | undefined;
  #b: Uint8Array | undefined;
  #small: [Uint8Array, Uint8Array] | undefined;

  constructor(size = READ_BUFFER_BYTES) {
    this.size = size;
  }

  get a(): Uint8Array {
    return this.#a ??= new Uint8Array(this.size);
  }

  get b(): Uint8Array {
    return this.#b ??= new Uint8Array(this.size);
  }

  /** The pair to read a file of `fileSize` bytes with (one read sees its end). */
  forFile(fileSize: number): [Uint8Array, Uint8Array] {
    if (fileSize < SMALL_READ_BYTES && SMALL_READ_BYTES < this.size) {
      return this.#small ??= [new Uint8Array(SMALL_READ_BYTES), new Uint8Array(SMALL_READ_BYTES)];
    }
    return [this.a, this.b];
  }
}

export type FileProblem =
  | "vanished"
  | "changed"
  | "unreadable"
  | "not_regular"
  | "other_filesystem";

export type HashOutcome =
  | { ok: true; digest: Digest; size: number; info: Deno.FileInfo }
  | { ok: false; problem: FileProblem; message: string };

export interface HashOptions {
  buffers: ReadBuffers;
  /** With a device number, a file on another device is `other_filesystem`. */
  requireDevice?: number;
  /** Aborting stops between reads and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with each block's byte count, for progress. */
  onBytes?: (count: number) => void;
}

export async function hashFile(path: string, options: HashOptions): Promise<HashOutcome> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    return error instanceof Deno.errors.NotFound
      ? { ok: false, problem: "vanished", message: "vanished before it could be read" }
      : { ok: false, problem: "unreadable", message: describeFsError(error) };
  }
  try {
    const before = await file.stat();
    if (!before.isFile) {
      return { ok: false, problem: "not_regular", message: "is no longer a regular file" };
    }
    if (options.requireDevice !== undefined && before.dev !== options.requireDevice) {
      return { ok: false, problem: "other_filesystem", message: "is on another file system" };
    }
    const hash = createHash("sha256");
    let size = 0;
    try {
      let [current, spare] = options.buffers.forFile(before.size);
      let pending = file.read(current);
      for (;;) {
        const count = await pending;
        if (count === null) break;
        options.signal?.throwIfAborted();
        const block = current;
        [current, spare] = [spare, current];
        pending = file.read(current);
        hash.update(block.subarray(0, count));
        size += count;
        options.onBytes?.(count);
      }
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      return { ok: false, problem: "unreadable", message: describeFsError(error) };
    }
    let after: Deno.FileInfo;
    try {
      after = await Deno.stat(path);
    } catch (error) {
      return error instanceof Deno.errors.NotFound
        ? { ok: false, problem: "vanished", message: "vanished while being read" }
        : { ok: false, problem: "unreadable", message: describeFsError(error) };
    }
    const change = changeBetween(before, after, size);
    if (change !== null) return { ok: false, problem: "changed", message: change };
    return { ok: true, digest: hash.digest("hex") as Digest, size, info: before };
  } finally {
    file.close();
  }
}

/** Null when `after` is the same unchanged file as `before` and `read` bytes were read. */
export function changeBetween(
  before: Deno.FileInfo,
  after: Deno.FileInfo,
  read: number,
): string | null {
  if (before.dev !== after.dev || before.ino !== after.ino) {
    return "was replaced while being read";
  }
  if (before.size !== after.size || read !== before.size) {
    return `changed size while being read (${before.size} bytes before, ${after.size} after, ${read} read)`;
  }
  if (
    timeOf(before.mtime) !== timeOf(after.mtime) || timeOf(before.ctime) !== timeOf(after.ctime)
  ) {
    return "was modified while being read";
  }
  return null;
}

function timeOf(date: Date | null | undefined): number | null {
  return date ? date.getTime() : null;
}

/**
 * `hashFile` with synchronous reads into one buffer, for a hash worker (a thread of its
 * own, where blocking reads cost nothing else and save the per-read promise): the same
 * checks, the same outcomes. A file larger than `maxBytes` is not read: null, for the
 * caller to hash it with `hashFile` (which can be aborted and reports progress).
 */
export function hashFileSync(
  path: string,
  buffer: Uint8Array,
  options: { requireDevice?: number; maxBytes?: number } = {},
): HashOutcome | null {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    return error instanceof Deno.errors.NotFound
      ? { ok: false, problem: "vanished", message: "vanished before it could be read" }
      : { ok: false, problem: "unreadable", message: describeFsError(error) };
  }
  try {
    const before = file.statSync();
    if (!before.isFile) {
      return { ok: false, problem: "not_regular", message: "is no longer a regular file" };
    }
    if (options.requireDevice !== undefined && before.dev !== options.requireDevice) {
      return { ok: false, problem: "other_filesystem", message: "is on another file system" };
    }
    if (options.maxBytes !== undefined && before.size > options.maxBytes) return null;
    const hash = createHash("sha256");
    let size = 0;
    try {
      for (;;) {
        const count = file.readSync(buffer);
        if (count === null) break;
        hash.update(buffer.subarray(0, count));
        size += count;
      }
    } catch (error) {
      return { ok: false, problem: "unreadable", message: describeFsError(error) };
    }
    let after: Deno.FileInfo;
    try {
      after = Deno.statSync(path);
    } catch (error) {
      return error instanceof Deno.errors.NotFound
        ? { ok: false, problem: "vanished", message: "vanished while being read" }
        : { ok: false, problem: "unreadable", message: describeFsError(error) };
    }
    const change = changeBetween(before, after, size);
    if (change !== null) return { ok: false, problem: "changed", message: change };
    return { ok: true, digest: hash.digest("hex") as Digest, size, info: before };
  } finally {
    file.close();
  }
}
