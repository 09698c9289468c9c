/**
 * The per-host scan cache: an embedded SQLite database (`node:sqlite`, WAL) per server URL
 * and host name, mapping each path scanned to the identity of the file it was (device,
 * inode, size, mtime, ctime), its digest, and whether the server confirmed it (the file is
 * registered with that digest and the server holds the blob). A file whose identity is
 * unchanged is neither read nor sent again.
 *
 * Correctness rules:
 * - A hit needs all five identity fields equal. Deno reports ctime in whole seconds and
 *   mtime in milliseconds, so a change within the same tick as the cached times would not
 *   show; an entry is therefore "racy" (not trusted, the file is read again) when the file
 *   changed less than `RACY_MARGIN_MS` before it was looked at (as git does).
 * - `confirmed` is set only after the server's answer; a crash loses at most the writes
 *   of the open transaction, which only costs work on the next scan.
 * - Every lookup marks the row seen by this scan (`seen` = the scan's number): rows under
 *   a scanned root not seen are the deletion candidates.
 *
 * Writes are batched in transactions (committed every `COMMIT_EVERY` writes or second).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type Digest, isDigest } from "../../lib/digest.ts";
import { AppError } from "../../lib/errors.ts";

export const RACY_MARGIN_MS = 1000;
/** Deno gives ctime in whole seconds: the real time may be up to this much later. */
const CTIME_TICK_MS = 1000;
const COMMIT_EVERY = 2000;
const COMMIT_AFTER_MS = 1000;
const SCHEMA_VERSION = "1";

/** What identifies a file's content without reading it. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface CachedFile {
  digest: Digest;
  /** The server has the file registered with this digest and holds the blob. */
  confirmed: boolean;
  /**
   * The file changed too close to when it was cached for the digest to be trusted: read
   * it again (if it still hashes to `digest`, `confirmed` still holds).
   */
  racy: boolean;
}

export interface CacheRow {
  path: string;
  digest: string;
}

/** A file's identity from its stat, or null when the stat lacks a field. */
export function identityOf(info: Deno.FileInfo): FileIdentity | null {
  if (info.ino === null || info.mtime === null || info.ctime === null) return null;
  return {
    dev: info.dev,
    ino: info.ino,
    size: info.size,
    mtimeMs: info.mtime.getTime(),
    ctimeMs: info.ctime.getTime(),
  };
}

