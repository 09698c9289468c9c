/**
 * System-call traces for tests that prove a durability order (fsync before an answer):
 * power loss cannot be simulated here (no device-mapper `flakey` target in this kernel), so
 * these tests run a real process under `strace -f -y` and read the order of its calls.
 */

/** Why strace cannot be used here, or false when it can. */
export async function straceIgnoreReason(): Promise<string | false> {
  try {
    const { success } = await new Deno.Command("strace", { args: ["-V"], stdout: "null" })
      .output();
    return success ? false : "strace does not run here";
  } catch {
    return "strace is not installed (Debian package strace)";
  }
}

/** One completed system call of a trace. */
export interface Call {
  name: string;
  /** The path of its file-descriptor argument (strace -y), or of its first string argument. */
  path: string;
  /** The call's text from its name on, with its string arguments. */
  text: string;
}

/** Reads `strace -f -y` output in completion order: an unfinished call counts where it resumes. */
export function parseTrace(trace: string): Call[] {
  const calls: Call[] = [];
  const pending = new Map<string, Call>();
  for (const line of trace.split("\n")) {
    const match = line.match(/^(\d+)\s+(.*)$/);
    if (!match) continue;
    const [, pid, rest] = match;
    if (/^<\.\.\. \w+ resumed>/.test(rest)) {
      const call = pending.get(pid);
      pending.delete(pid);
      if (call && !/ = -1 /.test(rest)) calls.push(call);
      continue;
    }
    const start = rest.match(/^(\w+)\((?:\d+<([^>]*)>|(?:AT_FDCWD, )?"([^"]*)")/);
    if (!start) continue;
    const call = { name: start[1], path: start[2] ?? start[3], text: rest };
    if (rest.endsWith("<unfinished ...>")) pending.set(pid, call);
    else if (!/ = -1 /.test(rest)) calls.push(call);
  }
  return calls;
}

export function isSync(call: Call): boolean {
  return call.name === "fsync" || call.name === "fdatasync";
}
