/**
 * Server configuration: environment variables, then an optional `ppserver.toml`, then
 * defaults. The earlier system's variable names (`STORAGE_BACKEND`, `STORAGE_PATH`,
 * `MONGODB_URL`, ...) keep working. The result is validated and frozen; a bad setting
 * stops start-up with one message that names it.
 */
import { join, resolve } from "node:path";
import { homedir } from "node:os";
import { parse as parseToml } from "smol-toml";
import {
  checkFileKeys,
  type FileTable,
  loadSettings,
  type SettingsTable,
  type SettingValues,
} from "../lib/settings/mod.ts";
import { z } from "zod";
import { AppError } from "../lib/errors.ts";
import type { BlobStoreConfig } from "../lib/blob_store/mod.ts";
import type { MetadataStoreConfig } from "../lib/metadata_store/mod.ts";
import type { Limits } from "./limits.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./logger.ts";

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  metadata: MetadataStoreConfig;
  blobs: BlobStoreConfig;
  limits: Limits;
  /** Partial resumable uploads untouched this long are removed. */
  uploadExpirySeconds: number;
  /** Open connections at most; null: derived from the open-files limit at start. */
  maxConnections: number | null;
  /** A request head must arrive within this long of a connection's start or first byte. */
  headersTimeoutSeconds: number;
  /** A connection with no request in flight and no bytes this long is closed. */
  idleTimeoutSeconds: number;
  /** A request body (or a response write) making no progress this long fails. */
  bodyTimeoutSeconds: number;
  /** On SIGTERM or SIGINT, how long requests in flight may take to finish. */
  drainTimeoutSeconds: number;
  /** A separate address serving /metrics without a key; null: only /metrics on the main one. */
  metricsListen: { hostname: string; port: number } | null;
  /** Per API key: requests and request-body bytes a second (null: unlimited). */
  rateLimits: { requestsPerSecond: number | null; bytesPerSecond: number | null };
  /** Worker processes; null: the default (one per core when allowed). */
  workers: number | null;
  /** PEM files: serve HTTPS. */
  tls: { certFile: string; keyFile: string } | null;
  /** Log line format; null: text on a terminal, JSON otherwise. */
  logFormat: LogFormat | null;
  logLevel: LogLevel;
  /** The ppserver.toml that was read, if any. */
  configFile: string | null;
}

/** A whole number written in plain decimal digits, within bounds. */
function wholeNumber(min: number, max: number) {
  return z.string().trim().regex(/^\d+$/, "Expected a whole number in decimal digits")
    .transform(Number).pipe(z.number().int().min(min).max(max));
}
const port = wholeNumber(0, 65535);
const bytes = wholeNumber(1, Number.MAX_SAFE_INTEGER);
const count = wholeNumber(1, 1_000_000);
const seconds = wholeNumber(1, 365 * 24 * 3600);
const text = z.string().trim().min(1);

