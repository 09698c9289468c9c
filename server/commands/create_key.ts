import { parseArgs } from "node:util";
import { issueApiKey } from "../../lib/auth.ts";
import { AppError } from "../../lib/errors.ts";
import { apiKeyCreateSchema } from "../../lib/wire/classic.ts";
import { loadConfig, processSources } from "../config.ts";
import { openStores } from "../stores.ts";
import type { Command } from "./command.ts";

export const createKeyCommand: Command = {
  name: "create-key",
  summary: "create an API key and print it once",
  help:
    `Usage: ppserver create-key --name NAME [--scope admin|write|read] [--description TEXT] [--json]

Creates an API key in the configured metadata store (the server may be running) and
prints it once. Only its SHA-256 is stored: a lost key cannot be shown again, so create
a new one and revoke the old.

Options:
  --name NAME          who or what the key is for (required, 1-100 characters)
  --scope SCOPE        admin (manage keys), write (register and upload; default), read
  --description TEXT   free text kept with the key
  --json               print {"api_key": ..., "_id": ..., ...} instead of the bare key
  -h, --help           this help

The configuration (data directory, metadata store) is read as for "ppserver serve".`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        name: { type: "string" },
        scope: { type: "string", default: "write" },
        description: { type: "string" },
        json: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    const input = apiKeyCreateSchema.safeParse({
      name: values.name,
      scope: values.scope,
      description: values.description,
    });
    if (!input.success) {
      const issue = input.error.issues[0];
      throw new AppError(
        "invalid_input",
        `Invalid --${String(issue?.path[0] ?? "name")}: ${issue?.message}`,
      );
    }
    const config = loadConfig(processSources());
    await using stores = await openStores(config);
    const { key, record } = await issueApiKey(stores.metadata.apiKeys, input.data);
    if (values.json) {
      console.log(
        JSON.stringify({ api_key: key, _id: record.id, name: record.name, scope: record.scope }),
      );
    } else {
      console.log(key);
      console.error(
        `Created ${record.scope} key "${record.name}" (id ${record.id}). It is shown only this once.`,
      );
    }
    return 0;
  },
};
