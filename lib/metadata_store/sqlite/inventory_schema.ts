/**
 * What the SQLite store adds for the read side (schema version 3):
 * - `files_fts`: an FTS5 trigram index of the paths for substring search. `detail=none`
 *   keeps it small (no positions): a match is a superset that the query confirms with
 *   `instr()`. Kept in step with `files` by triggers (paths never change in place).
 * - `files_by_host_created`: a host's files by registration time (changes, first report).
 * - `file_history_by_time`: digest changes by time (changes).
 * - `file_history.file_mode`: the mode a replaced content had (restore at a time); null in
 *   rows written before it.
 * - `file_deletions`: the times a file was away (deleted, then registered again), so that
 *   restore and changes see deletions that were undone.
 * - `host_scans`: when a scan of each host last ran to its end.
 * - `contents`: each digest's size and live files, kept by triggers on `files` (see
 *   `totals_schema.ts`), with the duplicate groups indexed by reclaimable bytes: the
 *   fleet's top duplicates are an index walk instead of a grouping of every file (duplicate queries with host or path filters
 *   still group the files they cover).
 */
import type { DatabaseSync } from "node:sqlite";

export const INVENTORY_SCHEMA = `
CREATE VIRTUAL TABLE IF NOT EXISTS files_fts USING fts5(
  filepath, content='files', content_rowid='rowid',
  tokenize='trigram case_sensitive 1', detail='none'
);
CREATE TRIGGER IF NOT EXISTS files_fts_insert AFTER INSERT ON files BEGIN
  INSERT INTO files_fts (rowid, filepath) VALUES (new.rowid, new.filepath);
END;
CREATE TRIGGER IF NOT EXISTS files_fts_delete AFTER DELETE ON files BEGIN
  INSERT INTO files_fts (files_fts, rowid, filepath) VALUES ('delete', old.rowid, old.filepath);
END;
CREATE INDEX IF NOT EXISTS files_by_host_created ON files (hostname, created_at);
CREATE INDEX IF NOT EXISTS file_history_by_time ON file_history (replaced_at);
CREATE TABLE IF NOT EXISTS file_deletions (
  file_id TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
  deleted_at TEXT NOT NULL,
  restored_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS file_deletions_by_file ON file_deletions (file_id);
CREATE TABLE IF NOT EXISTS contents (
  sha256 TEXT PRIMARY KEY,
  file_size INTEGER NOT NULL,
  live INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS contents_by_reclaimable
  ON contents (file_size * (live - 1) DESC, sha256) WHERE live >= 2;
CREATE TABLE IF NOT EXISTS host_scans (
  hostname TEXT PRIMARY KEY,
  last_complete_scan_at TEXT NOT NULL
) WITHOUT ROWID;
`;

/** Creates the read-side schema; fills the path index of a database made before it. */
export function migrateInventory(db: DatabaseSync): void {
  const existed = db.prepare(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'files_fts'",
  ).get() !== undefined;
  const counted = db.prepare(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'contents'",
  ).get() !== undefined;
  db.exec(INVENTORY_SCHEMA);
  const history = db.prepare("PRAGMA table_info(file_history)").all().map((r) => String(r.name));
  if (!history.includes("file_mode")) {
    db.exec("ALTER TABLE file_history ADD COLUMN file_mode INTEGER");
  }
  if (!existed) db.exec("INSERT INTO files_fts (files_fts) VALUES ('rebuild')");
  if (!counted) {
    db.exec(`INSERT INTO contents (sha256, file_size, live)
      SELECT sha256, max(file_size), count(*) FROM files WHERE deleted_at IS NULL
      GROUP BY sha256`);
  }
}
