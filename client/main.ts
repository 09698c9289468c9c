/**
 * ppclient: the PutPlace client. argv -> command -> exit code. The only client file
 * that prints errors, handles signals and exits.
 */
import { resolve } from "node:path";
import { AppError } from "../lib/errors.ts";
import { VERSION } from "../lib/version.ts";
import type { Command, CommandContext, CommandOutcome } from "./commands/command.ts";
import { getCommand } from "./commands/get.ts";
import { scanCommand } from "./commands/scan.ts";
import { hostsCommand } from "./commands/hosts.ts";
import { lsCommand } from "./commands/ls.ts";
import { findCommand } from "./commands/find.ts";
import { dupsCommand } from "./commands/dups.ts";
import { whereCommand } from "./commands/where.ts";
import { logCommand } from "./commands/log.ts";
import { changesCommand } from "./commands/changes.ts";
import { statsCommand } from "./commands/stats.ts";
import { restoreCommand } from "./commands/restore.ts";
import { watchCommand } from "./commands/watch.ts";
import { processSources } from "./cli/config.ts";
import { EXIT, exitCodeOf } from "./cli/exit_codes.ts";
import { SIGNAL_EXIT, watchSignals } from "./cli/signals.ts";
import { processTerminal, type Terminal } from "./cli/terminal.ts";
import { didYouMean } from "./cli/did_you_mean.ts";
import { completionsCommand } from "./commands/completions.ts";

const COMMANDS: Command[] = [
  scanCommand,
  getCommand,
  hostsCommand,
  lsCommand,
  findCommand,
  dupsCommand,
  whereCommand,
  logCommand,
  changesCommand,
  statsCommand,
  restoreCommand,
  watchCommand,
];
COMMANDS.push(completionsCommand(COMMANDS));

const HELP = `ppclient ${VERSION}: the PutPlace client

Usage: ppclient [COMMAND] [PATH...] [OPTIONS]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join("\n")}

With no command, runs "scan": "ppclient --path /srv" is "ppclient scan /srv".
"ppclient scan --help" lists the options, config keys and exit codes.`;

export interface MainOptions {
  /** Defaults to the process's stdout/stderr, environment and config files. */
  context?: Partial<CommandContext>;
}

export async function main(args: string[], options: MainOptions = {}): Promise<number> {
  const terminal = options.context?.terminal ?? processTerminal();
  if (args[0] === "--version" || args[0] === "-V") {
    terminal.out(`${VERSION}\n`);
    return EXIT.ok;
  }
  if (args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    const named = COMMANDS.find((c) => c.name === args[1]);
    terminal.out(`${named ? named.help : `${HELP}\n\n${scanCommand.help}`}\n`);
    return EXIT.ok;
  }
  const named = COMMANDS.find((c) => c.name === args[0]);
  const command = named ?? scanCommand;
  const rest = named ? args.slice(1) : args;
  if (rest.includes("--help") || rest.includes("-h")) {
    terminal.out(`${command.help}\n`);
    return EXIT.ok;
  }
  const outcome: CommandOutcome = { json: rest.includes("--json"), summary: null };
  const sources = options.context?.sources ?? processSources();
  const typo = named ? null : mistypedCommand(args[0], sources.cwd);
  if (typo !== null) {
    return report(
      terminal,
      outcome,
      new AppError(
        "invalid_input",
        `Unknown command "${args[0]}"; did you mean "${typo}"? (A PATH to scan must exist.)`,
      ),
      "--help",
    );
  }

  using signals = options.context?.interrupt === undefined ? watchSignals(terminal) : null;
  try {
    const code = await command.run(rest, {
      terminal,
      sources,
      interrupt: options.context?.interrupt ?? signals?.signal ?? new AbortController().signal,
      fetch: options.context?.fetch,
      outcome,
    });
    const by = signals?.received;
    return code === EXIT.interrupted && by ? SIGNAL_EXIT[by] : code;
  } catch (error) {
    return report(terminal, outcome, error, `${command.name} --help`);
  }
}

/**
 * Prints a fatal error on stderr (with a hint for usage errors) and, with --json, as one
 * object on stdout; answers the exit code.
 */
function report(
  terminal: Terminal,
  outcome: CommandOutcome,
  error: unknown,
  help: string,
): number {
  const known = error instanceof AppError;
  const code = known ? exitCodeOf(error.code) : EXIT.failed;
  const message = known
    ? error.message
    : `unexpected error: ${error instanceof Error ? error.stack : error}`;
  const hint = known && error.code === "invalid_input" ? `\nRun "ppclient ${help}".` : "";
  terminal.err(`ppclient: ${message}${hint}\n`);
  if (outcome.json) {
    terminal.out(`${
      JSON.stringify({
        error: { code: known ? error.code : "internal", message, exit_code: code },
        ...(outcome.summary === null ? {} : { summary: outcome.summary }),
      })
    }\n`);
  }
  return code;
}

/**
 * The command a first argument that names none was probably meant to be: a word close
 * to a command's name that is not a path (scan is the default command, so "ppclient
 * /srv" scans /srv, and an existing file named like a typo is scanned too).
 */
function mistypedCommand(first: string | undefined, cwd: string): string | null {
  if (first === undefined || first.startsWith("-") || first.includes("/")) return null;
  const near = didYouMean(first, COMMANDS.map((c) => c.name));
  if (near === null) return null;
  try {
    Deno.lstatSync(resolve(cwd, first));
    return null;
  } catch {
    return near;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
