/**
 * Runs a test server as a child process: its stdout and stderr go to a log file (never to the
 * test's output), it is awaited to the end on stop so Deno's sanitizers see no leaked resource,
 * and its readiness is polled with a timeout whose error shows the tail of the log.
 */
import { freePort } from "./free_port.ts";

export interface ServerProcess {
  process: Deno.ChildProcess;
  /** Resolves once the process has exited and all its output is in the log file. */
  finished: Promise<Deno.CommandStatus>;
  /** Sends `signal` unless the process has exited, then waits until finished (SIGKILL after 10 s). */
  end(signal: Deno.Signal): Promise<Deno.CommandStatus>;
}

const STOP_GRACE_MS = 10_000;
const OUTPUT_DRAIN_MS = 1_000;

/** Starts `binary args...`, appending its stdout and stderr to `logPath`. */
export async function spawnServer(
  binary: string,
  args: string[],
  logPath: string,
): Promise<ServerProcess> {
  const log = await Deno.open(logPath, { create: true, append: true });
  let process: Deno.ChildProcess;
  try {
    process = new Deno.Command(binary, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    log.close();
    throw new Error(`cannot start ${binary}: ${error}`);
  }
  const readers = [process.stdout.getReader(), process.stderr.getReader()];
  const copies = readers.map(async (reader) => {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      for (let written = 0; written < value.length;) {
        written += await log.write(value.subarray(written));
      }
    }
  });
  let exited = false;
  const finished = process.status.then(async (status) => {
    exited = true;
    // A grandchild that inherited the pipes could hold them open after the server exits:
    // give the output a moment to drain, then stop reading.
    const drained = Promise.all(copies);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drainTimeout = new Promise((resolve) => timer = setTimeout(resolve, OUTPUT_DRAIN_MS));
    await Promise.race([drained, drainTimeout]);
    clearTimeout(timer);
    await Promise.all(readers.map((reader) => reader.cancel()));
    await drained;
    log.close();
    return status;
  });
  return {
    process,
    finished,
    async end(signal) {
      if (!exited) {
        try {
          process.kill(signal);
        } catch { /* exited meanwhile */ }
      }
      const timer = setTimeout(() => {
        try {
          process.kill("SIGKILL");
        } catch { /* exited meanwhile */ }
      }, STOP_GRACE_MS);
      try {
        return await finished;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The last `lines` lines of a log file. */
export async function logTail(logPath: string, lines = 30): Promise<string> {
  try {
    const text = (await Deno.readTextFile(logPath)).trimEnd();
    return text === "" ? "(the log is empty)" : text.split("\n").slice(-lines).join("\n");
  } catch (error) {
    return `(cannot read the log: ${error})`;
  }
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export async function portAccepts(port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}

export interface ReadinessWait {
  /** Names the server in errors. */
  name: string;
  server: ServerProcess;
  logPath: string;
  isReady: () => Promise<boolean>;
  timeoutMs?: number;
}

/**
 * Polls `isReady` until it is true. Throws, with the log's tail, when the server exits first or
 * the timeout passes; the caller then ends the server.
 */
export async function waitUntilReady(wait: ReadinessWait): Promise<void> {
  const deadline = Date.now() + (wait.timeoutMs ?? 20_000);
  let exitCode: number | undefined;
  wait.server.finished.then((status) => exitCode = status.code);
  while (true) {
    if (exitCode !== undefined) {
      throw new Error(
        `${wait.name} exited with code ${exitCode} before it was ready. Log tail (${wait.logPath}):\n` +
          await logTail(wait.logPath),
      );
    }
    if (await wait.isReady()) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${wait.name} was not ready within ${
          wait.timeoutMs ?? 20_000
        } ms. Log tail (${wait.logPath}):\n` +
          await logTail(wait.logPath),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Runs `launch` on a free port and returns that port with launch's result. Another process may
 * take the port between our probe and the server's bind, so on "address already in use" this
 * tries again with another port (3 tries in all).
 */
export async function launchOnFreePort<T>(
  launch: (port: number) => Promise<T>,
): Promise<{ port: number; launched: T }> {
  for (let attempt = 1;; attempt++) {
    const port = freePort();
    try {
      return { port, launched: await launch(port) };
    } catch (error) {
      const portTaken = /address already in use/i.test(String(error));
      if (!portTaken || attempt === 3) throw error;
    }
  }
}
