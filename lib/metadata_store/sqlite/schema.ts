/** The SQLite metadata store's tables, their version, and the migration of older databases. */
import type { DatabaseSync } from "node:sqlite";

export const SCHEMA_VERSION = 5;

export const SCHEMA = `
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
  revoked_at TEXT,
  hosts TEXT
);
CREATE TABLE IF NOT EXISTS audit_log (
  id TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  key_id TEXT NOT NULL,
  key_name TEXT NOT NULL,
  files_removed INTEGER NOT NULL,
  detail TEXT NOT NULL
);
`;

export /** Brings a database made by an older ppserver up to `SCHEMA_VERSION` (additive changes only). */
function migrate(db: DatabaseSync): void {
  const columns = db.prepare("PRAGMA table_info(files)").all().map((row) => String(row.name));
  // Version 2: soft-deleted files keep their record with `deleted_at`.
  if (!columns.includes("deleted_at")) db.exec("ALTER TABLE files ADD COLUMN deleted_at TEXT");
  // Version 4: a key may be limited to hosts (a JSON array of patterns; NULL for any host).
  const keyColumns = db.prepare("PRAGMA table_info(api_keys)").all().map((row) => String(row.name));
  if (!keyColumns.includes("hosts")) db.exec("ALTER TABLE api_keys ADD COLUMN hosts TEXT");
}
