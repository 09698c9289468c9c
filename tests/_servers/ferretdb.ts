/**
 * A real MongoDB-compatible server for tests: FerretDB with its SQLite backend, installed by
 * `.ci/provision`, each instance on its own free port with its own temp dir.
 */
import { join } from "node:path";
import { missingBinaryReason, provisionedBinary } from "./provisioned_binary.ts";
import {
  launchOnFreePort,
  portAccepts,
  type ServerProcess,
  spawnServer,
  waitUntilReady,
} from "./server_process.ts";

const NOT_INSTALLED = "FerretDB not installed: run .ci/provision (or set FERRETDB_BIN)";

/** `$FERRETDB_BIN`, else the binary `.ci/provision` installed, else null. */
export function ferretdbBinary(): string | null {
  return provisionedBinary("FERRETDB_BIN", "bin/ferretdb");
}

/**
 * Why FerretDB tests are ignored, or undefined to run them. Never ignored on CI (`CI=true`):
 * there a missing binary must fail the test loudly rather than skip it.
 */
export function ferretdbIgnoreReason(): string | undefined {
  return missingBinaryReason(ferretdbBinary(), NOT_INSTALLED);
}

export interface RunningFerretDB extends AsyncDisposable {
  /** mongodb://127.0.0.1:PORT/ */
  url: string;
  port: number;
  /** Temp dir holding the SQLite data (`data/`), FerretDB's state and `ferretdb.log`. */
  dir: string;
  logPath: string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: an outage. */
  kill(): Promise<void>;
  /** Stops it if running, then starts it again on the same port with the same data. */
  restart(): Promise<void>;
}

export async function startFerretDB(): Promise<RunningFerretDB> {
  const binary = ferretdbBinary();
  if (binary === null) throw new Error(NOT_INSTALLED);
  const dir = await Deno.makeTempDir({ prefix: "putplace-ferretdb-" });
  const dataDir = join(dir, "data");
  const logPath = join(dir, "ferretdb.log");

  const launch = async (port: number): Promise<ServerProcess> => {
    const server = await spawnServer(binary, [
      "--handler=sqlite",
      `--sqlite-url=file:${dataDir}/`,
      `--state-dir=${dir}`,
      `--listen-addr=127.0.0.1:${port}`,
      "--debug-addr=-", // no metrics HTTP listener (its default port would clash)
      "--telemetry=disable",
      "--log-level=info",
      "--log-format=text",
    ], logPath);
    try {
      await waitUntilReady({
        name: `FerretDB on port ${port}`,
        server,
        logPath,
        isReady: () => portAccepts(port),
      });
      return server;
    } catch (error) {
      await server.end("SIGKILL");
      throw error;
    }
  };

  let port: number;
  let server: ServerProcess;
  try {
    await Deno.mkdir(dataDir);
    ({ port, launched: server } = await launchOnFreePort(launch));
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }

  return {
    url: `mongodb://127.0.0.1:${port}/`,
    port,
    dir,
    logPath,
    async stop() {
      await server.end("SIGTERM");
    },
    async kill() {
      await server.end("SIGKILL");
    },
    async restart() {
      await server.end("SIGTERM");
      server = await launch(port);
    },
    async [Symbol.asyncDispose]() {
      await server.end("SIGTERM");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
