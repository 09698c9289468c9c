import { join } from "node:path";
import { parseArgs } from "node:util";
import { issueApiKey } from "../../lib/auth.ts";
import type { ApiKeyStore } from "../../lib/metadata_store/mod.ts";
import { VERSION } from "../../lib/version.ts";
import { createApp } from "../app.ts";
import { loadConfig, processSources, SETTINGS } from "../config.ts";
import { openStores } from "../stores.ts";
import { openResumableUploads, startSweeping } from "../resumable_uploads.ts";
import type { Command } from "./command.ts";

const settingsHelp = Object.values(SETTINGS)
  .map((s) => `  ${s.env.join(", ").padEnd(40)} [${s.toml}]\n      ${s.help}`)
  .join("\n");

export const serveCommand: Command = {
  name: "serve",
  summary: "run the PutPlace server (the default command)",
  help: `Usage: ppserver serve [--host HOST] [--port PORT] [--data-dir DIR]

Runs the PutPlace HTTP server. With no settings it listens on 127.0.0.1:8000 and keeps
everything under ./putplace-data: metadata in SQLite, blobs as files.

On the first start with no API keys at all it creates one admin key and prints it once;
make more with "ppserver create-key" or POST /api_keys.

Options (override the settings below):
  --host HOST        address to listen on
  --port PORT        port to listen on (0 picks a free one)
  --data-dir DIR     data directory
  -h, --help         this help

Settings: environment variables, else [section] key in ppserver.toml (found at
$PUTPLACE_CONFIG, ./ppserver.toml, ~/.config/putplace/ppserver.toml or
/etc/putplace/ppserver.toml), else the default.
${settingsHelp}

SIGINT or SIGTERM stops taking requests, lets those in flight finish, closes the stores.`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        "data-dir": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    });
    const sources = processSources();
    if (values.host) sources.env.PUTPLACE_HOST = values.host;
    if (values.port) sources.env.PUTPLACE_PORT = values.port;
    if (values["data-dir"]) sources.env.PUTPLACE_DATA_DIR = values["data-dir"];
    const config = loadConfig(sources);
    await using stores = await openStores(config);

    const uploads = await openResumableUploads({
      dir: join(config.dataDir, "uploads"),
      stores,
      expirySeconds: config.uploadExpirySeconds,
      maxUploadBytes: config.limits.maxUploadBytes,
    });
    const stopSweeping = startSweeping(uploads, (error) =>
      console.error(JSON.stringify({
        level: "error",
        time: new Date().toISOString(),
        message: "Sweeping expired uploads failed",
        error: error instanceof Error ? error.message : String(error),
      })));
    const app = createApp({ stores, limits: config.limits, version: VERSION, uploads });
    const stopped = Promise.withResolvers<void>();
    const server = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: () => {},
    }, app.fetch);
    // After binding: a start that fails (say, the port is taken) creates no key.
    await bootstrapAdminKey(stores.metadata.apiKeys);
    console.log(
      `PutPlace ${VERSION} listening on http://${server.addr.hostname}:${server.addr.port} ` +
        `(metadata: ${stores.metadata.kind}, blobs: ${stores.blobs.kind}, data: ${config.dataDir})`,
    );
    const stop = () => stopped.resolve();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    await Promise.race([stopped.promise, server.finished]);
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    console.log("PutPlace stopping: finishing requests in flight");
    stopSweeping();
    await server.shutdown();
    return 0;
  },
};

/** On the first start with no keys at all: one admin key, shown this once. */
async function bootstrapAdminKey(apiKeys: ApiKeyStore): Promise<void> {
  if (await apiKeys.count() > 0) return;
  const { key } = await issueApiKey(apiKeys, {
    name: "bootstrap-admin",
    description: "created at first start",
    scope: "admin",
  });
  console.log(
    `No API keys existed, so an admin key was created. It is shown only this once:\n\n` +
      `  PUTPLACE_ADMIN_KEY=${key}\n\n` +
      `Make more with "ppserver create-key --name NAME [--scope admin|write|read]"\n` +
      `or POST /api_keys with this key.`,
  );
}
