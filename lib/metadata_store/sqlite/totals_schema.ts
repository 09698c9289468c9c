/**
 * Maintained totals of the SQLite store (schema version 5), kept by triggers in the
 * transaction of each write, so that hosts, stats and protection read a few rows instead of
 * grouping every file (at 100,000 files on 200 hosts these took about 1 s a request):
 * - `host_totals`: each host's live files, logical bytes, distinct contents, bytes only it
 *   holds, first and last report.
 * - `host_contents`: live files per (host, digest): when a host gains or loses a content,
 *   and a host's stored and at-risk totals without reading its files.
 * - `contents.hosts`: how many hosts hold a content live (contents on one host only, and the
 *   hosts of a duplicate group); `contents.stored`: its blob is recorded (at risk).
 * - `fleet_totals`: one row with the fleet's distinct, stored and at-risk contents.
 * A host's first and last report only grow, but where an admin removal takes files away
 * (`FileIndex.removeHost`, `removeDigest`): a removed file that held one of them leaves it
 * unknown (NULL) until `REFRESH_REPORT_TIMES`, run in the same transaction, reads it from
 * the host's files; a host left without files leaves `host_totals`.
 */
import type { DatabaseSync } from "node:sqlite";

const TABLES = `
CREATE TABLE IF NOT EXISTS host_totals (
  hostname TEXT PRIMARY KEY,
  files INTEGER NOT NULL,
  logical_bytes INTEGER NOT NULL,
  digests INTEGER NOT NULL DEFAULT 0,
  exclusive_bytes INTEGER NOT NULL DEFAULT 0,
  first_report_at TEXT,
  last_report_at TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS host_contents (
  hostname TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  live INTEGER NOT NULL,
  PRIMARY KEY (hostname, sha256)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fleet_totals (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  digests INTEGER NOT NULL,
  unique_bytes INTEGER NOT NULL,
  stored_digests INTEGER NOT NULL,
  stored_bytes INTEGER NOT NULL,
  at_risk_files INTEGER NOT NULL,
  at_risk_bytes INTEGER NOT NULL
);
`;

/** What one `contents` row adds to `fleet_totals` (`row` is `new` or `old`). */
function share(row: string): Record<string, string> {
  const live = `(${row}.live > 0)`;
  const unstored = `(${row}.stored = 0 AND ${row}.file_size > 0)`;
  return {
    digests: live,
    unique_bytes: `${live} * ${row}.file_size`,
    stored_digests: `${live} * (1 - ${unstored})`,
    stored_bytes: `${live} * ${row}.stored * ${row}.file_size`,
    at_risk_files: `${unstored} * ${row}.live`,
    at_risk_bytes: `${unstored} * ${row}.live * ${row}.file_size`,
  };
}

function fleetDelta(added: string, removed: string | null): string {
  const plus = share(added);
  const minus = removed === null ? null : share(removed);
  return Object.keys(plus).map((column) =>
    `${column} = ${column} + ${plus[column]}${minus === null ? "" : ` - ${minus[column]}`}`
  ).join(",\n    ");
}

/** Liveness-guarded moves of one file's content, in the order the host counts need. */
const LEAVE = `
  UPDATE host_contents SET live = live - 1
  WHERE old.deleted_at IS NULL AND hostname = old.hostname AND sha256 = old.sha256;
  UPDATE contents SET live = live - 1 WHERE old.deleted_at IS NULL AND sha256 = old.sha256;`;
const ENTER = `
  INSERT INTO contents (sha256, file_size, live, hosts, stored)
  SELECT new.sha256, new.file_size, 1, 0, EXISTS (SELECT 1 FROM blobs WHERE digest = new.sha256)
  WHERE new.deleted_at IS NULL
  ON CONFLICT (sha256) DO UPDATE SET live = live + 1;
  INSERT INTO host_contents (hostname, sha256, live)
  SELECT new.hostname, new.sha256, 1 WHERE new.deleted_at IS NULL
  ON CONFLICT (hostname, sha256) DO UPDATE SET live = live + 1;`;
const LIVE_BYTES = (row: string) =>
  `CASE WHEN ${row}.deleted_at IS NULL THEN ${row}.file_size ELSE 0 END`;

/** A live file of content \`new.sha256\` on another host than \`new.hostname\`, if any. */
const OTHER_HOST = `(SELECT f.hostname FROM files f WHERE f.sha256 = new.sha256
  AND f.deleted_at IS NULL AND f.hostname <> new.hostname LIMIT 1)`;
