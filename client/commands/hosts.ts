/** `ppclient hosts`: every host with its files, bytes and report times. */
import { formatBytes } from "../cli/progress.ts";
import { hostsPage } from "../http/query_client.ts";
import {
  COMMON_FLAGS,
  COMMON_HELP,
  EXIT_HELP,
  parseCommandArgs,
  withQueryClient,
} from "../cli/query_command.ts";
import { formatTime, writeRows } from "../cli/table.ts";
import { EXIT } from "../cli/exit_codes.ts";
import { AppError } from "../../lib/errors.ts";
import type { Command } from "./command.ts";

const HELP = `Usage: ppclient hosts [OPTIONS]

Lists every host that reported files: live files, logical bytes, distinct contents, the
bytes of the contents no other host holds, and when it first and last reported.

Options:
${COMMON_HELP}

${EXIT_HELP}`;

export const hostsCommand: Command = {
  name: "hosts",
  summary: "list the hosts with their files and bytes",
  help: HELP,
  flags: COMMON_FLAGS,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(args, {});
    if (positionals.length > 0) throw new AppError("invalid_input", "hosts takes no arguments");
    return await withQueryClient("hosts", values, context, async ({ client, format }) => {
      await writeRows(context.terminal, format, [
        { header: "HOST", value: (h) => h.hostname },
        { header: "FILES", value: (h) => h.files, right: true },
        { header: "LOGICAL", value: (h) => sized(format, h.logical_bytes), right: true },
        { header: "CONTENTS", value: (h) => h.distinct_digests, right: true },
        { header: "ONLY HERE", value: (h) => sized(format, h.exclusive_bytes), right: true },
        { header: "FIRST REPORT", value: (h) => formatTime(h.first_report_at) },
        { header: "LAST REPORT", value: (h) => formatTime(h.last_report_at) },
      ], client.pages("/v1/hosts", {}, hostsPage));
      return EXIT.ok;
    });
  },
};

/** Bytes for people in a table, exact in CSV. */
export function sized(format: string, bytes: number): string | number {
  return format === "table" ? formatBytes(bytes) : bytes;
}