/** Every setting ppserver reads; `ppserver --help` prints this table. */
export const SETTINGS = {
  host: {
    env: ["PUTPLACE_HOST"],
    file: "server.host",
    schema: text,
    default: "127.0.0.1",
    help: "address to listen on",
  },
  port: {
    env: ["PUTPLACE_PORT", "PORT"],
    file: "server.port",
    schema: port,
    default: 8000,
    help: "port to listen on",
  },
  dataDir: {
    env: ["PUTPLACE_DATA_DIR"],
    file: "server.data_dir",
    schema: text,
    default: "putplace-data",
    defaultText: "./putplace-data",
    help: "data directory",
  },
  metadataStore: {
    env: ["PUTPLACE_METADATA_STORE", "METADATA_BACKEND"],
    file: "database.backend",
    schema: z.enum(["sqlite", "mongodb"]),
    defaultText: "sqlite, or mongodb when a MongoDB URL is set",
    help: "metadata store: sqlite or mongodb",
  },
  sqlitePath: {
    env: ["PUTPLACE_SQLITE_PATH"],
    file: "database.sqlite_path",
    schema: text,
    default: "metadata.sqlite",
    defaultText: "<data dir>/metadata.sqlite",
    help: "SQLite file",
  },
  mongodbUrl: {
    env: ["MONGODB_URL"],
    file: "database.mongodb_url",
    schema: z.string().trim().regex(
      /^mongodb(\+srv)?:\/\//,
      "Expected a mongodb:// or mongodb+srv:// URL",
    ),
    default: "mongodb://localhost:27017",
    help: "MongoDB connection string",
  },
  mongodbDatabase: {
    env: ["MONGODB_DATABASE"],
    file: "database.mongodb_database",
    schema: text,
    default: "putplace",
    help: "MongoDB database",
  },
  mongodbCollection: {
    env: ["MONGODB_COLLECTION"],
    file: "database.mongodb_collection",
    schema: text,
    default: "file_metadata",
    help: "MongoDB collection of files",
  },
  mongodbTimeoutMs: {
    env: ["MONGODB_SERVER_SELECTION_TIMEOUT_MS"],
    file: "database.mongodb_server_selection_timeout_ms",
    schema: wholeNumber(100, 600_000),
    default: 10_000,
    help: "milliseconds to wait for MongoDB before failing start-up or a request",
  },
  blobStore: {
    env: ["STORAGE_BACKEND"],
    file: "storage.backend",
    schema: z.enum(["local", "fs", "s3"]),
    default: "local",
    help: "blob store: local (alias fs) or s3",
  },
  s3Bucket: {
    env: ["S3_BUCKET_NAME"],
    file: "storage.s3_bucket_name",
    schema: text,
    help: "S3 bucket (required for s3)",
  },
  s3Region: {
    env: ["S3_REGION_NAME"],
    file: "storage.s3_region_name",
    schema: text,
    default: "us-east-1",
    help: "S3 region",
  },
  s3Prefix: {
    env: ["S3_PREFIX"],
    file: "storage.s3_prefix",
    schema: z.string().trim(),
    default: "files/",
    help: "key prefix of blobs in the bucket",
  },
  s3Endpoint: {
    env: ["S3_ENDPOINT_URL"],
    file: "storage.s3_endpoint_url",
    schema: z.url({ protocol: /^https?$/ }),
    help: "endpoint URL of an S3-compatible store (MinIO, Ceph, R2, ...)",
  },
  s3ForcePathStyle: {
    env: ["S3_FORCE_PATH_STYLE"],
    file: "storage.s3_force_path_style",
    schema: z.string().trim().toLowerCase().pipe(z.enum(["true", "false", "1", "0", "yes", "no"]))
      .transform((value) => ["true", "1", "yes"].includes(value)),
    default: false,
    help: "path-style S3 URLs, needed by most S3-compatible stores",
  },
  awsProfile: {
    env: ["AWS_PROFILE"],
    file: "aws.profile",
    schema: text,
    defaultText: "the AWS default chain",
    help: "named AWS profile for S3 credentials",
  },
  awsAccessKeyId: {
    env: ["AWS_ACCESS_KEY_ID"],
    file: "aws.access_key_id",
    schema: text,
    help: "AWS access key id for S3 (with AWS_SECRET_ACCESS_KEY)",
  },
  awsSecretAccessKey: {
    env: ["AWS_SECRET_ACCESS_KEY"],
    file: "aws.secret_access_key",
    schema: text,
    help: "AWS secret access key for S3 (with AWS_ACCESS_KEY_ID)",
  },
  awsSessionToken: {
    env: ["AWS_SESSION_TOKEN"],
    file: "aws.session_token",
    schema: text,
    help: "AWS session token, for temporary credentials",
  },
  storagePath: {
    env: ["STORAGE_PATH"],
    file: "storage.path",
    schema: text,
    default: "blobs",
    defaultText: "<data dir>/blobs",
    help: "blob directory for the local store",
  },
  maxJsonBytes: {
    env: ["PUTPLACE_MAX_JSON_BYTES"],
    file: "limits.max_json_bytes",
    schema: bytes,
    default: DEFAULT_LIMITS.maxJsonBytes,
    help: `largest JSON request body`,
  },
  maxUploadBytes: {
    env: ["PUTPLACE_MAX_UPLOAD_BYTES"],
    file: "limits.max_upload_bytes",
    schema: bytes,
    default: DEFAULT_LIMITS.maxUploadBytes,
    help: `largest blob upload`,
  },
  maxBatchFiles: {
    env: ["PUTPLACE_MAX_BATCH_FILES"],
    file: "limits.max_batch_files",
    schema: count,
    default: DEFAULT_LIMITS.maxBatchFiles,
    help: `most files in one batch registration`,
  },
  maxBatchItems: {
    env: ["PUTPLACE_MAX_BATCH_ITEMS"],
    file: "limits.max_batch_items",
    schema: count,
    default: DEFAULT_LIMITS.maxBatchItems,
    help: `most digests in a missing-blob query or paths in a deletion report`,
  },
  maxBatchBytes: {
    env: ["PUTPLACE_MAX_BATCH_BYTES"],
    file: "limits.max_batch_bytes",
    schema: bytes,
    default: DEFAULT_LIMITS.maxBatchBytes,
    help: `largest JSON body of the /v1 batch routes`,
  },
  maxBlobBatchBytes: {
    env: ["PUTPLACE_MAX_BLOB_BATCH_BYTES"],
    file: "limits.max_blob_batch_bytes",
    schema: bytes,
    default: DEFAULT_LIMITS.maxBlobBatchBytes,
    help: `largest small-blob batch request`,
  },
  maxBlobBatchBlobBytes: {
    env: ["PUTPLACE_MAX_BLOB_BATCH_BLOB_BYTES"],
    file: "limits.max_blob_batch_blob_bytes",
    schema: bytes,
    default: DEFAULT_LIMITS.maxBlobBatchBlobBytes,
    help: `largest blob inside a small-blob batch`,
  },
  maxBlobBatchCount: {
    env: ["PUTPLACE_MAX_BLOB_BATCH_COUNT"],
    file: "limits.max_blob_batch_count",
    schema: count,
    default: DEFAULT_LIMITS.maxBlobBatchCount,
    help: `most blobs in one small-blob batch`,
  },
  uploadExpirySeconds: {
    env: ["PUTPLACE_UPLOAD_EXPIRY_SECONDS"],
    file: "limits.upload_expiry_seconds",
    schema: seconds,
    default: 86_400,
    help: "seconds an untouched partial resumable upload is kept",
  },
  maxConnections: {
    env: ["PUTPLACE_MAX_CONNECTIONS"],
    file: "server.max_connections",
    schema: count,
    defaultText: "from the free file descriptors: 128 kept, then 3 a connection, at most 4096",
    help: "most open connections; at the cap the connection idle longest is closed for a new one",
  },
  headersTimeoutSeconds: {
    env: ["PUTPLACE_HEADERS_TIMEOUT_SECONDS"],
    file: "server.headers_timeout_seconds",
    schema: seconds,
    default: 30,
    help: "seconds a request head may take to arrive",
  },
  idleTimeoutSeconds: {
    env: ["PUTPLACE_IDLE_TIMEOUT_SECONDS"],
    file: "server.idle_timeout_seconds",
    schema: seconds,
    default: 60,
    help: "seconds a keep-alive connection may sit idle",
  },
  bodyTimeoutSeconds: {
    env: ["PUTPLACE_BODY_TIMEOUT_SECONDS"],
    file: "server.body_timeout_seconds",
    schema: seconds,
    default: 60,
    help:
      "seconds a request body may pause, or a client may stop reading a response, before the request fails",
  },
  workers: {
    env: ["PUTPLACE_WORKERS"],
    file: "server.workers",
    schema: wholeNumber(1, 1024),
    defaultText: "one per core when ppserver may start processes (--allow-run), else 1",
    help: "worker processes sharing the port (docs/workers.md)",
  },
  drainTimeoutSeconds: {
    env: ["PUTPLACE_DRAIN_TIMEOUT_SECONDS"],
    file: "server.drain_timeout_seconds",
    schema: seconds,
    default: 30,
    help: "on SIGTERM or SIGINT, seconds requests in flight may take to finish",
  },
  metricsListen: {
    env: ["PUTPLACE_METRICS_LISTEN"],
    file: "server.metrics_listen",
    schema: z.string().trim().regex(/^\[?[\w.:-]+\]?:\d{1,5}$/, "Expected HOST:PORT")
      .transform((value) => {
        const at = value.lastIndexOf(":");
        return {
          hostname: value.slice(0, at).replace(/^\[|\]$/g, ""),
          port: Number(value.slice(at + 1)),
        };
      })
      .pipe(z.object({ hostname: z.string().min(1), port: z.number().int().max(65535) })),
    defaultText: "none: /metrics on the main address, for admin keys",
    help: "HOST:PORT serving GET /metrics without a key, for a private network",
  },
  rateLimitRequests: {
    env: ["PUTPLACE_RATE_LIMIT_REQUESTS"],
    file: "limits.rate_limit_requests",
    schema: count,
    defaultText: "unlimited",
    help:
      "requests a second per API key, with bursts of two seconds' worth; over it: 429 and Retry-After",
  },
  rateLimitBytes: {
    env: ["PUTPLACE_RATE_LIMIT_BYTES"],
    file: "limits.rate_limit_bytes",
    schema: bytes,
    defaultText: "unlimited",
    help: "request-body bytes a second per API key; uploads are paced to it",
  },
  tlsCert: {
    env: ["PUTPLACE_TLS_CERT"],
    file: "server.tls_cert",
    schema: text,
    help: "PEM certificate chain file: serve HTTPS (with PUTPLACE_TLS_KEY)",
  },
  tlsKey: {
    env: ["PUTPLACE_TLS_KEY"],
    file: "server.tls_key",
    schema: text,
    help: "PEM private key file of the certificate (with PUTPLACE_TLS_CERT)",
  },
  logFormat: {
    env: ["PUTPLACE_LOG_FORMAT"],
    file: "log.format",
    schema: z.enum(LOG_FORMATS),
    defaultText: "text on a terminal, json otherwise",
    help: "log lines as text or json",
  },
  logLevel: {
    env: ["PUTPLACE_LOG_LEVEL"],
    file: "log.level",
    schema: z.enum(LOG_LEVELS),
    default: "info",
    help: "least level logged: debug, info (one line per request), warn, error",
  },
} satisfies SettingsTable;