const SIZE = "(SELECT file_size FROM contents WHERE sha256 = new.sha256)";
/** The content's host count after the change, and the host whose exclusivity it changes. */
const whenHosts = (count: number, host: string) =>
  `(SELECT CASE WHEN hosts = ${count} THEN ${host} END FROM contents WHERE sha256 = new.sha256)`;

/**
 * Host \`new.hostname\` gains content \`new.sha256\`: held by it alone, the bytes are its
 * own; held by one other host until now, they are no longer that host's own.
 */
const GAIN = `
  UPDATE contents SET hosts = hosts + 1 WHERE sha256 = new.sha256;
  UPDATE host_totals SET digests = digests + 1 WHERE hostname = new.hostname;
  UPDATE host_totals SET exclusive_bytes = exclusive_bytes + ${SIZE}
  WHERE hostname = ${whenHosts(1, "new.hostname")};
  UPDATE host_totals SET exclusive_bytes = exclusive_bytes - ${SIZE}
  WHERE hostname = ${whenHosts(2, OTHER_HOST)};`;
/** Host \`new.hostname\` loses content \`new.sha256\` (the mirror of \`GAIN\`). */
const LOSS = `
  UPDATE contents SET hosts = hosts - 1 WHERE sha256 = new.sha256;
  UPDATE host_totals SET digests = digests - 1 WHERE hostname = new.hostname;
  UPDATE host_totals SET exclusive_bytes = exclusive_bytes - ${SIZE}
  WHERE hostname = ${whenHosts(0, "new.hostname")};
  UPDATE host_totals SET exclusive_bytes = exclusive_bytes + ${SIZE}
  WHERE hostname = ${whenHosts(1, OTHER_HOST)};`;

const TRIGGERS = `
CREATE TRIGGER IF NOT EXISTS totals_file_insert AFTER INSERT ON files BEGIN
  INSERT INTO host_totals (hostname, files, logical_bytes, first_report_at, last_report_at)
  VALUES (new.hostname, new.deleted_at IS NULL, ${LIVE_BYTES("new")}, new.created_at,
    new.updated_at)
  ON CONFLICT (hostname) DO UPDATE SET files = files + excluded.files,
    logical_bytes = logical_bytes + excluded.logical_bytes,
    first_report_at = min(first_report_at, excluded.first_report_at),
    last_report_at = max(last_report_at, excluded.last_report_at);
  ${ENTER}
END;
CREATE TRIGGER IF NOT EXISTS totals_file_report AFTER UPDATE ON files BEGIN
  UPDATE host_totals SET
    files = files + (new.deleted_at IS NULL) - (old.deleted_at IS NULL),
    logical_bytes = logical_bytes + ${LIVE_BYTES("new")} - ${LIVE_BYTES("old")},
    last_report_at = max(last_report_at, new.updated_at)
  WHERE hostname = new.hostname;
END;
CREATE TRIGGER IF NOT EXISTS totals_file_move AFTER UPDATE OF sha256, deleted_at ON files
WHEN old.sha256 IS NOT new.sha256 OR (old.deleted_at IS NULL) IS NOT (new.deleted_at IS NULL)
BEGIN
  ${LEAVE}
  ${ENTER}
END;
CREATE TRIGGER IF NOT EXISTS totals_file_delete AFTER DELETE ON files BEGIN
  UPDATE host_totals SET files = files - (old.deleted_at IS NULL),
    logical_bytes = logical_bytes - ${LIVE_BYTES("old")},
    first_report_at = CASE WHEN old.created_at <= first_report_at THEN NULL
      ELSE first_report_at END,
    last_report_at = CASE WHEN old.updated_at >= last_report_at THEN NULL
      ELSE last_report_at END
  WHERE hostname = old.hostname;
  ${LEAVE}
  DELETE FROM host_totals WHERE hostname = old.hostname
    AND NOT EXISTS (SELECT 1 FROM files WHERE hostname = old.hostname);
END;
CREATE TRIGGER IF NOT EXISTS totals_host_content_insert AFTER INSERT ON host_contents
WHEN new.live > 0 BEGIN
  ${GAIN}
END;
CREATE TRIGGER IF NOT EXISTS totals_host_content_gain AFTER UPDATE OF live ON host_contents
WHEN old.live = 0 AND new.live > 0 BEGIN
  ${GAIN}
END;
CREATE TRIGGER IF NOT EXISTS totals_host_content_loss AFTER UPDATE OF live ON host_contents
WHEN old.live > 0 AND new.live = 0 BEGIN
  ${LOSS}
END;
CREATE TRIGGER IF NOT EXISTS totals_blob_insert AFTER INSERT ON blobs BEGIN
  UPDATE contents SET stored = 1 WHERE sha256 = new.digest;
END;
CREATE TRIGGER IF NOT EXISTS totals_blob_delete AFTER DELETE ON blobs BEGIN
  UPDATE contents SET stored = 0 WHERE sha256 = old.digest;
END;
CREATE TRIGGER IF NOT EXISTS totals_content_insert AFTER INSERT ON contents BEGIN
  UPDATE fleet_totals SET ${fleetDelta("new", null)};
END;
CREATE TRIGGER IF NOT EXISTS totals_content_update AFTER UPDATE OF live, stored ON contents
BEGIN
  UPDATE fleet_totals SET ${fleetDelta("new", "old")};
END;
CREATE INDEX IF NOT EXISTS contents_single_host ON contents (file_size DESC, sha256)
  WHERE hosts = 1;
CREATE INDEX IF NOT EXISTS contents_at_risk ON contents (sha256)
  WHERE stored = 0 AND file_size > 0 AND live > 0;
`;

