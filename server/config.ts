/**
 * Server configuration: environment variables, then an optional `ppserver.toml`, then
 * defaults. The earlier system's variable names (`STORAGE_BACKEND`, `STORAGE_PATH`,
 * `MONGODB_URL`, ...) keep working. The result is validated and frozen; a bad setting
 * stops start-up with one message that names it.
 */
import { join, resolve } from "node:path";
import { homedir } from "node:os";
import { parse as parseToml } from "smol-toml";
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
  /** PEM files: serve HTTPS. */
  tls: { certFile: string; keyFile: string } | null;
  /** Log line format; null: text on a terminal, JSON otherwise. */
  logFormat: LogFormat | null;
  logLevel: LogLevel;
  /** The ppserver.toml that was read, if any. */
  configFile: string | null;
}

/** One setting: where it is read from and how it is checked. */
interface Setting {
  /** Environment variables, first found wins. */
  env: string[];
  /** `section.key` in ppserver.toml. */
  toml: string;
  schema: z.ZodType;
  help: string;
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
    toml: "server.host",
    schema: text,
    help: "address to listen on (default 127.0.0.1)",
  },
  port: {
    env: ["PUTPLACE_PORT", "PORT"],
    toml: "server.port",
    schema: port,
    help: "port to listen on (default 8000)",
  },
  dataDir: {
    env: ["PUTPLACE_DATA_DIR"],
    toml: "server.data_dir",
    schema: text,
    help: "data directory (default ./putplace-data)",
  },
  metadataStore: {
    env: ["PUTPLACE_METADATA_STORE", "METADATA_BACKEND"],
    toml: "database.backend",
    schema: z.enum(["sqlite", "mongodb"]),
    help: "metadata store: sqlite (default, or mongodb when a MongoDB URL is set) or mongodb",
  },
  sqlitePath: {
    env: ["PUTPLACE_SQLITE_PATH"],
    toml: "database.sqlite_path",
    schema: text,
    help: "SQLite file (default <data dir>/metadata.sqlite)",
  },
  mongodbUrl: {
    env: ["MONGODB_URL"],
    toml: "database.mongodb_url",
    schema: z.string().trim().regex(
      /^mongodb(\+srv)?:\/\//,
      "Expected a mongodb:// or mongodb+srv:// URL",
    ),
    help: "MongoDB connection string (default mongodb://localhost:27017)",
  },
  mongodbDatabase: {
    env: ["MONGODB_DATABASE"],
    toml: "database.mongodb_database",
    schema: text,
    help: "MongoDB database (default putplace)",
  },
  mongodbCollection: {
    env: ["MONGODB_COLLECTION"],
    toml: "database.mongodb_collection",
    schema: text,
    help: "MongoDB collection of files (default file_metadata)",
  },
  mongodbTimeoutMs: {
    env: ["MONGODB_SERVER_SELECTION_TIMEOUT_MS"],
    toml: "database.mongodb_server_selection_timeout_ms",
    schema: wholeNumber(100, 600_000),
    help: "milliseconds to wait for MongoDB before failing start-up or a request (default 10000)",
  },
  blobStore: {
    env: ["STORAGE_BACKEND"],
    toml: "storage.backend",
    schema: z.enum(["local", "fs", "s3"]),
    help: "blob store: local (default; alias fs) or s3",
  },
  s3Bucket: {
    env: ["S3_BUCKET_NAME"],
    toml: "storage.s3_bucket_name",
    schema: text,
    help: "S3 bucket (required for s3)",
  },
  s3Region: {
    env: ["S3_REGION_NAME"],
    toml: "storage.s3_region_name",
    schema: text,
    help: "S3 region (default us-east-1)",
  },
  s3Prefix: {
    env: ["S3_PREFIX"],
    toml: "storage.s3_prefix",
    schema: z.string().trim(),
    help: "key prefix of blobs in the bucket (default files/)",
  },
  s3Endpoint: {
    env: ["S3_ENDPOINT_URL"],
    toml: "storage.s3_endpoint_url",
    schema: z.url({ protocol: /^https?$/ }),
    help: "endpoint URL of an S3-compatible store (MinIO, Ceph, R2, ...)",
  },
  s3ForcePathStyle: {
    env: ["S3_FORCE_PATH_STYLE"],
    toml: "storage.s3_force_path_style",
    schema: z.string().trim().toLowerCase().pipe(z.enum(["true", "false", "1", "0", "yes", "no"]))
      .transform((value) => ["true", "1", "yes"].includes(value)),
    help: "path-style S3 URLs, needed by most S3-compatible stores (default false)",
  },
  awsProfile: {
    env: ["AWS_PROFILE"],
    toml: "aws.profile",
    schema: text,
    help: "named AWS profile for S3 credentials (default: the AWS default chain)",
  },
  awsAccessKeyId: {
    env: ["AWS_ACCESS_KEY_ID"],
    toml: "aws.access_key_id",
    schema: text,
    help: "AWS access key id for S3 (with AWS_SECRET_ACCESS_KEY)",
  },
  awsSecretAccessKey: {
    env: ["AWS_SECRET_ACCESS_KEY"],
    toml: "aws.secret_access_key",
    schema: text,
    help: "AWS secret access key for S3 (with AWS_ACCESS_KEY_ID)",
  },
  awsSessionToken: {
    env: ["AWS_SESSION_TOKEN"],
    toml: "aws.session_token",
    schema: text,
    help: "AWS session token, for temporary credentials",
  },
  storagePath: {
    env: ["STORAGE_PATH"],
    toml: "storage.path",
    schema: text,
    help: "blob directory for the local store (default <data dir>/blobs)",
  },
  maxJsonBytes: {
    env: ["PUTPLACE_MAX_JSON_BYTES"],
    toml: "limits.max_json_bytes",
    schema: bytes,
    help: `largest JSON request body (default ${DEFAULT_LIMITS.maxJsonBytes})`,
  },
  maxUploadBytes: {
    env: ["PUTPLACE_MAX_UPLOAD_BYTES"],
    toml: "limits.max_upload_bytes",
    schema: bytes,
    help: `largest blob upload (default ${DEFAULT_LIMITS.maxUploadBytes})`,
  },
  maxBatchFiles: {
    env: ["PUTPLACE_MAX_BATCH_FILES"],
    toml: "limits.max_batch_files",
    schema: count,
    help: `most files in one batch registration (default ${DEFAULT_LIMITS.maxBatchFiles})`,
  },
  maxBatchItems: {
    env: ["PUTPLACE_MAX_BATCH_ITEMS"],
    toml: "limits.max_batch_items",
    schema: count,
    help:
      `most digests in a missing-blob query or paths in a deletion report (default ${DEFAULT_LIMITS.maxBatchItems})`,
  },
  maxBatchBytes: {
    env: ["PUTPLACE_MAX_BATCH_BYTES"],
    toml: "limits.max_batch_bytes",
    schema: bytes,
    help: `largest JSON body of the /v1 batch routes (default ${DEFAULT_LIMITS.maxBatchBytes})`,
  },
  maxBlobBatchBytes: {
    env: ["PUTPLACE_MAX_BLOB_BATCH_BYTES"],
    toml: "limits.max_blob_batch_bytes",
    schema: bytes,
    help: `largest small-blob batch request (default ${DEFAULT_LIMITS.maxBlobBatchBytes})`,
  },
  maxBlobBatchBlobBytes: {
    env: ["PUTPLACE_MAX_BLOB_BATCH_BLOB_BYTES"],
    toml: "limits.max_blob_batch_blob_bytes",
    schema: bytes,
    help:
      `largest blob inside a small-blob batch (default ${DEFAULT_LIMITS.maxBlobBatchBlobBytes})`,
  },
  maxBlobBatchCount: {
    env: ["PUTPLACE_MAX_BLOB_BATCH_COUNT"],
    toml: "limits.max_blob_batch_count",
    schema: count,
    help: `most blobs in one small-blob batch (default ${DEFAULT_LIMITS.maxBlobBatchCount})`,
  },
  uploadExpirySeconds: {
    env: ["PUTPLACE_UPLOAD_EXPIRY_SECONDS"],
    toml: "limits.upload_expiry_seconds",
    schema: seconds,
    help: "seconds an untouched partial resumable upload is kept (default 86400)",
  },
  maxConnections: {
    env: ["PUTPLACE_MAX_CONNECTIONS"],
    toml: "server.max_connections",
    schema: count,
    help:
      "most open connections; at the cap the connection idle longest is closed for a new one (default: from the open-files limit, (soft limit - 128) / 3, at most 4096)",
  },
  headersTimeoutSeconds: {
    env: ["PUTPLACE_HEADERS_TIMEOUT_SECONDS"],
    toml: "server.headers_timeout_seconds",
    schema: seconds,
    help: "seconds a request head may take to arrive (default 30)",
  },
  idleTimeoutSeconds: {
    env: ["PUTPLACE_IDLE_TIMEOUT_SECONDS"],
    toml: "server.idle_timeout_seconds",
    schema: seconds,
    help: "seconds a keep-alive connection may sit idle (default 60)",
  },
  bodyTimeoutSeconds: {
    env: ["PUTPLACE_BODY_TIMEOUT_SECONDS"],
    toml: "server.body_timeout_seconds",
    schema: seconds,
    help:
      "seconds a request body may pause, or a client may stop reading a response, before the request fails (default 60)",
  },
  drainTimeoutSeconds: {
    env: ["PUTPLACE_DRAIN_TIMEOUT_SECONDS"],
    toml: "server.drain_timeout_seconds",
    schema: seconds,
    help: "on SIGTERM or SIGINT, seconds requests in flight may take to finish (default 30)",
  },
  metricsListen: {
    env: ["PUTPLACE_METRICS_LISTEN"],
    toml: "server.metrics_listen",
    schema: z.string().trim().regex(/^\[?[\w.:-]+\]?:\d{1,5}$/, "Expected HOST:PORT")
      .transform((value) => {
        const at = value.lastIndexOf(":");
        return {
          hostname: value.slice(0, at).replace(/^\[|\]$/g, ""),
          port: Number(value.slice(at + 1)),
        };
      })
      .pipe(z.object({ hostname: z.string().min(1), port: z.number().int().max(65535) })),
    help:
      "HOST:PORT serving GET /metrics without a key, for a private network (default: none; /metrics on the main address needs an admin key)",
  },
  tlsCert: {
    env: ["PUTPLACE_TLS_CERT"],
    toml: "server.tls_cert",
    schema: text,
    help: "PEM certificate chain file: serve HTTPS (with PUTPLACE_TLS_KEY)",
  },
  tlsKey: {
    env: ["PUTPLACE_TLS_KEY"],
    toml: "server.tls_key",
    schema: text,
    help: "PEM private key file of the certificate (with PUTPLACE_TLS_CERT)",
  },
  logFormat: {
    env: ["PUTPLACE_LOG_FORMAT"],
    toml: "log.format",
    schema: z.enum(LOG_FORMATS),
    help: "log lines as text or json (default: text on a terminal, json otherwise)",
  },
  logLevel: {
    env: ["PUTPLACE_LOG_LEVEL"],
    toml: "log.level",
    schema: z.enum(LOG_LEVELS),
    help: "least level logged: debug, info (default; one line per request), warn, error",
  },
} satisfies Record<string, Setting>;

