import { join } from "node:path";
import { parseArgs } from "node:util";
import { issueApiKey } from "../../lib/auth.ts";
import { AppError } from "../../lib/errors.ts";
import type { ApiKeyStore } from "../../lib/metadata_store/mod.ts";
import { settingsHelp } from "../../lib/settings/mod.ts";
import { VERSION } from "../../lib/version.ts";
import { createApp } from "../app.ts";
import { loadConfig, processSources, type ServerConfig, SETTINGS } from "../config.ts";
import { defaultMaxConnections, probeFreeDescriptors } from "../connection_guard.ts";
import { startHttpServer } from "../http_server.ts";
import { createRateLimiter } from "../rate_limits.ts";
import { createLogger, type Logger } from "../logger.ts";
import { observeRequest } from "../middleware/observe_request.ts";
import { createServerMetrics, isUploadRoute } from "../metrics.ts";
import { openStores } from "../stores.ts";
import { openResumableUploads, startSweeping } from "../resumable_uploads.ts";
import { defaultWorkers, maySpawnWorkers, superviseWorkers, workerIdentity } from "../workers.ts";
import type { Command } from "./command.ts";

/** Command-line options and the setting each one overrides. */
const FLAGS = {
  host: "PUTPLACE_HOST",
  port: "PUTPLACE_PORT",
  "data-dir": "PUTPLACE_DATA_DIR",
  config: "PUTPLACE_CONFIG",
  "tls-cert": "PUTPLACE_TLS_CERT",
  "tls-key": "PUTPLACE_TLS_KEY",
  "log-format": "PUTPLACE_LOG_FORMAT",
  "log-level": "PUTPLACE_LOG_LEVEL",
  workers: "PUTPLACE_WORKERS",
} as const;

export const serveCommand: Command = {
  name: "serve",
  summary: "run the PutPlace server (the default command)",
  help: `Usage: ppserver serve [--host HOST] [--port PORT] [--data-dir DIR] [OPTIONS]

Runs the PutPlace HTTP server. With no settings it listens on ${SETTINGS.host.default}:${SETTINGS.port.default} and keeps
everything under ${SETTINGS.dataDir.defaultText}: metadata in SQLite, blobs as files.

On the first start with no API keys at all it creates one admin key and prints it once;
make more with "ppserver create-key" or POST /api_keys.

Options (override the settings below):
  --host HOST          address to listen on
  --port PORT          port to listen on (0 picks a free one)
  --data-dir DIR       data directory
  --config FILE        ppserver.toml to read (PUTPLACE_CONFIG)
  --tls-cert FILE      PEM certificate chain: serve HTTPS (with --tls-key)
  --tls-key FILE       PEM private key of the certificate
  --log-format FORMAT  text or json (default: text on a terminal, json otherwise)
  --log-level LEVEL    debug, info (default: one line per request), warn or error
  --workers N          worker processes sharing the port (default: one per core when
                       allowed to start processes, --allow-run; else 1)
  -h, --help           this help

Settings: environment variables, else [section] key in ppserver.toml (found at
$PUTPLACE_CONFIG, ./ppserver.toml, ~/.config/putplace/ppserver.toml or
/etc/putplace/ppserver.toml), else the default.
${settingsHelp(SETTINGS)}

SIGINT or SIGTERM stops accepting connections, lets requests in flight finish (up to the
drain timeout), closes the stores and exits 0. With several workers, a supervisor process
forwards the signal to every worker and starts again a worker that dies (docs/workers.md).`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: Object.fromEntries(
        Object.keys(FLAGS).map((flag) => [flag, { type: "string" as const }]),
      ),
      strict: true,
      allowPositionals: false,
    });
    const sources = processSources();
    for (const [flag, variable] of Object.entries(FLAGS)) {
      const value = values[flag];
      if (typeof value === "string" && value !== "") sources.env[variable] = value;
    }
    const config = loadConfig(sources);
    const logger = createLogger({
      format: config.logFormat ?? (Deno.stderr.isTerminal() ? "text" : "json"),
      level: config.logLevel,
    });
    const tls = config.tls && {
      cert: readPem(config.tls.certFile, "certificate"),
      key: readPem(config.tls.keyFile, "key"),
    };
    const worker = workerIdentity(sources.env);
    if (worker === null) {
      const count = config.workers ?? (maySpawnWorkers() ? defaultWorkers() : 1);
      if (count > 1) return await supervise(config, count, args, logger);
    }
    await using opened = await openStores(config);
    using metrics = createServerMetrics();
    const stores = metrics.countStoreErrors(opened);

    const uploads = await openResumableUploads({
      dir: join(config.dataDir, "uploads"),
      stores,
      expirySeconds: config.uploadExpirySeconds,
      maxUploadBytes: config.limits.maxUploadBytes,
    });
    // With several workers, worker 0 alone sweeps.
    const stopSweeping = worker !== null && worker.index > 0 ? () => {} : startSweeping(
      uploads,
      (error) =>
        logger.log("error", "Sweeping expired uploads failed", {
          error: error instanceof Error ? error.message : String(error),
        }),
    );
    const app = createApp({
      stores,
      limits: config.limits,
      version: VERSION,
      uploads,
      observe: observeRequest({
        isUpload: isUploadRoute,
        uploadsInFlight: metrics.uploadsInFlight,
      }),
      metrics,
      logError: (error, request) => logUnexpected(logger, error, request),
    });
    const maxConnections = config.maxConnections ?? defaultMaxConnections(probeFreeDescriptors());
    const server = startHttpServer({
      hostname: config.host,
      port: config.port,
      reusePort: worker !== null,
      tls: tls ?? undefined,
      limits: {
        maxConnections,
        headersTimeoutMs: config.headersTimeoutSeconds * 1000,
        idleTimeoutMs: config.idleTimeoutSeconds * 1000,
        bodyTimeoutMs: config.bodyTimeoutSeconds * 1000,
      },
      handler: app.fetch,
      rateLimiter: createRateLimiter(config.rateLimits),
      onRequestDone: (record) => {
        logger.request(record);
        metrics.request(record);
      },
      onInFlight: metrics.inFlight,
      log: (level, message, fields) => logger.log(level, message, fields),
    });
    // The metrics address is not shared: with several workers, worker 0 serves it (and its
    // figures are that worker's; scrape /metrics on the main port for the others).
    const servesMetrics = worker === null || worker.index === 0;
    const metricsServer = servesMetrics && config.metricsListen !== null
      ? Deno.serve({ ...config.metricsListen, onListen: () => {} }, async (request) => {
        if (new URL(request.url).pathname !== "/metrics" || request.method !== "GET") {
          return Response.json(
            {
              type: "about:blank",
              title: "Not found",
              status: 404,
              detail: "Only GET /metrics is served here",
            },
            { status: 404, headers: { "content-type": "application/problem+json" } },
          );
        }
        const { contentType, body } = await metrics.render();
        return new Response(body, { headers: { "content-type": contentType } });
      })
      : null;
    if (metricsServer) {
      console.log(
        `PutPlace metrics on http://${metricsServer.addr.hostname}:${metricsServer.addr.port}/metrics`,
      );
    }
    // After binding: a start that fails (say, the port is taken) creates no key. A worker's
    // supervisor made it before starting the workers.
    if (worker === null) await bootstrapAdminKey(stores.metadata.apiKeys);
    console.log(
      `PutPlace ${VERSION}${
        worker === null ? "" : ` worker ${worker.index + 1} of ${worker.total}`
      } listening on ${server.scheme}://${server.addr.hostname}:${server.addr.port} ` +
        `(metadata: ${stores.metadata.kind}, blobs: ${stores.blobs.kind}, data: ${config.dataDir}, ` +
        `at most ${maxConnections} connections)`,
    );
    // The listeners stay while draining, so a second signal does not cut the drain short.
    const stopped = Promise.withResolvers<Deno.Signal>();
    const onSigint = () => stopped.resolve("SIGINT");
    const onSigterm = () => stopped.resolve("SIGTERM");
    Deno.addSignalListener("SIGINT", onSigint);
    Deno.addSignalListener("SIGTERM", onSigterm);
    if (worker !== null) {
      // A worker whose supervisor is gone (killed) is adopted by another parent: it drains
      // and exits rather than keep the port as an orphan.
      const parent = Deno.ppid;
      const watch = setInterval(() => {
        if (Deno.ppid !== parent) stopped.resolve("SIGTERM");
      }, 1000);
      Deno.unrefTimer(watch);
      stopped.promise.then(() => clearInterval(watch));
    }
    const signal = await stopped.promise;
    logger.log("info", "Stopping: no new connections; finishing requests in flight", {
      signal,
      drain_timeout_s: config.drainTimeoutSeconds,
    });
    stopSweeping();
    const finished = await server.drain(config.drainTimeoutSeconds * 1000);
    await metricsServer?.shutdown();
    if (finished) {
      logger.log("info", "Stopped: every request in flight finished");
    } else {
      logger.log("warn", "Stopped: the drain timeout cut requests still in flight", {
        drain_timeout_s: config.drainTimeoutSeconds,
      });
    }
    // The signal listeners stay until the process exits: a second SIGTERM while the stores
    // close must not kill it mid-way.
    return 0;
  },
};

