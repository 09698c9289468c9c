/**
 * Metadata store on MongoDB (a replica set or sharded cluster in production; FerretDB in
 * tests), shared by several ppserver instances.
 *
 * Collections (the earlier Python system's names by default): files in `file_metadata`,
 * API keys in `api_keys`, the blob index in `blobs`. Indexes are made at open. Opening
 * fails within `serverSelectionTimeoutMs` with one clear message when the server cannot be
 * reached; afterwards the driver reconnects by itself, `ping()` answers `unavailable` while
 * the server is away, and calls made meanwhile fail with `unavailable`.
 *
 * No multi-document transactions are used (see files.ts for how writes stay correct
 * without them); every write is acknowledged with the deployment's write concern, which
 * should be `majority` (MongoDB's default since 5.0) so that an acknowledged write
 * survives the loss of a primary.
 */
import { MongoAuditLog } from "./audit.ts";
import { type Db, MongoClient, MongoParseError } from "mongodb";
import { AppError } from "../../errors.ts";
import type {
  ApiKeyStore,
  AuditLog,
  BlobIndex,
  FileIndex,
  MetadataStore,
  MongoMetadataStoreConfig,
} from "../mod.ts";
import { MongoApiKeyStore } from "./api_keys.ts";
import type { IdDocument } from "./documents.ts";
import { type BlobDocument, MongoBlobIndex } from "./blobs.ts";
import { connectFailureReason, redactUrl, storeFailure } from "./errors.ts";
import { type HostScanDocument, MongoFileIndex } from "./files.ts";
import type { InventoryQueries } from "../inventory.ts";
import { MongoInventoryQueries } from "./queries.ts";
import { API_KEY_INDEXES, ensureIndexes, FILE_INDEXES } from "./indexes.ts";

export const MONGO_DEFAULTS = {
  database: "putplace",
  filesCollection: "file_metadata",
  apiKeysCollection: "api_keys",
  blobsCollection: "blobs",
  hostScansCollection: "host_scans",
  auditCollection: "audit_log",
  serverSelectionTimeoutMs: 10_000,
} as const;

/** Longest a health check waits for an answer. */
const PING_TIMEOUT_MS = 3_000;

export async function openMongoMetadataStore(
  config: MongoMetadataStoreConfig,
): Promise<MetadataStore> {
  const where = `MongoDB at "${redactUrl(config.url)}"`;
  let client: MongoClient;
  try {
    client = new MongoClient(config.url, {
      serverSelectionTimeoutMS: config.serverSelectionTimeoutMs,
      appName: "ppserver",
    });
  } catch (error) {
    const detail = error instanceof MongoParseError ? `: ${error.message}` : "";
    throw new AppError("invalid_input", `Invalid MongoDB URL "${redactUrl(config.url)}"${detail}`, {
      cause: error,
    });
  }
  try {
    await client.connect();
    await client.db(config.database).command({ ping: 1 });
  } catch (error) {
    await client.close().catch(() => {});
    throw new AppError(
      "unavailable",
      `Cannot connect to ${where} (database "${config.database}"): ${
        connectFailureReason(error)
      }; gave up after ${config.serverSelectionTimeoutMs / 1000} s`,
      { cause: error },
    );
  }
  const store = new MongoMetadataStore(client, client.db(config.database), config.filesCollection);
  try {
    await store.ensureIndexes();
  } catch (error) {
    await client.close().catch(() => {});
    if (error instanceof AppError) throw error;
    throw new AppError(
      "unavailable",
      `Cannot create the indexes in ${where} (database "${config.database}"): ${
        connectFailureReason(error)
      }`,
      { cause: error },
    );
  }
  return store;
}

class MongoMetadataStore implements MetadataStore {
  readonly kind = "mongodb";
  readonly files: FileIndex;
  readonly blobs: BlobIndex;
  readonly apiKeys: ApiKeyStore;
  readonly audit: AuditLog;
  readonly inventory: InventoryQueries;
  readonly #client: MongoClient;
  readonly #db: Db;
  readonly #filesCollection: string;

  constructor(client: MongoClient, db: Db, filesCollection: string) {
    this.#client = client;
    this.#db = db;
    this.#filesCollection = filesCollection;
    this.files = new MongoFileIndex(
      db.collection<IdDocument>(filesCollection),
      db.collection<HostScanDocument>(MONGO_DEFAULTS.hostScansCollection),
    );
    this.blobs = new MongoBlobIndex(db.collection<BlobDocument>(MONGO_DEFAULTS.blobsCollection));
    this.inventory = new MongoInventoryQueries(
      db.collection<IdDocument>(filesCollection),
      db.collection<BlobDocument>(MONGO_DEFAULTS.blobsCollection),
      db.collection<HostScanDocument>(MONGO_DEFAULTS.hostScansCollection),
    );
    this.apiKeys = new MongoApiKeyStore(
      db.collection<IdDocument>(MONGO_DEFAULTS.apiKeysCollection),
    );
    this.audit = new MongoAuditLog(db.collection<IdDocument>(MONGO_DEFAULTS.auditCollection));
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.#db.collection(this.#filesCollection), FILE_INDEXES);
    await ensureIndexes(this.#db.collection(MONGO_DEFAULTS.apiKeysCollection), API_KEY_INDEXES);
  }

  async ping(): Promise<void> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), PING_TIMEOUT_MS);
    try {
      await this.#db.command({ ping: 1 }, { signal: abort.signal });
    } catch (error) {
      throw storeFailure(error);
    } finally {
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#client.close();
  }
}
