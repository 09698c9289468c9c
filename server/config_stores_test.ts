/** Store selection in the server config: SQLite or MongoDB, filesystem or S3, and their settings. */
import assert from "node:assert/strict";
import { type ConfigSources, loadConfig } from "./config.ts";
import { AppError } from "../lib/errors.ts";

function sources(
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): ConfigSources {
  return { env, readFile: (path) => files[path] ?? null, cwd: "/srv/app", home: "/home/pp" };
}

function assertConfigError(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "invalid_input");
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("PUTPLACE_METADATA_STORE=mongodb selects MongoDB with the earlier system's names by default", () => {
  const config = loadConfig(sources({ PUTPLACE_METADATA_STORE: "mongodb" }));
  assert.deepEqual(config.metadata, {
    kind: "mongodb",
    url: "mongodb://localhost:27017",
    database: "putplace",
    filesCollection: "file_metadata",
    serverSelectionTimeoutMs: 10_000,
  });
});

Deno.test("MongoDB settings come from MONGODB_* variables; METADATA_BACKEND is an alias", () => {
  const config = loadConfig(sources({
    METADATA_BACKEND: "mongodb",
    MONGODB_URL: "mongodb://db1:27017,db2:27017/?replicaSet=rs0",
    MONGODB_DATABASE: "inventory",
    MONGODB_COLLECTION: "files",
    MONGODB_SERVER_SELECTION_TIMEOUT_MS: "2500",
  }));
  assert.deepEqual(config.metadata, {
    kind: "mongodb",
    url: "mongodb://db1:27017,db2:27017/?replicaSet=rs0",
    database: "inventory",
    filesCollection: "files",
    serverSelectionTimeoutMs: 2500,
  });
});

Deno.test("a MONGODB_URL alone (the earlier system's setting) selects MongoDB; an explicit sqlite wins", () => {
  assert.equal(loadConfig(sources({ MONGODB_URL: "mongodb://db:27017" })).metadata.kind, "mongodb");
  assert.equal(
    loadConfig(sources({ MONGODB_URL: "mongodb://db:27017", PUTPLACE_METADATA_STORE: "sqlite" }))
      .metadata.kind,
    "sqlite",
  );
});

Deno.test("a MONGODB_URL that is not a MongoDB URL is an error naming it", () => {
  assertConfigError(
    () => loadConfig(sources({ MONGODB_URL: "postgres://db/x" })),
    /^Invalid setting MONGODB_URL="postgres:\/\/db\/x": Expected a mongodb:\/\/ or mongodb\+srv:\/\/ URL/,
  );
  assertConfigError(
    () => loadConfig(sources({ PUTPLACE_METADATA_STORE: "postgres" })),
    /PUTPLACE_METADATA_STORE/,
  );
});

Deno.test("STORAGE_BACKEND=s3 with S3_* and AWS_* variables gives the S3 blob store", () => {
  const config = loadConfig(sources({
    STORAGE_BACKEND: "s3",
    S3_BUCKET_NAME: "fleet-blobs",
    S3_REGION_NAME: "eu-west-1",
    S3_PREFIX: "putplace/",
    S3_ENDPOINT_URL: "http://minio.internal:9000",
    S3_FORCE_PATH_STYLE: "true",
    AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "secret",
  }));
  assert.deepEqual(config.blobs, {
    kind: "s3",
    bucket: "fleet-blobs",
    region: "eu-west-1",
    prefix: "putplace/",
    endpoint: "http://minio.internal:9000",
    forcePathStyle: true,
    profile: undefined,
    accessKeyId: "AKIAEXAMPLE",
    secretAccessKey: "secret",
    sessionToken: undefined,
  });
});

Deno.test("S3 defaults: region us-east-1, prefix files/, virtual-hosted style, the AWS default chain", () => {
  const config = loadConfig(sources({ STORAGE_BACKEND: "s3", S3_BUCKET_NAME: "b-1" }));
  assert.deepEqual(config.blobs, {
    kind: "s3",
    bucket: "b-1",
    region: "us-east-1",
    prefix: "files/",
    endpoint: undefined,
    forcePathStyle: false,
    profile: undefined,
    accessKeyId: undefined,
    secretAccessKey: undefined,
    sessionToken: undefined,
  });
});

Deno.test("ppserver.toml [database], [storage] and [aws] use the earlier system's keys", () => {
  const toml = `
[database]
mongodb_url = "mongodb+srv://cluster0.example.net"
mongodb_database = "pp"
mongodb_collection = "file_metadata"

[storage]
backend = "s3"
s3_bucket_name = "legacy-bucket"
s3_region_name = "us-west-2"
s3_prefix = "files/"
s3_force_path_style = false

[aws]
profile = "putplace"
`;
  const config = loadConfig(sources({}, { "/srv/app/ppserver.toml": toml }));
  assert.equal(config.metadata.kind, "mongodb");
  assert.equal(config.metadata.kind === "mongodb" && config.metadata.database, "pp");
  assert.deepEqual(config.blobs, {
    kind: "s3",
    bucket: "legacy-bucket",
    region: "us-west-2",
    prefix: "files/",
    endpoint: undefined,
    forcePathStyle: false,
    profile: "putplace",
    accessKeyId: undefined,
    secretAccessKey: undefined,
    sessionToken: undefined,
  });
});

Deno.test("s3 without a bucket is an error naming S3_BUCKET_NAME", () => {
  assertConfigError(
    () => loadConfig(sources({ STORAGE_BACKEND: "s3" })),
    /^STORAGE_BACKEND=s3 needs a bucket: set S3_BUCKET_NAME/,
  );
});

Deno.test("an access key without its secret is an error; keys are ignored unless s3 is selected", () => {
  assertConfigError(
    () =>
      loadConfig(sources({ STORAGE_BACKEND: "s3", S3_BUCKET_NAME: "b-1", AWS_ACCESS_KEY_ID: "A" })),
    /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together/,
  );
  assert.equal(loadConfig(sources({ AWS_ACCESS_KEY_ID: "A" })).blobs.kind, "fs");
});

Deno.test("S3_FORCE_PATH_STYLE takes true/false/yes/no/1/0 and nothing else; S3_ENDPOINT_URL must be http(s)", () => {
  const s3 = { STORAGE_BACKEND: "s3", S3_BUCKET_NAME: "b-1" };
  for (
    const [text, value] of [["yes", true], ["0", false], ["FALSE", false], ["1", true]] as const
  ) {
    const config = loadConfig(sources({ ...s3, S3_FORCE_PATH_STYLE: text }));
    assert.equal(config.blobs.kind === "s3" && config.blobs.forcePathStyle, value, text);
  }
  assertConfigError(
    () => loadConfig(sources({ ...s3, S3_FORCE_PATH_STYLE: "maybe" })),
    /S3_FORCE_PATH_STYLE="maybe"/,
  );
  assertConfigError(
    () => loadConfig(sources({ ...s3, S3_ENDPOINT_URL: "minio:9000" })),
    /S3_ENDPOINT_URL/,
  );
});