type SettingName = keyof typeof SETTINGS;
type Values = { [K in SettingName]?: z.infer<(typeof SETTINGS)[K]["schema"]> };

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
  const values: Values = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, Setting][]) {
    const fromEnv = setting.env.find((variable) => (sources.env[variable] ?? "") !== "");
    const raw = fromEnv ? sources.env[fromEnv] : lookup(table, setting.toml);
    if (raw === undefined) continue;
    const parsed = setting.schema.safeParse(raw);
    if (!parsed.success) {
      const where = fromEnv
        ? `${fromEnv}=${JSON.stringify(raw)}`
        : `${setting.toml} = ${JSON.stringify(raw)} in ${file}`;
      throw new AppError(
        "invalid_input",
        `Invalid setting ${where}: ${
          parsed.error.issues[0]?.message ?? "invalid"
        } (${setting.help})`,
      );
    }
    (values as Record<string, unknown>)[name] = parsed.data;
  }
  const dataDir = resolve(sources.cwd, values.dataDir ?? "putplace-data");
  const config: ServerConfig = {
    host: values.host ?? "127.0.0.1",
    port: values.port ?? 8000,
    dataDir,
    metadata: metadataStoreOf(values, dataDir),
    blobs: blobStoreOf(values, dataDir),
    limits: {
      maxJsonBytes: values.maxJsonBytes ?? DEFAULT_LIMITS.maxJsonBytes,
      maxUploadBytes: values.maxUploadBytes ?? DEFAULT_LIMITS.maxUploadBytes,
      maxBatchFiles: values.maxBatchFiles ?? DEFAULT_LIMITS.maxBatchFiles,
      maxBatchItems: values.maxBatchItems ?? DEFAULT_LIMITS.maxBatchItems,
      maxBatchBytes: values.maxBatchBytes ?? DEFAULT_LIMITS.maxBatchBytes,
      maxBlobBatchBytes: values.maxBlobBatchBytes ?? DEFAULT_LIMITS.maxBlobBatchBytes,
      maxBlobBatchBlobBytes: values.maxBlobBatchBlobBytes ?? DEFAULT_LIMITS.maxBlobBatchBlobBytes,
      maxBlobBatchCount: values.maxBlobBatchCount ?? DEFAULT_LIMITS.maxBlobBatchCount,
    },
    uploadExpirySeconds: values.uploadExpirySeconds ?? 24 * 3600,
    maxConnections: values.maxConnections ?? null,
    headersTimeoutSeconds: values.headersTimeoutSeconds ?? 30,
    idleTimeoutSeconds: values.idleTimeoutSeconds ?? 60,
    bodyTimeoutSeconds: values.bodyTimeoutSeconds ?? 60,
    drainTimeoutSeconds: values.drainTimeoutSeconds ?? 30,
    metricsListen: values.metricsListen ?? null,
    tls: tlsOf(values, sources.cwd),
    logFormat: values.logFormat ?? null,
    logLevel: values.logLevel ?? "info",
    configFile: file,
  };
  return Object.freeze(config);
}

