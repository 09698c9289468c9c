/** A ppclient subcommand: its help text and what it does (returns the exit code). */
import type { ConfigSources } from "../cli/config.ts";
import type { Terminal } from "../cli/terminal.ts";

export interface CommandContext {
  terminal: Terminal;
  sources: ConfigSources;
  /** Aborted at the first Ctrl-C: stop taking new work, wind down, report. */
  interrupt: AbortSignal;
  /** Replaces the pooled fetch of the API client (tests). */
  fetch?: typeof fetch;
}

export interface Command {
  name: string;
  summary: string;
  help: string;
  run(args: string[], context: CommandContext): Promise<number>;
}