/** True when both identities are known and equal. */
export function sameIdentity(a: FileIdentity | null, b: FileIdentity | null): boolean {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino && a.size === b.size &&
    a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/**
 * True when a change right after `statAt` could go unseen: the file's times are too close
 * to the moment it was looked at for a later change to be told apart.
 */
export function isRacy(identity: FileIdentity, statAt: number): boolean {
  const changedAt = Math.max(identity.mtimeMs, identity.ctimeMs + CTIME_TICK_MS);
  return statAt - changedAt < RACY_MARGIN_MS;
}

/** The database file of one server and host inside the cache directory. */
export function cacheFileOf(directory: string, url: string, hostname: string): string {
  const key = createHash("sha256").update(`${url}\n${hostname}`).digest("hex").slice(0, 16);
  return join(directory, `files-${key}.sqlite`);
}

export class FileCache implements Disposable {
  readonly path: string;
  #db: DatabaseSync;
  #lookup: StatementSync;
  #record: StatementSync;
  #forget: StatementSync;
  #unseen: StatementSync;
  #inTransaction = false;
  #writes = 0;
  #since = 0;
  #scan = 0;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    this.#lookup = db.prepare(
      `UPDATE files SET seen = ? WHERE path = ?
       RETURNING dev, ino, size, mtime_ms, ctime_ms, digest, confirmed, racy`,
    );
    this.#record = db.prepare(
      `INSERT INTO files (path, dev, ino, size, mtime_ms, ctime_ms, digest, confirmed, racy, seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET dev = excluded.dev, ino = excluded.ino,
         size = excluded.size, mtime_ms = excluded.mtime_ms, ctime_ms = excluded.ctime_ms,
         digest = excluded.digest, confirmed = excluded.confirmed, racy = excluded.racy,
         seen = excluded.seen`,
    );
    this.#forget = db.prepare("DELETE FROM files WHERE path = ?");
    this.#unseen = db.prepare(
      `SELECT path, digest FROM files
       WHERE path > ? AND path < ? AND seen < ? ORDER BY path LIMIT ?`,
    );
  }

  /**
   * Opens (creating when missing) the cache of `url` and `hostname` in `directory`. A
   * cache that cannot be opened is an `unavailable` AppError (the caller may go on without).
   */
  static open(directory: string, url: string, hostname: string): FileCache {
    const path = cacheFileOf(directory, url, hostname);
    let db: DatabaseSync | undefined;
    try {
      Deno.mkdirSync(directory, { recursive: true, mode: 0o700 });
      db = new DatabaseSync(path);
      db.exec("PRAGMA busy_timeout = 5000");
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS files (
          path TEXT PRIMARY KEY,
          dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL,
          mtime_ms INTEGER NOT NULL, ctime_ms INTEGER NOT NULL,
          digest TEXT NOT NULL, confirmed INTEGER NOT NULL, racy INTEGER NOT NULL,
          seen INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS queue (
          path TEXT PRIMARY KEY, since_ms INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS uploads (
          digest TEXT PRIMARY KEY, size INTEGER NOT NULL, location TEXT NOT NULL,
          offset INTEGER NOT NULL, updated_ms INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
      const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get()?.value;
      if (version !== undefined && version !== SCHEMA_VERSION) {
        throw new Error(`schema version "${String(version)}" is not "${SCHEMA_VERSION}"`);
      }
      const set = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
      set.run("schema", SCHEMA_VERSION);
      set.run("url", url);
      set.run("hostname", hostname);
      return new FileCache(path, db);
    } catch (error) {
      try {
        db?.close();
      } catch { /* already unusable */ }
      const reason = error instanceof Error ? error.message : String(error);
      throw new AppError("unavailable", `Cannot use the cache "${path}": ${reason}`, {
        cause: error,
      });
    }
  }

  /** Starts a scan: answers its number, which marks the rows it sees. */
  beginScan(): number {
    this.#commit();
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = 'scans'").get();
    this.#scan = Number(row?.value ?? 0) + 1;
    this.#db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('scans', ?)")
      .run(String(this.#scan));
    return this.#scan;
  }

  get scan(): number {
    return this.#scan;
  }

  /**
   * Marks `path` seen by this scan and answers what is cached for it when the file is
   * still the one cached (same identity); null otherwise.
   */
  lookup(path: string, identity: FileIdentity): CachedFile | null {
    this.#begin();
    const row = this.#lookup.get(this.#scan, path);
    this.#wrote();
    if (!row) return null;
    const digest = row.digest;
    if (
      row.dev !== identity.dev || row.ino !== identity.ino || row.size !== identity.size ||
      row.mtime_ms !== identity.mtimeMs || row.ctime_ms !== identity.ctimeMs || !isDigest(digest)
    ) return null;
    return { digest, confirmed: row.confirmed === 1, racy: row.racy !== 0 };
  }

  /** Marks `path` seen by this scan (a file that exists but was not looked up). */
  see(path: string): void {
    this.#begin();
    this.#lookup.get(this.#scan, path);
    this.#wrote();
  }

  /** Remembers what `path` was when it had `digest`; `statAt` is when it was looked at. */
  record(
    path: string,
    identity: FileIdentity,
    digest: Digest,
    confirmed: boolean,
    statAt: number,
  ): void {
    this.#begin();
    this.#record.run(
      path,
      identity.dev,
      identity.ino,
      identity.size,
      identity.mtimeMs,
      identity.ctimeMs,
      digest,
      confirmed ? 1 : 0,
      isRacy(identity, statAt) ? 1 : 0,
      this.#scan,
    );
    this.#wrote();
  }

  /**
   * Rows under `root` (the root itself, or any path below it) not seen by this scan, in
   * path order after `after`, at most `limit`.
   */
  unseenUnder(root: string, after: string | null, limit: number): CacheRow[] {
    const prefix = root.endsWith("/") ? root : `${root}/`;
    // Paths below the root sort between "<root>/" and "<root>0" ("0" follows "/").
    const upper = `${prefix.slice(0, -1)}0`;
    const rows: CacheRow[] = [];
    if (after === null) {
      const self = this.#db.prepare("SELECT path, digest, seen FROM files WHERE path = ?")
        .get(root);
      if (self && Number(self.seen) < this.#scan) {
        rows.push({ path: String(self.path), digest: String(self.digest) });
      }
    }
    const from = after ?? prefix;
    for (const row of this.#unseen.all(from, upper, this.#scan, limit - rows.length)) {
      rows.push({ path: String(row.path), digest: String(row.digest) });
    }
    return rows;
  }

  /** Drops the rows of these paths. */
  forget(paths: Iterable<string>): void {
    this.#begin();
    for (const path of paths) {
      this.#forget.run(path);
      this.#wrote();
    }
  }

  /**
   * A resumable upload of `digest` (of `size` bytes) an earlier run left unfinished: where
   * it is on the server and the offset last confirmed there (see `UploadLedger`).
   */
  findUpload(digest: Digest, size: number): { location: string; offset: number } | null {
    const row = this.#db.prepare(
      "SELECT location, offset FROM uploads WHERE digest = ? AND size = ?",
    )
      .get(digest, size);
    if (!row || typeof row.location !== "string" || typeof row.offset !== "number") return null;
    return { location: row.location, offset: row.offset };
  }

  /** Remembers an unfinished upload; written through at once (a crash keeps it). */
  saveUpload(digest: Digest, size: number, location: string, offset: number): void {
    this.#commit();
    this.#db.prepare(
      `INSERT INTO uploads (digest, size, location, offset, updated_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (digest) DO UPDATE SET size = excluded.size, location = excluded.location,
         offset = excluded.offset, updated_ms = excluded.updated_ms`,
    ).run(digest, size, location, offset, Date.now());
  }

  /** Forgets the upload of `digest` (done, abandoned, or no longer on the server). */
  forgetUpload(digest: Digest): void {
    this.#commit();
    this.#db.prepare("DELETE FROM uploads WHERE digest = ?").run(digest);
  }

  /**
   * Paths `ppclient watch` saw change and has not sent yet, written through at once so
   * that a restart loses none.
   */
  enqueue(paths: Iterable<string>): void {
    this.#commit();
    const insert = this.#db.prepare(
      "INSERT INTO queue (path, since_ms) VALUES (?, ?) ON CONFLICT (path) DO NOTHING",
    );
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const path of paths) insert.run(path, Date.now());
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** The queued paths, oldest first, at most `limit`. */
  queued(limit: number): string[] {
    return this.#db.prepare("SELECT path FROM queue ORDER BY since_ms, path LIMIT ?").all(limit)
      .map((row) => String(row.path));
  }

  /** Takes these paths off the queue (sent). */
  dequeue(paths: Iterable<string>): void {
    this.#commit();
    const remove = this.#db.prepare("DELETE FROM queue WHERE path = ?");
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const path of paths) remove.run(path);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Commits the writes so far. */
  flush(): void {
    this.#commit();
  }

  [Symbol.dispose](): void {
    try {
      this.#commit();
    } finally {
      this.#db.close();
    }
  }

  #begin(): void {
    if (this.#inTransaction) return;
    this.#db.exec("BEGIN IMMEDIATE");
    this.#inTransaction = true;
    this.#since = Date.now();
  }

  #wrote(): void {
    this.#writes++;
    if (this.#writes >= COMMIT_EVERY || Date.now() - this.#since >= COMMIT_AFTER_MS) {
      this.#commit();
    }
  }

  #commit(): void {
    if (!this.#inTransaction) return;
    this.#db.exec("COMMIT");
    this.#inTransaction = false;
    this.#writes = 0;
  }
}
