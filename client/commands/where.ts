/** `ppclient where FILE|DIGEST`: every live location of a content, the epoch file first. */
import { AppError } from "../../lib/errors.ts";
import { type Digest, isDigest } from "../../lib/digest.ts";
import { EXIT } from "../cli/exit_codes.ts";
import { digestOfFile } from "../cli/local_digest.ts";
import {
  COMMON_FLAGS,
  COMMON_HELP,
  EXIT_HELP,
  parseCommandArgs,
  withQueryClient,
} from "../cli/query_command.ts";
import { formatTime, writeRows } from "../cli/table.ts";
import { filePage } from "../http/query_client.ts";
import type { Command } from "./command.ts";
import { sized } from "./hosts.ts";

const HELP = `Usage: ppclient where FILE|DIGEST [OPTIONS]

Lists every live file in the fleet with this content: give a digest, or a local FILE
(hashed here, never uploaded). The epoch file (whose upload stored the content) comes
first. Nothing found is not an error (exit 0, no rows).

Options:
${COMMON_HELP}

${EXIT_HELP}`;

export const whereCommand: Command = {
  name: "where",
  summary: "where else does this content live (FILE or DIGEST)",
  help: HELP,
  flags: COMMON_FLAGS,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(args, {});
    if (positionals.length !== 1) throw new AppError("invalid_input", "Give one FILE or DIGEST");
    const digest = await digestOf(positionals[0]);
    return await withQueryClient("where", values, context, async ({ client, format }) => {
      await writeRows(context.terminal, format, [
        { header: "HOST", value: (f) => f.hostname },
        { header: "SIZE", value: (f) => sized(format, f.file_size), right: true },
        { header: "MODIFIED", value: (f) => formatTime(f.file_mtime) },
        { header: "PATH", value: (f) => f.filepath },
      ], client.pages(client.locationsPath(digest), {}, filePage));
      return EXIT.ok;
    });
  },
};

async function digestOf(argument: string): Promise<Digest> {
  if (isDigest(argument)) return argument;
  try {
    return (await digestOfFile(argument)).digest;
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "no such file" : "cannot read it";
    throw new AppError(
      "invalid_input",
      `"${argument}" is neither a digest (64 lowercase hex) nor a readable file: ${reason}`,
      { cause: error },
    );
  }
}
