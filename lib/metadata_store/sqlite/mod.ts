/**
 * Embedded metadata store on SQLite (`node:sqlite`). WAL journal with
 * `synchronous=NORMAL`: a committed transaction survives a crash of the server
 * process (the WAL is in the OS before `COMMIT` returns); group commit keeps
 * registration fast. `:memory:` gives a private in-memory store for tests.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";
import type { Digest } from "../../digest.ts";
import { AppError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import { GroupCommit } from "./group_commit.ts";
import {
  type FileHistoryEntry,
  type FileMetadata,
  type FileRecord,
  sameReport,
  type UpsertOutcome,
} from "../../models/file.ts";
import type { ApiKeyRecord, Scope } from "../../models/api_key.ts";
import type {
  ApiKeyStore,
  BlobIndex,
  BlobRecord,
  FileIndex,
  FileStats,
  MetadataStore,
} from "../mod.ts";

const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS files (
  id TEXT PRIMARY KEY,
  hostname TEXT NOT NULL,
  filepath TEXT NOT NULL,
  ip_address TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  file_size INTEGER NOT NULL,
  file_mode INTEGER NOT NULL,
  file_uid INTEGER NOT NULL,
  file_gid INTEGER NOT NULL,
  file_mtime REAL NOT NULL,
  file_atime REAL NOT NULL,
  file_ctime REAL NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  deleted_at TEXT,
  UNIQUE (hostname, filepath)
);
CREATE INDEX IF NOT EXISTS files_by_digest ON files (sha256, created_at);
CREATE TABLE IF NOT EXISTS file_history (
  file_id TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,
  file_size INTEGER NOT NULL,
  file_mtime REAL NOT NULL,
  replaced_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS file_history_by_file ON file_history (file_id, replaced_at);
CREATE TABLE IF NOT EXISTS blobs (
  digest TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  stored_at TEXT NOT NULL,
  epoch_file_id TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT,
  scope TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);
`;

export async function openSqliteMetadataStore(path: string): Promise<MetadataStore> {
  try {
    if (path !== ":memory:") await Deno.mkdir(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA foreign_keys = ON");
    const version = Number(
      (db.prepare("PRAGMA user_version").get() as { user_version: number })
        .user_version,
    );
    if (version > SCHEMA_VERSION) {
      db.close();
      throw new AppError(
        "unavailable",
        `Metadata database "${path}" has schema version ${version}; this ppserver knows up to ${SCHEMA_VERSION}`,
      );
    }
    transaction(db, () => {
      db.exec(SCHEMA);
      migrate(db);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
    return new SqliteMetadataStore(db);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError(
      "unavailable",
      `Cannot open metadata database "${path}": ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Brings a database made by an older ppserver up to `SCHEMA_VERSION` (additive changes only). */
function migrate(db: DatabaseSync): void {
  const columns = db.prepare("PRAGMA table_info(files)").all().map((row) => String(row.name));
  // Version 2: soft-deleted files keep their record with `deleted_at`.
  if (!columns.includes("deleted_at")) db.exec("ALTER TABLE files ADD COLUMN deleted_at TEXT");
}

class SqliteMetadataStore implements MetadataStore {
  readonly kind = "sqlite";
  readonly files: FileIndex;
  readonly blobs: BlobIndex;
  readonly apiKeys: ApiKeyStore;
  #db: DatabaseSync;
  #commits: GroupCommit;

