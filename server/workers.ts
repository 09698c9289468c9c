/**
 * ppserver on every core: `serve --workers N` runs N worker processes that share the
 * listening port (`SO_REUSEPORT`: the kernel spreads new connections over them), under a
 * supervisor, this process, which serves nothing itself. docs/workers.md says why
 * processes and what keeps the embedded store safe under several writers.
 *
 * The supervisor checks the address is free (and picks the port when it is 0), then
 * starts the workers with the same command line plus the worker environment below. A
 * worker that exits while the supervisor is not stopping is started again (at once the
 * first time, then with a growing delay while it keeps dying). SIGTERM or SIGINT is
 * forwarded to every worker, each drains its own connections, and the supervisor exits
 * once all have.
 */

/** Set in a worker's environment: its number, from 0. */
export const WORKER_ENV = "PUTPLACE_WORKER";
/** Set in a worker's environment: how many workers there are. */
export const WORKERS_ENV = "PUTPLACE_WORKERS_TOTAL";

/** This process's place when it is a worker of a supervisor; null otherwise. */
export function workerIdentity(
  env: Record<string, string | undefined>,
): { index: number; total: number } | null {
  const index = Number(env[WORKER_ENV]);
  const total = Number(env[WORKERS_ENV]);
  if (env[WORKER_ENV] === undefined || !Number.isInteger(index) || !Number.isInteger(total)) {
    return null;
  }
  return { index, total };
}

/** Workers by default: one per core. */
export function defaultWorkers(): number {
  return Math.max(1, navigator.hardwareConcurrency ?? 1);
}

/** Whether this process may start copies of itself (`--allow-run` for its executable). */
export function maySpawnWorkers(): boolean {
  try {
    return Deno.permissions.querySync({ name: "run", command: Deno.execPath() }).state ===
      "granted";
  } catch {
    return false;
  }
}

/**
 * The command line that runs this same program as a worker: `deno run` with the flags a
 * worker needs and the same main module, or the compiled executable itself.
 */
export function workerArgv(serveArgs: string[]): string[] {
  const main = Deno.mainModule;
  // `deno compile` executables run their embedded main module: no `run`, no flags.
  if (main.includes("/deno-compile-")) return ["serve", ...serveArgs];
  return [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
    // Deno.listen({ reusePort }) is still behind this flag.
    "--unstable-net",
    main,
    "serve",
    ...serveArgs,
  ];
}

export interface SupervisorOptions {
  count: number;
  /** The arguments `serve` was given; each worker gets them again. */
  serveArgs: string[];
  /** The port every worker binds (the one picked when the setting was 0). */
  port: number;
  log: (
    level: "info" | "warn" | "error",
    message: string,
    fields?: Record<string, unknown>,
  ) => void;
  /** Resolves when the supervisor is to stop (a signal); workers are sent that signal. */
  stop: Promise<Deno.Signal>;
}

/** `serve` arguments without `--port` (`--port N` or `--port=N`). */
export function withoutPort(args: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--port") i++;
    else if (!args[i].startsWith("--port=")) kept.push(args[i]);
  }
  return kept;
}

/** Delay before starting a worker again that died `failures` times in a row. */
function restartDelayMs(failures: number): number {
  return failures <= 1 ? 0 : Math.min(5_000, 100 * 2 ** (failures - 2));
}

/** A worker that ran this long before dying is healthy again: its failure count resets. */
const HEALTHY_AFTER_MS = 10_000;

/** Runs the workers until `stop`; resolves with the exit code once all of them ended. */
export async function superviseWorkers(options: SupervisorOptions): Promise<number> {
  const { count, log } = options;
  // Every worker binds the one port (picked by the supervisor when the setting was 0).
  const argv = workerArgv([...withoutPort(options.serveArgs), "--port", String(options.port)]);
  let stopping: Deno.Signal | null = null;
  const children: (Deno.ChildProcess | null)[] = Array(count).fill(null);

  const start = (index: number): Deno.ChildProcess =>
    new Deno.Command(Deno.execPath(), {
      args: argv,
      env: {
        [WORKER_ENV]: String(index),
        [WORKERS_ENV]: String(count),
      },
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();

  const keep = async (index: number) => {
    let failures = 0;
    for (;;) {
      const startedAt = performance.now();
      const child = start(index);
      children[index] = child;
      const status = await child.status;
      children[index] = null;
      if (stopping !== null) return;
      if (performance.now() - startedAt > HEALTHY_AFTER_MS) failures = 0;
      failures++;
      const delay = restartDelayMs(failures);
      log("error", "A worker exited; starting it again", {
        worker: index,
        pid: child.pid,
        code: status.code,
        signal: status.signal,
        restart_in_ms: delay,
      });
      if (delay > 0) {
        await Promise.race([new Promise((resolve) => setTimeout(resolve, delay)), options.stop]);
      }
      if (stopping !== null) return;
    }
  };

  const kept = Array.from({ length: count }, (_, index) => keep(index));
  stopping = await options.stop;
  log("info", "Stopping the workers", { signal: stopping, workers: count });
  for (const child of children) {
    try {
      child?.kill(stopping);
    } catch { /* exited meanwhile */ }
  }
  // A worker being started while the signal came ends with the others.
  const ended = await Promise.all(children.map((child) => child?.status));
  await Promise.all(kept);
  const failed = ended.filter((status) => status !== undefined && status.code !== 0);
  if (failed.length > 0) {
    log("warn", "Some workers did not stop cleanly", { workers: failed.length });
  }
  return 0;
}
