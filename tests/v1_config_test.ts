/** The /v1 settings: batch caps, small-blob batch caps, upload expiry. */
import assert from "node:assert/strict";
import { type ConfigSources, loadConfig } from "../server/config.ts";
import { DEFAULT_LIMITS } from "../server/limits.ts";
import { AppError } from "../lib/errors.ts";

function sources(env: Record<string, string> = {}, files: Record<string, string> = {}) {
  return {
    env,
    readFile: (path: string) => files[path] ?? null,
    cwd: "/srv/app",
    home: "/home/pp",
  } satisfies ConfigSources;
}

Deno.test("loadConfig() defaults the /v1 limits and a 24 h upload expiry", () => {
  const config = loadConfig(sources());
  assert.deepEqual(config.limits, DEFAULT_LIMITS);
  assert.equal(config.limits.maxBatchFiles, 1000);
  assert.equal(config.limits.maxBatchItems, 10_000);
  assert.equal(config.limits.maxBatchBytes, 4 * 1024 * 1024);
  assert.equal(config.limits.maxBlobBatchBytes, 16 * 1024 * 1024);
  assert.equal(config.limits.maxBlobBatchBlobBytes, 1024 * 1024);
  assert.equal(config.uploadExpirySeconds, 86_400);
});

Deno.test("loadConfig() reads the /v1 limits and upload expiry from the environment", () => {
  const config = loadConfig(sources({
    PUTPLACE_MAX_BATCH_FILES: "250",
    PUTPLACE_MAX_BATCH_ITEMS: "5000",
    PUTPLACE_MAX_BATCH_BYTES: "2097152",
    PUTPLACE_MAX_BLOB_BATCH_BYTES: "8388608",
    PUTPLACE_MAX_BLOB_BATCH_BLOB_BYTES: "65536",
    PUTPLACE_MAX_BLOB_BATCH_COUNT: "100",
    PUTPLACE_UPLOAD_EXPIRY_SECONDS: "3600",
  }));
  assert.deepEqual(config.limits, {
    ...DEFAULT_LIMITS,
    maxBatchFiles: 250,
    maxBatchItems: 5000,
    maxBatchBytes: 2_097_152,
    maxBlobBatchBytes: 8_388_608,
    maxBlobBatchBlobBytes: 65_536,
    maxBlobBatchCount: 100,
  });
  assert.equal(config.uploadExpirySeconds, 3600);
});

Deno.test("loadConfig() reads the /v1 limits from [limits] in ppserver.toml", () => {
  const config = loadConfig(sources({}, {
    "/srv/app/ppserver.toml": "[limits]\nmax_batch_files = 10\nupload_expiry_seconds = 60\n",
  }));
  assert.equal(config.limits.maxBatchFiles, 10);
  assert.equal(config.uploadExpirySeconds, 60);
});

Deno.test("loadConfig() refuses a zero or malformed /v1 limit, naming the variable", () => {
  for (
    const [name, value] of [
      ["PUTPLACE_MAX_BATCH_FILES", "0"],
      ["PUTPLACE_UPLOAD_EXPIRY_SECONDS", "1h"],
      ["PUTPLACE_MAX_BLOB_BATCH_BYTES", "-5"],
    ]
  ) {
    assert.throws(
      () => loadConfig(sources({ [name]: value })),
      (error: unknown) =>
        error instanceof AppError && error.code === "invalid_input" &&
        error.message.includes(name),
    );
  }
});
