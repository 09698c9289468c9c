/**
 * Packs: where the filesystem blob store keeps the blobs of small-blob batches.
 *
 * One file and two syncs per tiny blob is what limits a first scan (creating, syncing and
 * publishing a file costs far more than hashing 4 KiB). So the blobs of a batch are
 * appended to this process's pack file (`<root>/packs/<id>.pack`) with one write and one
 * sync, then indexed in `<root>/packs/index.db` (SQLite, `synchronous=FULL`) in one
 * transaction. Batches that arrive while a commit is running are committed together by
 * the next one (group commit).
 *
 * A packed blob is visible only through its index row, written after its bytes are
 * durable (and, for a new pack, after the pack's directory entry is), so a crash leaves at
 * most unindexed bytes at the end of a pack and never a visible blob with wrong bytes.
 * Each process appends to a pack of its own; the index is shared. Packs are never
 * rewritten: deleting a packed blob removes its index row and leaves its bytes in place.
 */
import { publishGroupCommit } from "../../store_channels.ts";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { join } from "node:path";
import type { Digest } from "../../digest.ts";
import { AppError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { BlobBytes } from "../mod.ts";
import { unavailable } from "./errors.ts";
import { fsErrorName } from "../../fs_error_name.ts";
import { syncDirectory } from "../../sync_directory.ts";
import { isSqliteFull } from "../../sqlite_full.ts";

/** By default a pack is closed and a new one started once it holds this much. */
const MAX_PACK_BYTES = 1024 ** 3;

export interface PackedLocation {
  pack: string;
  offset: number;
  size: number;
}

interface Pending {
  blobs: readonly BlobBytes[];
  done: PromiseWithResolvers<void>;
}

export class Packs {
  readonly #dir: string;
  readonly #maxPackBytes: number;
  readonly #db: DatabaseSync;
  readonly #locate: StatementSync;
  readonly #insert: StatementSync;
  readonly #remove: StatementSync;
  /** The pack this process appends to; null until the first append or after a failure. */
  #writer: { file: Deno.FsFile; name: string; size: number } | null = null;
  #pending: Pending[] = [];
  #committing: Promise<void> | null = null;

  private constructor(dir: string, db: DatabaseSync, maxPackBytes: number) {
    this.#dir = dir;
    this.#maxPackBytes = maxPackBytes;
    this.#db = db;
    this.#locate = db.prepare("SELECT pack, offset, size FROM packed WHERE digest = ?");
    this.#insert = db.prepare(
      "INSERT OR IGNORE INTO packed (digest, pack, offset, size) VALUES (?, ?, ?, ?)",
    );
    this.#remove = db.prepare("DELETE FROM packed WHERE digest = ?");
  }

  static async open(
    root: string,
    options: { maxPackBytes?: number } = {},
  ): Promise<Packs> {
    const dir = join(root, "packs");
    await Deno.mkdir(dir, { recursive: true });
    // The packs directory's entry in the root is durable before any pack in it is.
    await syncDirectory(root);
    const db = new DatabaseSync(join(dir, "index.db"));
    try {
      db.exec("PRAGMA journal_mode = WAL");
      // FULL: a committed index row survives a power cut, like the bytes it points to.
      db.exec("PRAGMA synchronous = FULL");
      db.exec("PRAGMA busy_timeout = 5000");
      db.exec(`CREATE TABLE IF NOT EXISTS packed (
        digest TEXT PRIMARY KEY,
        pack TEXT NOT NULL,
        offset INTEGER NOT NULL,
        size INTEGER NOT NULL
      ) WITHOUT ROWID`);
    } catch (error) {
      db.close();
      throw error;
    }
    return new Packs(dir, db, options.maxPackBytes ?? MAX_PACK_BYTES);
  }

  locate(digest: Digest): PackedLocation | null {
    const row = this.#index(() => this.#locate.get(digest));
    if (!row) return null;
    return { pack: String(row.pack), offset: Number(row.offset), size: Number(row.size) };
  }

  has(digest: Digest): boolean {
    return this.locate(digest) !== null;
  }

  /** Opens the pack holding a blob, positioned at byte `start` of the blob. */
  async openAt(location: PackedLocation, start: number): Promise<Deno.FsFile> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(join(this.#dir, location.pack), { read: true });
    } catch (error) {
      throw unavailable("read", error);
    }
    try {
      await file.seek(location.offset + start, Deno.SeekMode.Start);
      return file;
    } catch (error) {
      file.close();
      throw unavailable("read", error);
    }
  }

  /**
   * Appends verified blobs (each digest once, none already packed) and indexes them;
   * resolves once they are durable and visible. Throws `unavailable` when the disk fails.
   */
  append(blobs: readonly BlobBytes[]): Promise<void> {
    const done = Promise.withResolvers<void>();
    this.#pending.push({ blobs, done });
    this.#committing ??= this.#commitPending();
    return done.promise;
  }

  remove(digest: Digest): void {
    this.#index(() => this.#remove.run(digest));
  }

  async close(): Promise<void> {
    await this.#committing;
    this.#writer?.file.close();
    this.#writer = null;
    this.#db.close();
  }

  async #commitPending(): Promise<void> {
    while (this.#pending.length > 0) {
      const group = this.#pending.splice(0);
      publishGroupCommit({ store: "packs", size: group.length });
      try {
        await this.#commit(group.flatMap((pending) => pending.blobs));
        for (const pending of group) pending.done.resolve();
      } catch (error) {
        for (const pending of group) pending.done.reject(error);
      }
    }
    this.#committing = null;
  }

  async #commit(blobs: readonly BlobBytes[]): Promise<void> {
    // Two batches of one group may carry the same new digest: it is written once. One
    // packed meanwhile (by an earlier group, or another process sharing the index) is not
    // written again.
    const unique = [...new Map(blobs.map((blob) => [blob.digest, blob])).values()]
      .filter((blob) => !this.has(blob.digest));
    if (unique.length === 0) return;
    const total = unique.reduce((sum, blob) => sum + blob.bytes.byteLength, 0);
    const writer = await this.#writerFor(total);
    const bytes = new Uint8Array(total);
    const rows: [Digest, number, number][] = [];
    let offset = 0;
    for (const { digest, bytes: blob } of unique) {
      bytes.set(blob, offset);
      rows.push([digest, writer.size + offset, blob.byteLength]);
      offset += blob.byteLength;
    }
    try {
      let written = 0;
      while (written < total) written += await writer.file.write(bytes.subarray(written));
      await writer.file.syncData();
    } catch (error) {
      // The pack's tail is unknown now: later batches go to a fresh pack.
      writer.file.close();
      this.#writer = null;
      throw unavailable("write", error);
    }
    writer.size += total;
    this.#index(() => {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        for (const [digest, at, size] of rows) this.#insert.run(digest, writer.name, at, size);
        this.#db.exec("COMMIT");
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw error;
      }
    });
  }

  /** The pack to append `bytes` to: the current one, or a new one when it is full. */
  async #writerFor(bytes: number) {
    const current = this.#writer;
    if (current && (current.size === 0 || current.size + bytes <= this.#maxPackBytes)) {
      return current;
    }
    current?.file.close();
    this.#writer = null;
    const name = `${newId()}.pack`;
    let file: Deno.FsFile | undefined;
    try {
      file = await Deno.open(join(this.#dir, name), { write: true, createNew: true, mode: 0o644 });
      // The index will name this file: its directory entry must be durable first.
      await syncDirectory(this.#dir);
      return this.#writer = { file, name, size: 0 };
    } catch (error) {
      file?.close();
      throw unavailable("write", error);
    }
  }

  #index<T>(body: () => T): T {
    try {
      return body();
    } catch (error) {
      if (isSqliteFull(error)) throw unavailable("write", error);
      throw new AppError(
        "unavailable",
        `Blob store cannot use its pack index: ${fsErrorName(error)}`,
        {
          cause: error,
        },
      );
    }
  }
}
