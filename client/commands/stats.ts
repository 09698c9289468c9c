/** `ppclient stats [--host H]`: what the fleet (or one host) holds, saves and risks. */
import { AppError } from "../../lib/errors.ts";
import { EXIT } from "../cli/exit_codes.ts";
import {
  COMMON_FLAGS,
  COMMON_HELP,
  EXIT_HELP,
  parseCommandArgs,
  withQueryClient,
} from "../cli/query_command.ts";
import { writeRecord } from "../cli/table.ts";
import { inventoryStatsSchema } from "../http/query_client.ts";
import type { Command } from "./command.ts";
import { sized } from "./hosts.ts";

const HELP = `Usage: ppclient stats [--host H] [OPTIONS]

Totals for the fleet, or one host: files, logical bytes, bytes of the distinct contents,
bytes saved by dedup, contents stored on the server, and files at risk (their content
was never received by the server).

Options:
      --host H             only this host
${COMMON_HELP}

${EXIT_HELP}`;

const FLAGS = { host: { type: "string" } } as const;

export const statsCommand: Command = {
  name: "stats",
  summary: "totals, dedup savings and files at risk, fleet-wide or per host",
  help: HELP,
  flags: { ...COMMON_FLAGS, ...FLAGS },
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(args, FLAGS);
    if (positionals.length > 0) throw new AppError("invalid_input", "stats takes no arguments");
    return await withQueryClient("stats", values, context, async ({ client, format }) => {
      const s = await client.get(
        "/v1/inventory/stats",
        { host: values.host },
        inventoryStatsSchema,
      );
      writeRecord(context.terminal, format, [
        ["scope", s.hostname ?? "fleet"],
        ["hosts", s.hosts],
        ["files", s.files],
        ["distinct contents", s.distinct_digests],
        ["logical bytes", sized(format, s.logical_bytes)],
        ["unique bytes", sized(format, s.unique_bytes)],
        ["saved by dedup", sized(format, s.dedup_saved_bytes)],
        ["stored contents", s.stored_digests],
        ["stored bytes", sized(format, s.stored_bytes)],
        ["files at risk", s.at_risk_files],
        ["bytes at risk", sized(format, s.at_risk_bytes)],
      ], s);
      return EXIT.ok;
    });
  },
};
