/** Where the client writes: stdout for results, stderr for progress and problems. */
export interface Terminal {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal: live progress redraws one line there. */
  interactive: boolean;
  /** Width of the terminal, when known (live lines are cut to fit). */
  columns?: () => number;
}

const encoder = new TextEncoder();

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += stream.writeSync(bytes.subarray(offset));
}

export function processTerminal(): Terminal {
  return {
    out: (text) => writeAll(Deno.stdout, text),
    err: (text) => writeAll(Deno.stderr, text),
    interactive: Deno.stderr.isTerminal(),
    columns: () => {
      try {
        return Deno.consoleSize().columns;
      } catch {
        return 0;
      }
    },
  };
}

/** A terminal that keeps what is written (for tests of in-process commands). */
export function capturedTerminal(): Terminal & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    interactive: false,
    stdout: () => out,
    stderr: () => err,
  };
}
