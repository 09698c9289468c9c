/**
 * Command-line flags: `node:util` parseArgs, with its errors put in ppclient's words (the
 * option named as typed, "did you mean" for a typo, never Node's own text).
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { AppError } from "../../lib/errors.ts";
import { didYouMean } from "./did_you_mean.ts";

/** Parses `args` against `flags`; a bad flag is an `invalid_input` AppError. */
export function parseFlags<T extends ParseArgsOptionsConfig>(args: string[], flags: T) {
  try {
    return parseArgs({ args, options: flags, strict: true, allowPositionals: true });
  } catch (error) {
    if (!(error instanceof TypeError && "code" in error)) throw error;
    throw new AppError("invalid_input", flagProblem(error.message, flags), {
      cause: error,
    });
  }
}

/** Every spelling of the flags: `--name` and `-x`. */
export function flagNames(flags: ParseArgsOptionsConfig): string[] {
  return Object.entries(flags).flatMap(([name, flag]) => [
    `--${name}`,
    ...(flag.short ? [`-${flag.short}`] : []),
  ]);
}

function flagProblem(message: string, flags: ParseArgsOptionsConfig): string {
  const quoted = message.match(/'(-[^']*)'/)?.[1];
  if (/^Unknown option/.test(message) && quoted !== undefined) {
    const typed = quoted.split("=")[0];
    const near = didYouMean(typed, flagNames(flags).filter((f) => f.startsWith("--")));
    return `Unknown option "${typed}"` +
      (near ? `; did you mean "${near}"?` : "");
  }
  const option = message.match(/--([a-z0-9-]+)/)?.[1];
  if (option !== undefined && /argument missing/.test(message)) {
    return `Option "--${option}" needs a value`;
  }
  if (option !== undefined && /does not take an argument/.test(message)) {
    return `Option "--${option}" takes no value`;
  }
  return `Cannot read the options: ${message.split(".")[0]}`;
}
