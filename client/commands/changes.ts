/** `ppclient changes --since WHEN`: files added, modified and deleted, per host or fleet-wide. */
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
import { parseWhen } from "../cli/when.ts";
import { changePage } from "../http/query_client.ts";
import type { Command } from "./command.ts";
import { parseLimit } from "./find.ts";
import { sized } from "./hosts.ts";

const HELP = `Usage: ppclient changes --since WHEN [--until WHEN] [--host H] [OPTIONS]

Lists the files added, modified (new content) and deleted since WHEN, oldest first.
WHEN is a duration ago (30m, 24h, 7d) or an ISO date or time (2026-01-31).

Options:
      --since WHEN         start of the window (required)
      --until WHEN         end of the window (default now)
      --host H             only this host
      --limit N            at most N changes
${COMMON_HELP}

${EXIT_HELP}`;

const FLAGS = {
  since: { type: "string" },
  until: { type: "string" },
  host: { type: "string" },
  limit: { type: "string" },
} as const;

export const changesCommand: Command = {
  name: "changes",
  summary: "files added, modified and deleted since a time",
  help: HELP,
  flags: { ...COMMON_FLAGS, ...FLAGS },
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(args, FLAGS);
    if (positionals.length > 0) throw new AppError("invalid_input", "changes takes no arguments");
    if (values.since === undefined) throw new AppError("invalid_input", "Give --since WHEN");
    const now = new Date();
    const params = {
      host: values.host,
      since: parseWhen(values.since, now, "--since").toISOString(),
      until: values.until === undefined
        ? undefined
        : parseWhen(values.until, now, "--until").toISOString(),
    };
    const limit = parseLimit(values.limit);
    return await withQueryClient("changes", values, context, async ({ client, format }) => {
      await writeRows(context.terminal, format, [
        { header: "WHEN", value: (c) => formatTime(c.at) },
        { header: "CHANGE", value: (c) => c.kind },
        { header: "HOST", value: (c) => c.hostname },
        { header: "SIZE", value: (c) => sized(format, c.file_size), right: true },
        { header: "PATH", value: (c) => c.filepath },
      ], client.pages("/v1/changes", params, changePage, limit));
      return EXIT.ok;
    });
  },
};
