/** `ppclient log HOST:PATH`: a file's history: each content it had, when, and its deletion. */
import { AppError } from "../../lib/errors.ts";
import { EXIT } from "../cli/exit_codes.ts";
import {
  COMMON_FLAGS,
  COMMON_HELP,
  EXIT_HELP,
  parseCommandArgs,
  withQueryClient,
} from "../cli/query_command.ts";
import { formatTime, writeRecord, writeRows } from "../cli/table.ts";
import { parseHostPath } from "../cli/when.ts";
import { fileDetailSchema } from "../http/query_client.ts";
import type { Command } from "./command.ts";
import { sized } from "./hosts.ts";

const HELP = `Usage: ppclient log HOST:PATH [OPTIONS]

Shows a file's history, newest first: when it was added, each new content (modified),
each deletion, and each return after a deletion (back). --json prints the
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
  flags: COMMON_FLAGS,
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
      const { file, history, absences } = detail;
      // Each content with the time it became current, oldest first.
      const chronological = [...history].reverse();
      const contents = [...chronological.map((c) => ({ ...c, until: c.replaced_at })), {
        ...file,
        until: null,
      }];
      const restored = new Set(absences.map((a) => a.restored_at));
      const contentAt = (at: string) =>
        contents.find((c) => c.until === null || c.until > at) ?? file;
      const events: Event[] = contents.map((content, index) => {
        const at = index === 0 ? file.created_at : chronological[index - 1].replaced_at;
        return {
          at,
          event: index === 0 ? "added" : restored.has(at) ? "back" : "modified",
          ...pick(content),
        };
      });
      const mark = (at: string, event: string) =>
        events.push({ at, event, ...pick(contentAt(at)) });
      for (const absence of absences) {
        mark(absence.deleted_at, "deleted");
        // Back with the same content: no new content marks it.
        if (!events.some((e) => e.at === absence.restored_at)) mark(absence.restored_at, "back");
      }
      if (detail.deleted_at !== null) mark(detail.deleted_at, "deleted");
      events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
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

function pick(content: { sha256: string; file_size: number; file_mtime: number }) {
  return { sha256: content.sha256, file_size: content.file_size, file_mtime: content.file_mtime };
}
