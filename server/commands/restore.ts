import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { AppError } from "../../lib/errors.ts";
import { restore } from "../backup.ts";
import { commandConfig, CONFIG_OPTIONS, CONFIG_OPTIONS_HELP } from "../command_config.ts";
import type { Command } from "./command.ts";

export const restoreCommand: Command = {
  name: "restore",
  summary: "put a backup in place of a new data directory (server stopped)",
  help: `Usage: ppserver restore SOURCE [--data-dir DIR] [--config FILE]

Restores a backup made by "ppserver backup" into the configured data directory, which
must hold no metadata store yet (a restore never overwrites one). The blobs come along
when the backup has them; otherwise put the blob directory back first. Run it with the
server stopped, then start the server.

Options:
${CONFIG_OPTIONS_HELP}
  -h, --help           this help`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { ...CONFIG_OPTIONS },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length !== 1) {
      throw new AppError("invalid_input", "Name the backup to restore: ppserver restore SOURCE");
    }
    const config = commandConfig(values);
    const report = await restore(config, resolve(positionals[0]));
    console.log(
      `Restored ${positionals[0]} into ${config.dataDir}: metadata` +
        (report.packIndex ? ", pack index" : "") +
        (report.blobFiles === null ? "" : `, ${report.blobFiles} blob files`),
    );
    return 0;
  },
};
