/**
 * Embedded metadata store on SQLite (`node:sqlite`). WAL journal with
 * `synchronous=NORMAL`: a committed transaction survives a crash of the server
 * process (the WAL is in the OS before `COMMIT` returns); group commit keeps
 * registration fast. `:memory:` gives a private in-memory store for tests.
 */
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { AppError } from "../../errors.ts";
import type { ApiKeyStore, BlobIndex, FileIndex, InventoryQueries, MetadataStore } from "../mod.ts";
import { SqliteApiKeyStore } from "./api_keys.ts";
import { SqliteBlobIndex } from "./blobs.ts";
import { run, storeError } from "./errors.ts";
import { SqliteFileIndex } from "./files.ts";
import { GroupCommit } from "./group_commit.ts";
import { integer } from "./rows.ts";
import { migrate, SCHEMA, SCHEMA_VERSION } from "./schema.ts";
import { Statements, transaction } from "./statements.ts";
import { migrateInventory } from "./inventory_schema.ts";
import { SqliteInventoryQueries } from "./queries.ts";

export async function openSqliteMetadataStore(path: string): Promise<MetadataStore> {
  try {
    if (path !== ":memory:") await Deno.mkdir(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL");
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

class SqliteMetadataStore implements MetadataStore {
  readonly kind = "sqlite";
  readonly files: FileIndex;
  readonly blobs: BlobIndex;
  readonly apiKeys: ApiKeyStore;
  readonly inventory: InventoryQueries;
  #db: DatabaseSync;
  #commits: GroupCommit;

  constructor(db: DatabaseSync) {
    this.#db = db;
    const sql = new Statements(db);
    this.#commits = new GroupCommit(db, storeError);
    this.files = new SqliteFileIndex(db, sql, this.#commits);
    this.blobs = new SqliteBlobIndex(sql);
    this.apiKeys = new SqliteApiKeyStore(sql);
    this.inventory = new SqliteInventoryQueries(db, run);
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
