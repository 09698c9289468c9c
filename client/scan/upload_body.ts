/**
 * The body of an upload: a file's bytes read from disk again, checked to be the bytes that
 * were hashed, so changed bytes are never sent as that digest's blob.
 *
 * Two ways to check. With the file's identity from when it was hashed (dev, inode, size,
 * mtime and ctime: the scan's hash pass saw them unchanged from before its first read to
 * after its last), the upload compares the identity before its first read and after its
 * last (`fstat`) and does not hash again: the client's SHA-256 pass over a new file is
 * then the scan's alone (it used to be two, see issue 15: a 4 GiB upload spent a third of
 * its CPU hashing the file a second time). The server hashes what it receives in any case
 * and refuses bytes that do not match, so a change no timestamp shows (a write that
 * restores mtime within the clock's tick, with ctime too coarse to tell) still never
 * stores a wrong blob. Without an identity (a file system whose stat lacks a field), the
 * bytes are hashed again as they are read.
 */
import { createHash } from "node:crypto";
import type { Digest } from "../../lib/digest.ts";
import { AppError, short } from "../../lib/errors.ts";
import { type FileIdentity, identityOf, sameIdentity } from "./file_cache.ts";
import { READ_BUFFER_BYTES } from "./hash.ts";
import { describeFsError } from "./walk.ts";

export interface HashedFile {
  path: string;
  digest: Digest;
  size: number;
  /** Which file it was when it was hashed (from its stat). */
  info: { dev: number; ino: number | null };
  /**
   * Its whole identity when it was hashed: when given, an upload checks the file is still
   * exactly that instead of hashing its bytes again.
   */
  identity?: FileIdentity | null;
}

/** Rejects unless the open file is still the one hashed (identity, or dev/ino and size). */
async function checkSame(handle: Deno.FsFile, file: HashedFile): Promise<void> {
  const now = await handle.stat();
  if (now.ino !== file.info.ino || now.dev !== file.info.dev) throw changed("was replaced");
  if (now.size !== file.size) throw changed("changed size");
  if (file.identity && !sameIdentity(identityOf(now), file.identity)) {
    throw changed("was modified");
  }
}

/**
 * The `conflict` AppError of a file that is not what was hashed any more. Messages leave
 * the path out: whoever reports the file names it.
 */
function changed(how: string): AppError {
  return new AppError("conflict", `${how} after it was hashed`);
}

/**
 * Opens the file and checks it is still the hashed one; the stream then reads it.
 * Rejects with a `conflict` AppError when the file vanished or was replaced.
 */
export async function openVerifiedBody(
  file: HashedFile,
  options: {
    chunkBytes?: number;
    onBytes?: (count: number) => void;
    /** Bytes already sent: read and hashed (to verify the whole) but not streamed. */
    offset?: number;
  } = {},
): Promise<ReadableStream<Uint8Array>> {
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(file.path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw changed("vanished");
    throw new AppError("conflict", `${describeFsError(error)} at upload`, {
      cause: error,
    });
  }
  let open = true;
  const close = () => {
    if (open) {
      open = false;
      handle.close();
    }
  };
  try {
    const now = await handle.stat();
    if (now.ino !== file.info.ino || now.dev !== file.info.dev) throw changed("was replaced");
    if (now.size !== file.size) throw changed("changed size");
  } catch (error) {
    close();
    throw error;
  }

  const hash = createHash("sha256");
  let sent = 0;
  let canceled = false;
  const chunkBytes = Math.min(options.chunkBytes ?? READ_BUFFER_BYTES, file.size + 1);
  const offset = options.offset ?? 0;
  if (offset > 0) {
    try {
      const buffer = new Uint8Array(Math.min(READ_BUFFER_BYTES, offset));
      while (sent < offset) {
        const count = await handle.read(buffer.subarray(0, Math.min(buffer.length, offset - sent)));
        if (count === null) throw changed("shrank");
        hash.update(buffer.subarray(0, count));
        sent += count;
      }
    } catch (error) {
      close();
      throw error instanceof AppError
        ? error
        : new AppError("conflict", `${describeFsError(error)} during upload`, { cause: error });
    }
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = new Uint8Array(chunkBytes);
        const count = await handle.read(chunk);
        if (count === null) {
          close();
          const digest = hash.digest("hex");
          if (sent !== file.size || digest !== file.digest) {
            controller.error(changed(
              `changed (its bytes now hash to "${short(digest)}", ${sent} bytes)`,
            ));
          } else {
            controller.close();
          }
          return;
        }
        sent += count;
        if (sent > file.size) {
          close();
          controller.error(changed("grew"));
          return;
        }
        const bytes = chunk.subarray(0, count);
        hash.update(bytes);
        options.onBytes?.(count);
        controller.enqueue(bytes);
      } catch (error) {
        close();
        if (canceled) return; // the consumer gave up: nothing to report
        controller.error(
          error instanceof AppError ? error : new AppError(
            "conflict",
            `${describeFsError(error)} during upload`,
            { cause: error },
          ),
        );
      }
    },
    cancel() {
      canceled = true;
      close();
    },
  }, { highWaterMark: 0 });
}

