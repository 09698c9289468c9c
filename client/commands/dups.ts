/** `ppclient dups`: duplicate groups, the most reclaimable bytes first. */
import { EXIT } from "../cli/exit_codes.ts";
import { formatBytes } from "../cli/progress.ts";
import {
  COMMON_FLAGS,
  COMMON_HELP,
  EXIT_HELP,
  parseCommandArgs,
  withQueryClient,
} from "../cli/query_command.ts";
import { writeRows } from "../cli/table.ts";
import { parseSize } from "../cli/when.ts";
import { duplicatePage } from "../http/query_client.ts";
import { AppError } from "../../lib/errors.ts";
import type { Command } from "./command.ts";
import { parseLimit } from "./find.ts";
import { sized } from "./hosts.ts";

const HELP = `Usage: ppclient dups [--host H]... [--min-size N] [--under PATH] [OPTIONS]

Lists groups of files with identical content (two or more live locations), the most
reclaimable bytes (size x (copies - 1)) first, then the totals. "ppclient where DIGEST"
lists the files of a group.

Options:
      --host H             count only files on this host (repeat for several)
      --min-size N         only files of at least N bytes (default 1; units K, M, G)
      --under PATH         count only files under this directory
      --limit N            at most N groups
${COMMON_HELP}

${EXIT_HELP}`;

const FLAGS = {
  host: { type: "string", multiple: true },
  "min-size": { type: "string" },
  under: { type: "string" },
  limit: { type: "string" },
} as const;

export const dupsCommand: Command = {
  name: "dups",
  summary: "list duplicate content, most reclaimable bytes first",
  help: HELP,
  flags: { ...COMMON_FLAGS, ...FLAGS },
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(args, FLAGS);
    if (positionals.length > 0) throw new AppError("invalid_input", "dups takes no arguments");
    const params = {
      host: values.host,
      min_size: values["min-size"] === undefined
        ? undefined
        : parseSize(values["min-size"], "--min-size"),
      path_prefix: values.under,
    };
    const limit = parseLimit(values.limit);
    return await withQueryClient("dups", values, context, async ({ client, format }) => {
      const { terminal } = context;
      await writeRows(terminal, format, [
        { header: "RECLAIMABLE", value: (g) => sized(format, g.reclaimable_bytes), right: true },
        { header: "SIZE", value: (g) => sized(format, g.file_size), right: true },
        { header: "COPIES", value: (g) => g.count, right: true },
        { header: "HOSTS", value: (g) => g.hosts, right: true },
        { header: "DIGEST", value: (g) => g.sha256 },
      ], client.pages("/v1/duplicates", params, duplicatePage, limit));
      if (format === "table") {
        const { totals } = await client.get(
          "/v1/duplicates",
          { ...params, limit: 1 },
          duplicatePage,
        );
        terminal.out(
          `${totals.groups} groups, ${totals.files} files, ${
            formatBytes(totals.reclaimable_bytes)
          } reclaimable\n`,
        );
      }
      return EXIT.ok;
    });
  },
};
