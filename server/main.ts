/**
 * ppserver: the PutPlace server. The only server file that reads the environment,
 * opens stores, listens and handles signals (through its commands).
 */
import { AppError } from "../lib/errors.ts";
import { VERSION } from "../lib/version.ts";
import type { Command } from "./commands/command.ts";
import { serveCommand } from "./commands/serve.ts";
import { createKeyCommand } from "./commands/create_key.ts";
import { backupCommand } from "./commands/backup.ts";
import { restoreCommand } from "./commands/restore.ts";

const COMMANDS: Command[] = [serveCommand, createKeyCommand, backupCommand, restoreCommand];

const HELP = `ppserver ${VERSION}: the PutPlace server

Usage: ppserver [COMMAND] [OPTIONS]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join("\n")}

With no command, runs "serve". "ppserver COMMAND --help" explains a command.`;

export async function main(args: string[]): Promise<number> {
  if (args[0] === "--version" || args[0] === "-V") {
    console.log(VERSION);
    return 0;
  }
  if (args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    console.log(HELP);
    return 0;
  }
  const named = args[0] !== undefined && !args[0].startsWith("-");
  const command = named ? COMMANDS.find((c) => c.name === args[0]) : serveCommand;
  if (!command) {
    console.error(`ppserver: unknown command "${args[0]}"\n\n${HELP}`);
    return 2;
  }
  const rest = named ? args.slice(1) : args;
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (
      error instanceof TypeError && "code" in error &&
      String(error.code).startsWith("ERR_PARSE_ARGS")
    ) {
      console.error(
        `ppserver ${command.name}: ${error.message}\nRun "ppserver ${command.name} --help".`,
      );
      return 2;
    }
    if (error instanceof Deno.errors.AddrInUse) {
      console.error(`ppserver ${command.name}: cannot listen: the address is already in use`);
      return 1;
    }
    if (error instanceof AppError) {
      console.error(`ppserver ${command.name}: ${error.message}`);
      return error.code === "invalid_input" ? 2 : 1;
    }
    console.error(`ppserver ${command.name}: unexpected error`, error);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
