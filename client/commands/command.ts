/** A ppclient subcommand: its help text and what it does (returns the exit code). */
import type { ParseArgsOptionsConfig } from "node:util";
import type { ConfigSources } from "../cli/config.ts";
import type { Terminal } from "../cli/terminal.ts";

export interface CommandContext {
  terminal: Terminal;
  sources: ConfigSources;
  /** Aborted at the first Ctrl-C: stop taking new work, wind down, report. */
  interrupt: AbortSignal;
  /** Replaces the pooled fetch of the API client (tests). */
  fetch?: typeof fetch;
  /** What the command tells `main` for the report of a fatal error. */
  outcome?: CommandOutcome;
}

/**
 * Filled in by a command as it learns it: whether the output is JSON (`--json` from any
 * source), and the partial summary of work stopped by a fatal error. With JSON, `main`
 * prints one object for a fatal error: `{"error": {...}, "summary": {...}}`.
 */
export interface CommandOutcome {
  json: boolean;
  summary: unknown;
}

export interface Command {
  name: string;
  summary: string;
  help: string;
  /** Its flags (for completions and "did you mean"). */
  flags?: ParseArgsOptionsConfig;
  run(args: string[], context: CommandContext): Promise<number>;
}
