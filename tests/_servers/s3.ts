/**
 * A real S3 API for tests: moto in server mode, installed by `.ci/provision`, each instance on
 * its own free port (moto keeps everything in memory).
 */
import { join } from "node:path";
import { missingBinaryReason, provisionedBinary } from "./provisioned_binary.ts";
import {
  launchOnFreePort,
  type ServerProcess,
  spawnServer,
  waitUntilReady,
} from "./server_process.ts";

const NOT_INSTALLED = "moto not installed: run .ci/provision (or set MOTO_SERVER_BIN)";

/** `$MOTO_SERVER_BIN`, else the moto_server `.ci/provision` installed, else null. */
export function motoBinary(): string | null {
  return provisionedBinary("MOTO_SERVER_BIN", "venv/bin/moto_server");
}

/**
 * Why S3 tests are ignored, or undefined to run them. Never ignored on CI (`CI=true`): there a
 * missing binary must fail the test loudly rather than skip it.
 */
export function s3IgnoreReason(): string | undefined {
  return missingBinaryReason(motoBinary(), NOT_INSTALLED);
}

export interface RunningS3 extends AsyncDisposable {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  region: "us-east-1";
  accessKeyId: "test";
  secretAccessKey: "test";
  /** Temp dir holding `moto.log`. */
  dir: string;
  logPath: string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
}

/** True when an HTTP GET to `url` gets any response. */
async function answersHttp(url: string): Promise<boolean> {
  try {
    const response = await fetch(url);
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

export async function startS3(): Promise<RunningS3> {
  const binary = motoBinary();
  if (binary === null) throw new Error(NOT_INSTALLED);
  const dir = await Deno.makeTempDir({ prefix: "putplace-moto-" });
  const logPath = join(dir, "moto.log");

  const launch = async (port: number): Promise<ServerProcess> => {
    const server = await spawnServer(binary, ["-H", "127.0.0.1", "-p", String(port)], logPath);
    try {
      await waitUntilReady({
        name: `moto_server on port ${port}`,
        server,
        logPath,
        isReady: () => answersHttp(`http://127.0.0.1:${port}/`),
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
    ({ port, launched: server } = await launchOnFreePort(launch));
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    accessKeyId: "test",
    secretAccessKey: "test",
    dir,
    logPath,
    async stop() {
      await server.end("SIGTERM");
    },
    async [Symbol.asyncDispose]() {
      await server.end("SIGTERM");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