type Values = SettingValues<typeof SETTINGS>;

export interface ConfigSources {
  env: Record<string, string | undefined>;
  /** Reads a file's text, or null when it does not exist. */
  readFile: (path: string) => string | null;
  cwd: string;
  home: string;
}

export function configFileCandidates(
  sources: ConfigSources,
): { paths: string[]; explicit: boolean } {
  const explicit = sources.env.PUTPLACE_CONFIG;
  if (explicit) return { paths: [resolve(sources.cwd, explicit)], explicit: true };
  return {
    paths: [
      join(sources.cwd, "ppserver.toml"),
      join(sources.home, ".config", "putplace", "ppserver.toml"),
      "/etc/putplace/ppserver.toml",
    ],
    explicit: false,
  };
}

export function loadConfig(sources: ConfigSources): Readonly<ServerConfig> {
  const { file, table } = readConfigFile(sources);
  const { values, set } = loadSettings(SETTINGS, {
    env: sources.env,
    file: file === null ? null : { path: file, table },
  });
  const dataDir = resolve(sources.cwd, values.dataDir);
  const config: ServerConfig = {
    host: values.host,
    port: values.port,
    dataDir,
    metadata: metadataStoreOf(values, dataDir, set.has("mongodbUrl")),
    blobs: blobStoreOf(values, dataDir),
    limits: {
      maxJsonBytes: values.maxJsonBytes,
      maxUploadBytes: values.maxUploadBytes,
      maxBatchFiles: values.maxBatchFiles,
      maxBatchItems: values.maxBatchItems,
      maxBatchBytes: values.maxBatchBytes,
      maxBlobBatchBytes: values.maxBlobBatchBytes,
      maxBlobBatchBlobBytes: values.maxBlobBatchBlobBytes,
      maxBlobBatchCount: values.maxBlobBatchCount,
    },
    uploadExpirySeconds: values.uploadExpirySeconds,
    maxConnections: values.maxConnections ?? null,
    headersTimeoutSeconds: values.headersTimeoutSeconds,
    idleTimeoutSeconds: values.idleTimeoutSeconds,
    bodyTimeoutSeconds: values.bodyTimeoutSeconds,
    drainTimeoutSeconds: values.drainTimeoutSeconds,
    metricsListen: values.metricsListen ?? null,
    rateLimits: {
      requestsPerSecond: values.rateLimitRequests ?? null,
      bytesPerSecond: values.rateLimitBytes ?? null,
    },
    workers: values.workers ?? null,
    tls: tlsOf(values, sources.cwd),
    logFormat: values.logFormat ?? null,
    logLevel: values.logLevel,
    configFile: file,
  };
  return Object.freeze(config);
}

