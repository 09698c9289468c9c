/** `ppclient log HOST:PATH`: a file's history: each content it had, when, and its deletion. */
import { AppError } from "../../lib/errors.ts";
import { EXIT } from "../cli/exit_codes.ts";
import { COMMON_HELP, EXIT_HELP, parseCommandArgs, withQueryClient } from "../cli/query_command.ts";
import { formatTime, writeRecord, writeRows } from "../cli/table.ts";
import { parseHostPath } from "../cli/when.ts";
import { fileDetailSchema } from "../http/query_client.ts";
import type { Command } from "./command.ts";
import { sized } from "./hosts.ts";

const HELP = `Usage: ppclient log HOST:PATH [OPTIONS]

Shows a file's history, newest first: its deletion (if it is deleted), its current
content, and each earlier content with the time it was replaced. --json prints the
file record with its history as one object.

Options:
${COMMON_HELP}

${EXIT_HELP}`;

interface Event {
  at: string;
  event: string;
  sha256: string;
  file_size: number;
  file_mtime: number;
}

export const logCommand: Command = {
  name: "log",
  summary: "the history of a file (HOST:PATH)",
  help: HELP,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(args, {});
    if (positionals.length !== 1) throw new AppError("invalid_input", "Give one HOST:PATH");
    const { hostname, path } = parseHostPath(positionals[0]);
    return await withQueryClient("log", values, context, async ({ client, format }) => {
      const detail = await client.get(
        client.hostPath(hostname, "file"),
        { path },
        fileDetailSchema,
      );
      if (format === "json") {
        writeRecord(context.terminal, format, [], detail);
        return EXIT.ok;
      }
      const { file, history } = detail;
      // Oldest first, each content with the time it became current.
      const chronological = [...history].reverse();
      const events: Event[] = [];
      chronological.forEach((entry, index) => {
        events.push({
          at: index === 0 ? file.created_at : chronological[index - 1].replaced_at,
          event: index === 0 ? "added" : "modified",
          sha256: entry.sha256,
          file_size: entry.file_size,
          file_mtime: entry.file_mtime,
        });
      });
      events.push({
        at: chronological.at(-1)?.replaced_at ?? file.created_at,
        event: chronological.length === 0 ? "added" : "modified",
        sha256: file.sha256,
        file_size: file.file_size,
        file_mtime: file.file_mtime,
      });
      if (detail.deleted_at !== null) {
        events.push({ ...events.at(-1)!, at: detail.deleted_at, event: "deleted" });
      }
      await writeRows(
        context.terminal,
        format,
        [
          { header: "WHEN", value: (e) => formatTime(e.at) },
          { header: "EVENT", value: (e) => e.event },
          { header: "SIZE", value: (e) => sized(format, e.file_size), right: true },
          { header: "MODIFIED", value: (e) => formatTime(e.file_mtime) },
          { header: "DIGEST", value: (e) => e.sha256 },
        ],
        (async function* () {
          yield* events.reverse();
        })(),
      );
      return EXIT.ok;
    });
  },
};
