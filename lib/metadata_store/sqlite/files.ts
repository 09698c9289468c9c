/** The file index on SQLite: files keyed by (hostname, filepath), digest changes as history. */
import type { Digest } from "../../digest.ts";
import { newId } from "../../ids.ts";
import {
  type FileHistoryEntry,
  type FileMetadata,
  type FileRecord,
  sameReport,
  type UpsertOutcome,
} from "../../models/file.ts";
import type { FileIndex, FileStats } from "../mod.ts";
import { run } from "./errors.ts";
import type { GroupCommit } from "./group_commit.ts";
import { bigInteger, fileOf, historyEntryOf, integer, isDeleted, nullableText } from "./rows.ts";
import { bigInts, type Statements } from "./statements.ts";
import { REFRESH_REPORT_TIMES } from "./totals_schema.ts";

export class SqliteFileIndex implements FileIndex {
  constructor(
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
    const deleted = row ? isDeleted(row) : false;
    if (!deleted && sameReport(existing, input)) {
      return { file: existing, outcome: "unchanged" };
    }
    if (existing.sha256 !== input.sha256) {
      this.sql.get(
        `INSERT INTO file_history (file_id, sha256, file_size, file_mtime, file_mode, replaced_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(
        existing.id,
        existing.sha256,
        existing.file_size,
        existing.file_mtime,
        existing.file_mode,
        at,
      );
    }
    if (deleted && row) {
      // Back after a deletion: the time it was away stays known (restore, changes).
      this.sql.get(
        "INSERT INTO file_deletions (file_id, deleted_at, restored_at) VALUES (?, ?, ?)",
      ).run(existing.id, nullableText(row, "deleted_at"), at);
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
      ).all(hostname, filepath).map(historyEntryOf)
    );
  }

  markDeleted(hostname: string, filepaths: readonly string[], now: Date): Promise<number> {
    const at = now.toISOString();
    // One savepoint of the group commit: all paths of the call are marked, or none.
    return this.commits.run(() => {
      const mark = this.sql.get(
        `UPDATE files SET deleted_at = ?, updated_at = ?
           WHERE hostname = ? AND filepath = ? AND deleted_at IS NULL`,
      );
      let marked = 0;
      for (const filepath of filepaths) {
        marked += Number(mark.run(at, at, hostname, filepath).changes);
      }
      return marked;
    });
  }

  recordCompleteScan(hostname: string, now: Date): Promise<void> {
    return run(() => {
      this.sql.get(
        `INSERT INTO host_scans (hostname, last_complete_scan_at) VALUES (?, ?)
         ON CONFLICT (hostname) DO UPDATE SET last_complete_scan_at =
           max(last_complete_scan_at, excluded.last_complete_scan_at)`,
      ).run(hostname, now.toISOString());
    });
  }

  removeHost(hostname: string): Promise<number> {
    // One savepoint of the group commit; file_history rows go with their file (CASCADE).
    return this.commits.run(() => {
      this.sql.get("DELETE FROM host_scans WHERE hostname = ?").run(hostname);
      const removed = Number(
        this.sql.get("DELETE FROM files WHERE hostname = ?").run(hostname).changes,
      );
      this.sql.get(REFRESH_REPORT_TIMES).run();
      return removed;
    });
  }

  removeDigest(digest: Digest): Promise<number> {
    return this.commits.run(() => {
      const removed = Number(
        this.sql.get("DELETE FROM files WHERE sha256 = ?").run(digest).changes,
      );
      this.sql.get("DELETE FROM file_history WHERE sha256 = ?").run(digest);
      this.sql.get(REFRESH_REPORT_TIMES).run();
      return removed;
    });
  }

  count(): Promise<number> {
    return run(() =>
      integer(
        this.sql.get("SELECT count(*) AS n FROM files WHERE deleted_at IS NULL").get() ?? {},
        "n",
      )
    );
  }

  stats(): Promise<FileStats> {
    return run(() => {
      // Sums read as BigInt: past 2^53 bytes (8 PiB) node:sqlite refuses to make a number.
      const totals = bigInts(this.sql.get(
        `SELECT count(*) AS files, count(DISTINCT sha256) AS distinct_digests,
          coalesce(sum(file_size), 0) AS logical_bytes
         FROM files WHERE deleted_at IS NULL`,
      )).get() ?? {};
      const unique = bigInts(this.sql.get(
        `SELECT coalesce(sum(size), 0) AS unique_bytes FROM (
          SELECT max(file_size) AS size FROM files WHERE deleted_at IS NULL GROUP BY sha256)`,
      )).get() ?? {};
      return {
        files: integer(totals, "files"),
        distinct_digests: integer(totals, "distinct_digests"),
        logical_bytes: bigInteger(totals, "logical_bytes"),
        unique_bytes: bigInteger(unique, "unique_bytes"),
      };
    });
  }
}