/**
 * The metadata store: SQLite unless mongodb is chosen, or a MongoDB URL is set without a
 * choice (the earlier system always used MongoDB, so its settings keep meaning MongoDB).
 */
function metadataStoreOf(
  values: Values,
  dataDir: string,
  mongodbUrlSet: boolean,
): MetadataStoreConfig {
  const kind = values.metadataStore ?? (mongodbUrlSet ? "mongodb" : "sqlite");
  if (kind === "sqlite") {
    return { kind, path: resolve(dataDir, values.sqlitePath) };
  }
  return {
    kind,
    url: values.mongodbUrl,
    database: values.mongodbDatabase,
    filesCollection: values.mongodbCollection,
    serverSelectionTimeoutMs: values.mongodbTimeoutMs,
  };
}

function tlsOf(values: Values, cwd: string): ServerConfig["tls"] {
  if ((values.tlsCert === undefined) !== (values.tlsKey === undefined)) {
    throw new AppError(
      "invalid_input",
      "A TLS certificate and its key go together: set both --tls-cert and --tls-key (PUTPLACE_TLS_CERT, PUTPLACE_TLS_KEY) or neither",
    );
  }
  if (values.tlsCert === undefined || values.tlsKey === undefined) return null;
  return { certFile: resolve(cwd, values.tlsCert), keyFile: resolve(cwd, values.tlsKey) };
}