/** After files were removed: the report times a removal left unknown, from the files. */
export const REFRESH_REPORT_TIMES = `UPDATE host_totals SET
  first_report_at = coalesce(first_report_at,
    (SELECT min(created_at) FROM files f WHERE f.hostname = host_totals.hostname)),
  last_report_at = coalesce(last_report_at,
    (SELECT max(updated_at) FROM files f WHERE f.hostname = host_totals.hostname))
  WHERE first_report_at IS NULL OR last_report_at IS NULL`;

/** Creates the totals; a database made before them (version 3 or older) gets them filled. */
export function migrateTotals(db: DatabaseSync): void {
  const existed = db.prepare(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'host_totals'",
  ).get() !== undefined;
  db.exec(TABLES);
  const columns = (table: string) =>
    db.prepare(`PRAGMA table_info(${table})`).all().map((r) => String(r.name));
  if (!columns("contents").includes("hosts")) {
    db.exec(`ALTER TABLE contents ADD COLUMN hosts INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE contents ADD COLUMN stored INTEGER NOT NULL DEFAULT 0;`);
  }
  if (!existed) {
    // Filled before the triggers exist, so that nothing is counted twice.
    db.exec(`
      INSERT INTO host_totals (hostname, files, logical_bytes, first_report_at, last_report_at)
      SELECT hostname, sum(deleted_at IS NULL),
        sum(CASE WHEN deleted_at IS NULL THEN file_size ELSE 0 END),
        min(created_at), max(updated_at)
      FROM files GROUP BY hostname;
      INSERT INTO host_contents (hostname, sha256, live)
      SELECT hostname, sha256, count(*) FROM files WHERE deleted_at IS NULL
      GROUP BY hostname, sha256;
      UPDATE contents SET hosts = g.hosts FROM (
        SELECT sha256, count(*) AS hosts FROM host_contents WHERE live > 0 GROUP BY sha256
      ) g WHERE g.sha256 = contents.sha256;
      UPDATE contents SET stored = 1 WHERE sha256 IN (SELECT digest FROM blobs);
      INSERT INTO fleet_totals (id, digests, unique_bytes, stored_digests, stored_bytes,
        at_risk_files, at_risk_bytes)
      SELECT 1, ${Object.values(share("c")).map((e) => `coalesce(sum(${e}), 0)`).join(", ")}
      FROM contents c;
    `);
  }
  if (!existed) {
    db.exec(`UPDATE host_totals SET digests = g.digests, exclusive_bytes = g.exclusive_bytes
      FROM (SELECT h.hostname, count(*) AS digests,
          sum(CASE WHEN c.hosts = 1 THEN c.file_size ELSE 0 END) AS exclusive_bytes
        FROM host_contents h JOIN contents c ON c.sha256 = h.sha256 WHERE h.live > 0
        GROUP BY h.hostname) g
      WHERE g.hostname = host_totals.hostname`);
  }
  if (!existed) {
    // Version 3 kept contents by triggers of its own; these replace them. A database that
    // is up to date is not written at open (workers of one server open it at once).
    for (const name of ["contents_insert", "contents_update", "contents_delete"]) {
      db.exec(`DROP TRIGGER IF EXISTS ${name}`);
    }
  }
  db.exec(TRIGGERS);
}