/**
 * The supervisor of `count` workers: migrates the stores and makes the bootstrap key once
 * (before any worker opens them), checks the address is free and picks the port when it
 * is 0, then runs the workers until SIGTERM or SIGINT.
 */
async function supervise(
  config: ServerConfig,
  count: number,
  args: string[],
  logger: Logger,
): Promise<number> {
  if (!maySpawnWorkers()) {
    throw new AppError(
      "invalid_input",
      `${count} workers need permission to start processes (--allow-run); use --workers 1`,
    );
  }
  const probe = Deno.listen({ hostname: config.host, port: config.port });
  const port = probe.addr.port;
  probe.close();
  {
    await using stores = await openStores(config);
    await bootstrapAdminKey(stores.metadata.apiKeys);
  }
  console.log(
    `PutPlace ${VERSION} starting ${count} workers on ${config.tls ? "https" : "http"}://` +
      `${config.host}:${port} (data: ${config.dataDir})`,
  );
  const stopped = Promise.withResolvers<Deno.Signal>();
  Deno.addSignalListener("SIGINT", () => stopped.resolve("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stopped.resolve("SIGTERM"));
  return await superviseWorkers({
    count,
    serveArgs: args,
    port,
    log: (level, message, fields) => logger.log(level, message, fields),
    stop: stopped.promise,
  });
}

function readPem(path: string, what: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new AppError(
      "invalid_input",
      `Cannot read the TLS ${what} file ${path}: ${error instanceof Error ? error.name : "error"}`,
    );
  }
}

function logUnexpected(logger: Logger, error: unknown, request?: Request): void {
  const cause = error instanceof AppError && error.cause !== undefined ? error.cause : error;
  logger.log("error", "Request failed", {
    method: request?.method,
    path: request && new URL(request.url).pathname,
    error: error instanceof Error ? error.message : String(error),
    cause: cause instanceof Error ? (cause.stack ?? cause.message) : String(cause),
  });
}

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
