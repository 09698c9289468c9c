import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { AppError } from "../../lib/errors.ts";
import { backup } from "../backup.ts";
import { commandConfig, CONFIG_OPTIONS, CONFIG_OPTIONS_HELP } from "../command_config.ts";
import type { Command } from "./command.ts";

export const backupCommand: Command = {
  name: "backup",
  summary: "copy the metadata (and blobs) to a directory, while the server runs",
  help: `Usage: ppserver backup DEST [--blobs] [--data-dir DIR] [--config FILE]

Writes a consistent copy of the SQLite metadata store and the pack index to the new
directory DEST, while the server keeps running (SQLite VACUUM INTO: one snapshot each,
the metadata first). With --blobs, the blob directory is copied too, after the
snapshots: blobs never change once stored and packs only grow, so every blob the
snapshots name is in the copy. Without --blobs, copy the blob directory yourself after
the backup (rsync -a; see the README). Restore with "ppserver restore DEST".

Options:
  --blobs              copy the blob directory too (fs blob store)
${CONFIG_OPTIONS_HELP}
  -h, --help           this help

MongoDB and S3 deployments are backed up with their own tools (see the README).`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { blobs: { type: "boolean", default: false }, ...CONFIG_OPTIONS },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length !== 1) {
      throw new AppError("invalid_input", "Name one backup directory: ppserver backup DEST");
    }
    const config = commandConfig(values);
    const report = await backup(config, resolve(positionals[0]), { blobs: values.blobs });
    console.log(
      `Backed up ${config.dataDir} to ${report.dest}: metadata` +
        (report.packIndex ? ", pack index" : "") +
        (report.blobFiles === null ? "" : `, ${report.blobFiles} blob files`),
    );
    return 0;
  },
};
