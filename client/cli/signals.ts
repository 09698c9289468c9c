/**
 * How ppclient takes signals: SIGINT (Ctrl-C), SIGTERM (systemd stop, kill) and SIGHUP
 * (the terminal went away) all mean "stop taking new work, finish or abandon what is in
 * flight, print the summary", and the exit code tells which one it was (128 + its
 * number). A second signal stops at once, unless it comes within `DEBOUNCE_MS` of the
 * first: `deno task` forwards a Ctrl-C to its child, which the terminal also sent to the
 * child's process group, so one Ctrl-C can arrive twice.
 */
import type { Terminal } from "./terminal.ts";

export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type StopSignal = typeof STOP_SIGNALS[number];

/** 128 + the signal's number, as shells report a process stopped by it. */
export const SIGNAL_EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** A second signal this soon after the first is the same one, delivered twice. */
export const DEBOUNCE_MS = 500;

export interface SignalWatch extends Disposable {
  /** Aborted at the first signal. */
  signal: AbortSignal;
  /** The first signal received, or null. */
  readonly received: StopSignal | null;
}

export function watchSignals(
  terminal: Terminal,
  exit: (code: number) => never = Deno.exit,
  now: () => number = performance.now.bind(performance),
): SignalWatch {
  const controller = new AbortController();
  let received: StopSignal | null = null;
  let at = 0;
  const handlers = STOP_SIGNALS.map((name) => {
    const handler = () => {
      if (received === null) {
        received = name;
        at = now();
        const what = name === "SIGINT" ? "interrupted" : `${name} received`;
        terminal.err(
          `\nppclient: ${what}; finishing the files in flight (a second Ctrl-C or signal ` +
            `stops at once)\n`,
        );
        controller.abort(new DOMException("Interrupted", "AbortError"));
        return;
      }
      if (now() - at < DEBOUNCE_MS) return;
      terminal.err("ppclient: stopped\n");
      exit(SIGNAL_EXIT[received]);
    };
    Deno.addSignalListener(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    [Symbol.dispose]() {
      for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
    },
  };
}
