/**
 * Starts a real ppserver process, as `deno task dev` would, on a free port with its own
 * data directory, and reads the bootstrap admin key it prints at first start.
 */
import { fileURLToPath } from "node:url";
import { processTree } from "./process_tree.ts";

const MAIN = fileURLToPath(new URL("../../server/main.ts", import.meta.url));

export interface RunningPpserver extends AsyncDisposable {
  url: string;
  adminKey: string;
  dataDir: string;
  process: Deno.ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  /** SIGTERM and wait. */
  stop(): Promise<Deno.CommandStatus>;
  /** SIGKILL (the supervisor and every worker) and wait: a crash. */
  kill(): Promise<Deno.CommandStatus>;
  /** The pids of the worker processes (none with one worker: the process serves itself). */
  workerPids(): number[];
}

export interface PpserverOptions {
  /** Reuse a data directory (its admin key must then be given). */
  dataDir?: string;
  adminKey?: string;
  env?: Record<string, string>;
  args?: string[];
  /**
   * `--workers N` (default 1 here, so that a test states when it wants several; the
   * process tests run their suite with 1 and with 3).
   */
  workers?: number;
  /** A command that runs the server, such as `["prlimit", "--nofile=160:160", "--"]`. */
  launcher?: string[];
  /** Listen on this port (a restart on the port of an earlier run); default any free one. */
  port?: number;
}

export async function startPpserver(options: PpserverOptions = {}): Promise<RunningPpserver> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "ppserver-test-" });
  const launcher = options.launcher ?? [];
  const process = new Deno.Command(launcher[0] ?? Deno.execPath(), {
    args: [
      ...launcher.slice(1),
      ...(launcher.length > 0 ? [Deno.execPath()] : []),
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-run",
      MAIN,
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      String(options.port ?? 0),
      "--data-dir",
      dataDir,
      "--workers",
      String(options.workers ?? 1),
      ...(options.args ?? []),
    ],
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let text = "";
  const ready = Promise.withResolvers<string>();
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      const listening = text.match(/listening on (https?:\/\/\S+)/);
      if (listening) ready.resolve(listening[1]);
    }
  };
  const pumps = Promise.all([pump(process.stdout), pump(process.stderr)]);
  const exited = process.status.then(async (status) => {
    // The pipes may still hold what it printed last: read them to the end first.
    await pumps.catch(() => {});
    ready.reject(new Error(`ppserver exited (${status.code}) before listening:\n${text}`));
    return status;
  });
  const timer = setTimeout(
    () => ready.reject(new Error(`ppserver did not start in 20 s:\n${text}`)),
    20_000,
  );
  let url: string;
  try {
    url = await ready.promise;
  } catch (error) {
    try {
      process.kill("SIGKILL");
    } catch { /* already gone */ }
    await exited;
    await pumps;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const adminKey = options.adminKey ?? text.match(/PUTPLACE_ADMIN_KEY=([0-9a-f]{64})/)?.[1];
  if (!adminKey) throw new Error(`ppserver printed no admin key:\n${text}`);

  let finished: Promise<Deno.CommandStatus> | undefined;
  const end = (signal: Deno.Signal) => {
    if (!finished) {
      try {
        process.kill(signal);
      } catch { /* already gone */ }
      finished = exited.then(async (status) => {
        await pumps;
        return status;
      });
    }
    return finished;
  };
  return {
    url,
    adminKey,
    dataDir,
    process,
    output: () => text,
    stop: () => end("SIGTERM"),
    kill: () => {
      // Workers first: their supervisor would start them again.
      for (const pid of processTree(process.pid).filter((pid) => pid !== process.pid)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }
      return end("SIGKILL");
    },
    workerPids: () => processTree(process.pid).filter((pid) => pid !== process.pid),
    async [Symbol.asyncDispose]() {
      await end("SIGTERM");
      if (ownDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}
