import { parseArgs } from "node:util";
import { issueApiKey } from "../../lib/auth.ts";
import { AppError } from "../../lib/errors.ts";
import { apiKeyCreateSchema } from "../../lib/wire/classic.ts";
import {
  commandConfig,
  CONFIG_OPTIONS,
  CONFIG_OPTIONS_HELP,
  requireExistingStore,
} from "../command_config.ts";
import { openStores } from "../stores.ts";
import type { Command } from "./command.ts";

export const createKeyCommand: Command = {
  name: "create-key",
  summary: "create an API key and print it once",
  help: `Usage: ppserver create-key --name NAME [--scope admin|write|read] [--description TEXT]
                           [--host PATTERN]... [--json] [--data-dir DIR] [--config FILE] [--init]

Creates an API key in the configured metadata store (the server may be running) and
prints it once. Only its SHA-256 is stored: a lost key cannot be shown again, so create
a new one and revoke the old.

Options:
  --name NAME          who or what the key is for (required, 1-100 characters)
  --scope SCOPE        admin (manage keys), write (register and upload; default), read
  --description TEXT   free text kept with the key
  --host PATTERN       limit a write key to this host name or glob (* and ?); repeat for
                       more hosts. Without it the key may write files of any host
  --json               print {"api_key": ..., "_id": ..., ...} instead of the bare key
${CONFIG_OPTIONS_HELP}
  --init               create a new store if there is none (else that is refused)
  -h, --help           this help

The settings (data directory, metadata store) are read as for "ppserver serve". Run
from another directory, without --data-dir or --config, this would make a new empty
store and a key the server never sees: so a missing SQLite store is refused unless
--init is given.`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        name: { type: "string" },
        scope: { type: "string", default: "write" },
        description: { type: "string" },
        host: { type: "string", multiple: true },
        json: { type: "boolean", default: false },
        init: { type: "boolean", default: false },
        ...CONFIG_OPTIONS,
      },
      strict: true,
      allowPositionals: false,
    });
    const input = apiKeyCreateSchema.safeParse({
      name: values.name,
      scope: values.scope,
      description: values.description,
      hosts: values.host,
    });
    if (!input.success) {
      const issue = input.error.issues[0];
      const field = String(issue?.path[0] ?? "name");
      throw new AppError(
        "invalid_input",
        `Invalid --${field === "hosts" ? "host" : field}: ${issue?.message}`,
      );
    }
    const config = commandConfig(values);
    await requireExistingStore(config, "create-key", values.init);
    await using stores = await openStores(config);
    const { key, record } = await issueApiKey(stores.metadata.apiKeys, input.data);
    if (values.json) {
      console.log(
        JSON.stringify({
          api_key: key,
          _id: record.id,
          name: record.name,
          scope: record.scope,
          hosts: record.hosts,
        }),
      );
    } else {
      console.log(key);
      const hosts = record.hosts ? ` for hosts ${record.hosts.join(", ")}` : "";
      console.error(
        `Created ${record.scope} key "${record.name}"${hosts} (id ${record.id}). ` +
          "It is shown only this once.",
      );
    }
    return 0;
  },
};