  constructor(db: DatabaseSync) {
    this.#db = db;
    const sql = new Statements(db);
    this.#commits = new GroupCommit(db, storeError);
    this.files = new SqliteFileIndex(db, sql, this.#commits);
    this.blobs = new SqliteBlobIndex(db, sql);
    this.apiKeys = new SqliteApiKeyStore(sql);
  }

  ping(): Promise<void> {
    return run(() => {
      this.#db.prepare("SELECT 1").get();
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    if (this.#db.isOpen) {
      this.#commits.flush();
      this.#db.close();
    }
    return Promise.resolve();
  }
}

/** Prepared statements, made once per store. */
class Statements {
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, StatementSync>();
  constructor(db: DatabaseSync) {
    this.#db = db;
  }
  get(text: string): StatementSync {
    let statement = this.#cache.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#cache.set(text, statement);
    }
    return statement;
  }
}

class SqliteFileIndex implements FileIndex {
  constructor(
    private readonly db: DatabaseSync,
    private readonly sql: Statements,
    private readonly commits: GroupCommit,
  ) {}

  /** Concurrent calls share one commit (see GroupCommit); each call is all or nothing. */
  upsertMany(
    files: readonly FileMetadata[],
    now: Date,
  ): Promise<{ file: FileRecord; outcome: UpsertOutcome }[]> {
    return this.commits.run(() => files.map((file) => this.#upsert(file, now)));
  }

  #upsert(input: FileMetadata, now: Date): { file: FileRecord; outcome: UpsertOutcome } {
    const at = now.toISOString();
    const row = this.sql.get("SELECT * FROM files WHERE hostname = ? AND filepath = ?").get(
      input.hostname,
      input.filepath,
    );
    const existing = row ? fileOf(row) : null;
    if (!existing) {
      const file: FileRecord = {
        id: newId(now.getTime()),
        ...input,
        created_at: at,
        updated_at: at,
      };
      this.sql.get(
        `INSERT INTO files (id, hostname, filepath, ip_address, sha256, file_size, file_mode,
          file_uid, file_gid, file_mtime, file_atime, file_ctime, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        file.id,
        file.hostname,
        file.filepath,
        file.ip_address,
        file.sha256,
        file.file_size,
        file.file_mode,
        file.file_uid,
        file.file_gid,
        file.file_mtime,
        file.file_atime,
        file.file_ctime,
        file.created_at,
        file.updated_at,
      );
      return { file, outcome: "created" };
    }
    const deleted = row?.deleted_at != null;
    if (!deleted && sameReport(existing, input)) {
      return { file: existing, outcome: "unchanged" };
    }
    if (existing.sha256 !== input.sha256) {
      this.sql.get(
        `INSERT INTO file_history (file_id, sha256, file_size, file_mtime, replaced_at)
         VALUES (?, ?, ?, ?, ?)`,
      ).run(existing.id, existing.sha256, existing.file_size, existing.file_mtime, at);
    }
    const file: FileRecord = { ...existing, ...input, updated_at: at };
    this.sql.get(
      `UPDATE files SET ip_address = ?, sha256 = ?, file_size = ?, file_mode = ?, file_uid = ?,
        file_gid = ?, file_mtime = ?, file_atime = ?, file_ctime = ?, updated_at = ?,
        deleted_at = NULL WHERE id = ?`,
    ).run(
      file.ip_address,
      file.sha256,
      file.file_size,
      file.file_mode,
      file.file_uid,
      file.file_gid,
      file.file_mtime,
      file.file_atime,
      file.file_ctime,
      file.updated_at,
      file.id,
    );
    return { file, outcome: "updated" };
  }

  get(hostname: string, filepath: string): Promise<FileRecord | null> {
    return run(() => {
      const row = this.sql.get(
        "SELECT * FROM files WHERE hostname = ? AND filepath = ? AND deleted_at IS NULL",
      ).get(hostname, filepath);
      return row ? fileOf(row) : null;
    });
  }

  getById(id: string): Promise<FileRecord | null> {
    return run(() => {
      const row = this.sql.get("SELECT * FROM files WHERE id = ?").get(id);
      return row ? fileOf(row) : null;
    });
  }

  findByDigest(digest: Digest, limit: number): Promise<FileRecord[]> {
    return run(() =>
      this.sql.get(
        `SELECT * FROM files WHERE sha256 = ? AND deleted_at IS NULL
         ORDER BY created_at, id LIMIT ?`,
      ).all(digest, limit).map(fileOf)
    );
  }

  history(hostname: string, filepath: string): Promise<FileHistoryEntry[]> {
    return run(() =>
      this.sql.get(
        `SELECT h.sha256, h.file_size, h.file_mtime, h.replaced_at FROM file_history h
         JOIN files f ON f.id = h.file_id WHERE f.hostname = ? AND f.filepath = ?
         ORDER BY h.replaced_at DESC, h.rowid DESC`,
      ).all(hostname, filepath).map((row) => ({ ...row }) as unknown as FileHistoryEntry)
    );
  }

  markDeleted(hostname: string, filepaths: readonly string[], now: Date): Promise<number> {
    const at = now.toISOString();
    return run(() =>
      transaction(this.db, () => {
        const mark = this.sql.get(
          `UPDATE files SET deleted_at = ?, updated_at = ?
           WHERE hostname = ? AND filepath = ? AND deleted_at IS NULL`,
        );
        let marked = 0;
        for (const filepath of filepaths) {
          marked += Number(mark.run(at, at, hostname, filepath).changes);
        }
        return marked;
      })
    );
  }

  count(): Promise<number> {
    return run(() =>
      Number(
        (this.sql.get("SELECT count(*) AS n FROM files WHERE deleted_at IS NULL").get() as {
          n: number;
        }).n,
      )
    );
  }

  stats(): Promise<FileStats> {
    return run(() => {
      const totals = this.sql.get(
        `SELECT count(*) AS files, count(DISTINCT sha256) AS distinct_digests,
          coalesce(sum(file_size), 0) AS logical_bytes
         FROM files WHERE deleted_at IS NULL`,
      ).get() ?? {};
      const unique = this.sql.get(
        `SELECT coalesce(sum(size), 0) AS unique_bytes FROM (
          SELECT max(file_size) AS size FROM files WHERE deleted_at IS NULL GROUP BY sha256)`,
      ).get() ?? {};
      return {
        files: Number(totals.files ?? 0),
        distinct_digests: Number(totals.distinct_digests ?? 0),
        logical_bytes: Number(totals.logical_bytes ?? 0),
        unique_bytes: Number(unique.unique_bytes ?? 0),
      };
    });
  }
}

class SqliteBlobIndex implements BlobIndex {
  constructor(private readonly db: DatabaseSync, private readonly sql: Statements) {}

  has(digest: Digest): Promise<boolean> {
    return run(() =>
      this.sql.get("SELECT 1 FROM blobs WHERE digest = ?").get(digest) !== undefined
    );
  }

  get(digest: Digest): Promise<BlobRecord | null> {
    return run(() => {
      const row = this.sql.get("SELECT * FROM blobs WHERE digest = ?").get(digest);
      return row ? ({ ...row }) as unknown as BlobRecord : null;
    });
  }

  missing(digests: readonly Digest[]): Promise<Digest[]> {
    return run(() => {
      const lookup = this.sql.get("SELECT 1 FROM blobs WHERE digest = ?");
      const seen = new Set<Digest>();
      const missing: Digest[] = [];
      for (const digest of digests) {
        if (seen.has(digest)) continue;
        seen.add(digest);
        if (lookup.get(digest) === undefined) missing.push(digest);
      }
      return missing;
    });
  }

  record(blob: Omit<BlobRecord, "stored_at">, now: Date): Promise<boolean> {
    return run(() => {
      const result = this.sql.get(
        `INSERT INTO blobs (digest, size, stored_at, epoch_file_id) VALUES (?, ?, ?, ?)
         ON CONFLICT (digest) DO NOTHING`,
      ).run(blob.digest, blob.size, now.toISOString(), blob.epoch_file_id);
      return Number(result.changes) === 1;
    });
  }

  remove(digest: Digest): Promise<void> {
    return run(() => {
      this.sql.get("DELETE FROM blobs WHERE digest = ?").run(digest);
    });
  }

  stats(): Promise<{ blobs: number; bytes: number }> {
    return run(() => {
      const row = this.sql.get(
        "SELECT count(*) AS blobs, coalesce(sum(size), 0) AS bytes FROM blobs",
      ).get() ?? {};
      return { blobs: Number(row.blobs ?? 0), bytes: Number(row.bytes ?? 0) };
    });
  }
}

class SqliteApiKeyStore implements ApiKeyStore {
  constructor(private readonly sql: Statements) {}

  create(
    key: { name: string; description: string | null; scope: Scope; key_hash: string },
    now: Date,
  ): Promise<ApiKeyRecord> {
    return run(() => {
      const record: ApiKeyRecord = {
        id: newId(now.getTime()),
        ...key,
        created_at: now.toISOString(),
        last_used_at: null,
        revoked_at: null,
      };
      try {
        this.sql.get(
          `INSERT INTO api_keys (id, key_hash, name, description, scope, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        ).run(
          record.id,
          record.key_hash,
          record.name,
          record.description,
          record.scope,
          record.created_at,
        );
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new AppError("conflict", "An API key with this hash already exists", {
            cause: error,
          });
        }
        throw error;
      }
      return record;
    });
  }

  findByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    return run(() => {
      const row = this.sql.get("SELECT * FROM api_keys WHERE key_hash = ?").get(keyHash);
      return row ? ({ ...row }) as unknown as ApiKeyRecord : null;
    });
  }

