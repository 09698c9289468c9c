/**
 * Embedded metadata store on SQLite (`node:sqlite`), WAL journal. Every write goes through
 * the group commit, which resolves it only after the WAL is fsynced: an acknowledged write
 * survives a power cut, not only a crash of the process. `:memory:` gives a private
 * in-memory store for tests.
 */
import { SqliteAuditLog } from "./audit.ts";
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { AppError } from "../../errors.ts";
import type {
  ApiKeyStore,
  AuditLog,
  BlobIndex,
  FileIndex,
  InventoryQueries,
  MetadataStore,
} from "../mod.ts";
import { SqliteApiKeyStore } from "./api_keys.ts";
import { SqliteBlobIndex } from "./blobs.ts";
import { run, storeError } from "./errors.ts";
import { SqliteFileIndex } from "./files.ts";
import { GroupCommit } from "./group_commit.ts";
import { walSync } from "./wal_sync.ts";
import { syncDirectory } from "../../sync_directory.ts";
import { integer } from "./rows.ts";
import { migrate, SCHEMA, SCHEMA_VERSION } from "./schema.ts";
import { Statements, transaction } from "./statements.ts";
import { migrateInventory } from "./inventory_schema.ts";
import { migrateTotals } from "./totals_schema.ts";
import { SqliteInventoryQueries } from "./queries.ts";

export async function openSqliteMetadataStore(path: string): Promise<MetadataStore> {
  try {
    if (path !== ":memory:") await Deno.mkdir(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL");
    // NORMAL, and yet every write is durable before it resolves: GroupCommit syncs the WAL
    // after each commit, off the event loop (see group_commit.ts for why not FULL).
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA foreign_keys = ON");
    const version = integer(db.prepare("PRAGMA user_version").get() ?? {}, "user_version");
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
      migrateInventory(db);
      migrateTotals(db);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
    const sync = walSync(path);
    if (path !== ":memory:") {
      // The schema is durable, and so are the directory entries of the database and its WAL.
      await sync();
      await syncDirectory(dirname(path));
    }
    return new SqliteMetadataStore(db, sync);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError(
      "unavailable",
      `Cannot open metadata database "${path}": ${(error as Error).message}`,
      { cause: error },
    );
  }
}

class SqliteMetadataStore implements MetadataStore {
  readonly kind = "sqlite";
  readonly files: FileIndex;
  readonly blobs: BlobIndex;
  readonly apiKeys: ApiKeyStore;
  readonly audit: AuditLog;
  readonly inventory: InventoryQueries;
  #db: DatabaseSync;
  #commits: GroupCommit;

  constructor(db: DatabaseSync, sync: () => Promise<void>) {
    this.#db = db;
    const sql = new Statements(db);
    // Every write goes through the group commit, so every write is durable when it resolves.
    this.#commits = new GroupCommit(db, storeError, sync);
    this.files = new SqliteFileIndex(sql, this.#commits);
    this.blobs = new SqliteBlobIndex(sql, this.#commits);
    this.apiKeys = new SqliteApiKeyStore(sql, this.#commits);
    this.audit = new SqliteAuditLog(sql, this.#commits);
    this.inventory = new SqliteInventoryQueries(db, run);
  }

  ping(): Promise<void> {
    return run(() => {
      this.#db.prepare("SELECT 1").get();
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#db.isOpen) {
      this.#commits.flush();
      await this.#commits.settled();
      this.#db.close();
    }
  }
}
