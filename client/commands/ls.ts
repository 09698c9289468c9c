/** `ppclient ls HOST:PATH`: a directory of a host as the server knows it. */
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
import { parseHostPath } from "../cli/when.ts";
import { fileDetailSchema, type TreeEntry, treePage } from "../http/query_client.ts";
import type { Command } from "./command.ts";
import { sized } from "./hosts.ts";

const HELP = `Usage: ppclient ls HOST:PATH [OPTIONS]

Lists a directory of a host: sub-directories (with the files and bytes below them)
first, then files, by name. A PATH that is a file lists that file.

Options:
${COMMON_HELP}

${EXIT_HELP}`;

export const lsCommand: Command = {
  name: "ls",
  summary: "list a directory of a host (HOST:PATH)",
  help: HELP,
  flags: COMMON_FLAGS,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(args, {});
    if (positionals.length !== 1) throw new AppError("invalid_input", "Give one HOST:PATH");
    const { hostname, path } = parseHostPath(positionals[0]);
    return await withQueryClient("ls", values, context, async ({ client, format }) => {
      const entries = client.pages(client.hostPath(hostname, "tree"), { path }, treePage);
      const first = await entries.next();
      let rows: AsyncIterable<TreeEntry>;
      if (first.done) {
        // Not a directory with live files: perhaps a file.
        const detail = await client.get(
          client.hostPath(hostname, "file"),
          { path },
          fileDetailSchema,
        )
          .catch((error) => {
            if (error instanceof AppError && error.code === "not_found") {
              throw new AppError("not_found", `Nothing at "${path}" on host "${hostname}"`);
            }
            throw error;
          });
        if (detail.deleted_at !== null) {
          throw new AppError(
            "not_found",
            `"${path}" on host "${hostname}" was deleted at ${detail.deleted_at}`,
          );
        }
        const name = detail.file.filepath.split("/").at(-1) ?? detail.file.filepath;
        rows = (async function* () {
          yield { kind: "file" as const, name, file: detail.file };
        })();
      } else {
        rows = (async function* () {
          yield first.value;
          yield* entries;
        })();
      }
      await writeRows(context.terminal, format, [
        { header: "TYPE", value: (e) => (e.kind === "directory" ? "dir" : "file") },
        {
          header: "SIZE",
          value: (e) => sized(format, e.kind === "directory" ? e.bytes : e.file.file_size),
          right: true,
        },
        { header: "FILES", value: (e) => (e.kind === "directory" ? e.files : 1), right: true },
        {
          header: "MODIFIED",
          value: (e) => (e.kind === "file" ? formatTime(e.file.file_mtime) : ""),
        },
        { header: "NAME", value: (e) => (e.kind === "directory" ? `${e.name}/` : e.name) },
      ], rows);
      return EXIT.ok;
    });
  },
};