  get(id: string): Promise<ApiKeyRecord | null> {
    return run(() => {
      const row = this.sql.get("SELECT * FROM api_keys WHERE id = ?").get(id);
      return row ? ({ ...row }) as unknown as ApiKeyRecord : null;
    });
  }

  list(): Promise<ApiKeyRecord[]> {
    return run(() =>
      this.sql.get("SELECT * FROM api_keys ORDER BY created_at, id").all()
        .map((row) => ({ ...row }) as unknown as ApiKeyRecord)
    );
  }

  revoke(id: string, now: Date): Promise<boolean> {
    return run(() => {
      const result = this.sql.get(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
      ).run(now.toISOString(), id);
      return Number(result.changes) === 1;
    });
  }

  delete(id: string): Promise<boolean> {
    return run(() =>
      Number(this.sql.get("DELETE FROM api_keys WHERE id = ?").run(id).changes) === 1
    );
  }

  touch(id: string, now: Date): Promise<void> {
    return run(() => {
      this.sql.get("UPDATE api_keys SET last_used_at = ? WHERE id = ?").run(now.toISOString(), id);
    });
  }

  count(): Promise<number> {
    return run(() =>
      Number((this.sql.get("SELECT count(*) AS n FROM api_keys").get() as { n: number }).n)
    );
  }
}

/** SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY. */
function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null || !("errcode" in error)) return false;
  return error.errcode === 2067 || error.errcode === 1555;
}

/** A files row as a record; `deleted_at` stays inside the store. */
function fileOf(row: Record<string, unknown>): FileRecord {
  const { deleted_at: _deletedAt, ...file } = row;
  return file as unknown as FileRecord;
}

function transaction<T>(db: DatabaseSync, body: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = body();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** Runs a synchronous SQLite call; driver failures become `unavailable` without details. */
function run<T>(body: () => T): Promise<T> {
  try {
    return Promise.resolve(body());
  } catch (error) {
    return Promise.reject(storeError(error));
  }
}

function storeError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError("unavailable", "Metadata store failed", { cause: error });
}
