/**
 * CPU time and peak RSS of a process and all its descendants, from /proc (Linux): a
 * ppserver with several workers is a supervisor and its child processes, and the
 * figures that matter are their sum (CPU) and each one's peak (RSS).
 */

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  cpuSeconds: number;
}

function statOf(pid: number): ProcStat | null {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    const ppid = Number(rest[1]);
    const ticks = Number(rest[11]) + Number(rest[12]);
    return { pid, ppid, cpuSeconds: ticks / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

/** The pid and the pids of all its living descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = statOf(Number(entry.name));
    if (stat === null) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(stat.pid);
    children.set(stat.ppid, list);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * CPU seconds (user + system) used so far by the process and its living descendants
 * (a worker that died and was replaced is not counted: sample while they live).
 */
export function treeCpuSeconds(root: number): number {
  let total = 0;
  for (const pid of processTree(root)) total += statOf(pid)?.cpuSeconds ?? 0;
  return Math.round(total * 100) / 100;
}

/** Peak RSS (VmHWM) of each living process of the tree, in MiB. */
export function treePeakRssMiB(root: number): number[] {
  const peaks: number[] = [];
  for (const pid of processTree(root)) {
    try {
      const match = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^VmHWM:\s+(\d+) kB/m);
      if (match) peaks.push(Math.round(Number(match[1]) / 102.4) / 10);
    } catch { /* gone */ }
  }
  return peaks;
}