/**
 * The metadata store: SQLite unless mongodb is chosen, or a MongoDB URL is set without a
 * choice (the earlier system always used MongoDB, so its settings keep meaning MongoDB).
 */
function metadataStoreOf(values: Values, dataDir: string): MetadataStoreConfig {
  const kind = values.metadataStore ?? (values.mongodbUrl ? "mongodb" : "sqlite");
  if (kind === "sqlite") {
    return { kind, path: resolve(dataDir, values.sqlitePath ?? "metadata.sqlite") };
  }
  return {
    kind,
    url: values.mongodbUrl ?? "mongodb://localhost:27017",
    database: values.mongodbDatabase ?? "putplace",
    filesCollection: values.mongodbCollection ?? "file_metadata",
    serverSelectionTimeoutMs: values.mongodbTimeoutMs ?? 10_000,
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
    return { kind: "fs", root: resolve(dataDir, values.storagePath ?? "blobs") };
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
    region: values.s3Region ?? "us-east-1",
    prefix: values.s3Prefix ?? "files/",
    endpoint: values.s3Endpoint,
    forcePathStyle: values.s3ForcePathStyle ?? false,
    profile: values.awsProfile,
    accessKeyId: values.awsAccessKeyId,
    secretAccessKey: values.awsSecretAccessKey,
    sessionToken: values.awsSessionToken,
  };
}

type Table = Record<string, unknown>;

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
    checkKnownKeys(table, path);
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

function checkKnownKeys(table: Table, path: string): void {
  const known = new Set(Object.values(SETTINGS).map((s) => s.toml));
  for (const [section, entries] of Object.entries(table)) {
    if (typeof entries !== "object" || entries === null || Array.isArray(entries)) {
      throw new AppError(
        "invalid_input",
        `Unknown setting "${section}" in ${path}: settings live in sections such as [server]`,
      );
    }
    for (const key of Object.keys(entries)) {
      if (!known.has(`${section}.${key}`)) {
        throw new AppError("invalid_input", `Unknown setting "${section}.${key}" in ${path}`);
      }
    }
  }
}

function lookup(table: Table, dotted: string): unknown {
  const [section, key] = dotted.split(".");
  const entries = table[section];
  if (typeof entries !== "object" || entries === null) return undefined;
  const value = (entries as Table)[key];
  return typeof value === "number" || typeof value === "boolean" ? String(value) : value;
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
