/** A description of the machine a benchmark ran on, recorded with its results. */
import { cpus, totalmem } from "node:os";

export function machineDescription(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const memory = `${Math.round(totalmem() / 1024 ** 3)} GiB`;
  const kernel = Deno.osRelease();
  return `${cpus().length} x ${cpu}, ${memory} RAM, Linux ${kernel}, deno ${Deno.version.deno}`;
}