/**
 * Reads a small hashed file whole and checks it is still what was hashed (same file, same
 * size, bytes that hash to the digest): the verified bytes, or a `conflict` AppError.
 * `into` (at least one byte longer than the file) receives the bytes instead of a new
 * buffer.
 */
export async function readVerified(
  file: HashedFile,
  into?: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  if (into !== undefined && into.byteLength <= file.size) {
    throw new RangeError(`A buffer of ${into.byteLength} bytes cannot hold ${file.size} + 1`);
  }
  const handle = await openForUpload(file);
  try {
    await checkSame(handle, file);
    // One byte more than the size: a file that grew shows.
    const buffer = into ?? new Uint8Array(file.size + 1);
    let filled = 0;
    for (;;) {
      const count = await handle.read(buffer.subarray(filled));
      if (count === null) break;
      filled += count;
      if (filled > file.size) throw changed("grew");
    }
    const bytes = buffer.subarray(0, filled);
    if (filled !== file.size) throw changed(`changed (${filled} bytes read)`);
    if (file.identity) {
      await checkSame(handle, file);
      return bytes;
    }
    const digest = createHash("sha256").update(bytes).digest("hex");
    if (digest !== file.digest) {
      throw changed(`changed (its bytes now hash to "${short(digest)}", ${filled} bytes)`);
    }
    return bytes;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError("conflict", `${describeFsError(error)} during upload`, { cause: error });
  } finally {
    handle.close();
  }
}

/**
 * Reads a hashed file in pieces for an upload made of several requests, verifying as it
 * goes: the file must still be the one hashed (same file, same size), and the piece that
 * reaches its end is given only if the file is still unchanged (its identity, or else all
 * its bytes hashing to the digest; a `conflict` AppError otherwise), so a changed file
 * never completes an upload. Opened at an offset, it skips the bytes before it (sent
 * already): a seek when the identity is checked, else a read that hashes them.
 */
export class VerifiedPieces implements Disposable {
  readonly file: HashedFile;
  #handle: Deno.FsFile;
  /** Null when the identity is checked instead. */
  #hash: ReturnType<typeof createHash> | null;
  #position = 0;

  private constructor(file: HashedFile, handle: Deno.FsFile) {
    this.file = file;
    this.#handle = handle;
    this.#hash = file.identity ? null : createHash("sha256");
  }

  /** Opens the file and skips (reading and hashing) its first `offset` bytes into `scratch`. */
  static async open(
    file: HashedFile,
    offset: number,
    scratch: Uint8Array<ArrayBuffer>,
  ): Promise<VerifiedPieces> {
    const handle = await openForUpload(file);
    const pieces = new VerifiedPieces(file, handle);
    try {
      await checkSame(handle, file);
      if (pieces.#hash === null && offset > 0) {
        await handle.seek(offset, Deno.SeekMode.Start);
        pieces.#position = offset;
      }
      while (pieces.#position < offset) {
        const want = Math.min(scratch.length, offset - pieces.#position);
        await pieces.#fill(scratch.subarray(0, want));
      }
      return pieces;
    } catch (error) {
      pieces[Symbol.dispose]();
      throw error;
    }
  }

  get position(): number {
    return this.#position;
  }

  /** The next piece (at most `buffer.length` bytes, read into it); verified at the end. */
  async next(buffer: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
    const want = Math.min(buffer.length, this.file.size - this.#position);
    const piece = buffer.subarray(0, want);
    await this.#fill(piece);
    if (this.#position === this.file.size) {
      let extra: number | null;
      try {
        extra = await this.#handle.read(new Uint8Array(1));
      } catch (error) {
        throw new AppError("conflict", `${describeFsError(error)} during upload`, {
          cause: error,
        });
      }
      if (extra !== null) throw changed("grew");
      if (this.#hash === null) {
        try {
          await checkSame(this.#handle, this.file);
        } catch (error) {
          if (error instanceof AppError) throw error;
          throw new AppError("conflict", `${describeFsError(error)} during upload`, {
            cause: error,
          });
        }
      } else {
        const digest = this.#hash.digest("hex");
        if (digest !== this.file.digest) {
          throw changed(`changed (its bytes now hash to "${short(digest)}")`);
        }
      }
    }
    return piece;
  }

  async #fill(target: Uint8Array): Promise<void> {
    let filled = 0;
    try {
      while (filled < target.length) {
        const count = await this.#handle.read(target.subarray(filled));
        if (count === null) throw changed("shrank");
        filled += count;
      }
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError("conflict", `${describeFsError(error)} during upload`, { cause: error });
    }
    this.#hash?.update(target);
    this.#position += target.length;
  }

  [Symbol.dispose](): void {
    try {
      this.#handle.close();
    } catch { /* closed already */ }
  }
}

/** Opens a file to upload it; a file gone or unreadable since it was hashed is `conflict`. */
async function openForUpload(file: HashedFile): Promise<Deno.FsFile> {
  try {
    return await Deno.open(file.path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw changed("vanished");
    throw new AppError("conflict", `${describeFsError(error)} at upload`, { cause: error });
  }
}