function blobStoreOf(values: Values, dataDir: string): BlobStoreConfig {
  if (values.blobStore !== "s3") {
    return { kind: "fs", root: resolve(dataDir, values.storagePath) };
  }
  if (!values.s3Bucket) {
    throw new AppError(
      "invalid_input",
      "STORAGE_BACKEND=s3 needs a bucket: set S3_BUCKET_NAME (or s3_bucket_name in [storage] of ppserver.toml)",
    );
  }
  if ((values.awsAccessKeyId === undefined) !== (values.awsSecretAccessKey === undefined)) {
    throw new AppError(
      "invalid_input",
      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both or neither",
    );
  }
  return {
    kind: "s3",
    bucket: values.s3Bucket,
    region: values.s3Region,
    prefix: values.s3Prefix,
    endpoint: values.s3Endpoint,
    forcePathStyle: values.s3ForcePathStyle,
    profile: values.awsProfile,
    accessKeyId: values.awsAccessKeyId,
    secretAccessKey: values.awsSecretAccessKey,
    sessionToken: values.awsSessionToken,
  };
}

type Table = FileTable;

function readConfigFile(sources: ConfigSources): { file: string | null; table: Table } {
  const { paths, explicit } = configFileCandidates(sources);
  for (const path of paths) {
    const text = sources.readFile(path);
    if (text === null) continue;
    let table: Table;
    try {
      table = parseToml(text) as Table;
    } catch (error) {
      throw new AppError(
        "invalid_input",
        `Cannot parse config file ${path}: ${(error as Error).message.split("\n")[0]}`,
      );
    }
    checkFileKeys(SETTINGS, { path, table });
    return { file: path, table };
  }
  if (explicit) {
    throw new AppError(
      "invalid_input",
      `Config file ${paths[0]} (from PUTPLACE_CONFIG) does not exist`,
    );
  }
  return { file: null, table: {} };
}

/** The real sources: this process's environment and files. */
export function processSources(): ConfigSources {
  return {
    env: Deno.env.toObject(),
    readFile: (path) => {
      try {
        return Deno.readTextFileSync(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return null;
        throw new AppError(
          "invalid_input",
          `Cannot read config file ${path}: ${(error as Error).name}`,
        );
      }
    },
    cwd: Deno.cwd(),
    home: homedir(),
  };
}
