/** `ppclient find PATTERN`: files anywhere in the fleet by path. */
import { AppError } from "../../lib/errors.ts";
import { EXIT } from "../cli/exit_codes.ts";
import {
  COMMON_FLAGS,
  COMMON_HELP,
  EXIT_HELP,
  parseCommandArgs,
  withQueryClient,
} from "../cli/query_command.ts";
import { formatTime, writeRows } from "../cli/table.ts";
import { parseSizeRange, parseWhen } from "../cli/when.ts";
import { filePage } from "../http/query_client.ts";
import type { Command } from "./command.ts";
import { sized } from "./hosts.ts";

const HELP =
  `Usage: ppclient find PATTERN [--host H] [--size RANGE] [--changed-since WHEN] [OPTIONS]

Finds live files by path. A PATTERN with *, ? or [ is a glob ("*" stays within a
directory, "**" crosses them; without "/" it matches the file name); any other PATTERN
is a part of the path (case-sensitive).

Options:
      --host H             only files of this host
      --size RANGE         N (exactly), +N (at least), -N (at most) or A..B; units K, M, G
      --changed-since WHEN registered or changed since WHEN: 30m, 24h, 7d or an ISO date
      --limit N            at most N files
${COMMON_HELP}

${EXIT_HELP}`;

const FLAGS = {
  host: { type: "string" },
  size: { type: "string" },
  "changed-since": { type: "string" },
  limit: { type: "string" },
} as const;

export const findCommand: Command = {
  name: "find",
  summary: "find files in the fleet by path substring or glob",
  help: HELP,
  flags: { ...COMMON_FLAGS, ...FLAGS },
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(args, FLAGS);
    if (positionals.length !== 1) throw new AppError("invalid_input", "Give one PATTERN");
    const pattern = positionals[0];
    const size = values.size === undefined ? {} : parseSizeRange(values.size, "--size");
    const since = values["changed-since"] === undefined
      ? undefined
      : parseWhen(values["changed-since"], new Date(), "--changed-since").toISOString();
    const limit = parseLimit(values.limit);
    const params = {
      ...(/[*?[]/.test(pattern) ? { glob: pattern } : { q: pattern }),
      host: values.host,
      min_size: size.min,
      max_size: size.max,
      reported_since: since,
    };
    return await withQueryClient("find", values, context, async ({ client, format }) => {
      await writeRows(context.terminal, format, [
        { header: "HOST", value: (f) => f.hostname },
        { header: "SIZE", value: (f) => sized(format, f.file_size), right: true },
        { header: "MODIFIED", value: (f) => formatTime(f.file_mtime) },
        { header: "PATH", value: (f) => f.filepath },
      ], client.pages("/v1/search", params, filePage, limit));
      return EXIT.ok;
    });
  },
};

/** `--limit N`: a positive whole number, or no limit. */
export function parseLimit(text: string | undefined): number {
  if (text === undefined) return Infinity;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new AppError("invalid_input", `Invalid --limit "${text}": expected a whole number >= 1`);
  }
  return value;
}
