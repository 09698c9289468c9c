/**
 * What the read commands (`hosts`, `ls`, `find`, `dups`, `where`, `log`, `changes`,
 * `stats`, `restore`) share: their common flags, settings from flags, environment and
 * config files as for `scan`, and one connection to the server's /v1 read routes.
 */
import type { ParseArgsOptionsConfig } from "node:util";
import { AppError } from "../../lib/errors.ts";
import { QueryClient } from "../http/query_client.ts";
import type { CommandContext } from "../commands/command.ts";
import { parseFlags } from "./args.ts";
import { type ClientConfig, loadConfig } from "./config.ts";
import { connect } from "./connect.ts";
import { EXIT } from "./exit_codes.ts";
import { type OutputFormat, outputFormat } from "./table.ts";

export const COMMON_FLAGS = {
  url: { type: "string" },
  "api-key": { type: "string", short: "k" },
  retries: { type: "string" },
  config: { type: "string", short: "c" },
  json: { type: "boolean" },
  csv: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsOptionsConfig;

export const COMMON_HELP =
  `      --json               one JSON object per line (lists) or one object
      --csv                CSV with a header row
      --url URL            server base URL
  -k, --api-key KEY        API key (or PUTPLACE_API_KEY): scope read or admin
      --retries N          retries on network errors, 5xx and 429
  -c, --config FILE        read only this config file (it must exist)
  -h, --help               this help`;

export const EXIT_HELP = `Exit codes: 0 done; 1 failed (not found, server unreachable); 2 usage or
configuration error; 3 authentication refused (a write-only key cannot read); 130
interrupted.`;

/** Parses argv with the common flags and the command's own. */
export function parseCommandArgs<T extends ParseArgsOptionsConfig>(args: string[], own: T) {
  return parseFlags(args, { ...COMMON_FLAGS, ...own });
}

export interface QuerySession {
  client: QueryClient;
  config: ClientConfig;
  format: OutputFormat;
}

/** Connects with the settings of the common flags, runs `body`, answers its exit code. */
export async function withQueryClient(
  command: string,
  values: {
    url?: string;
    "api-key"?: string;
    retries?: string;
    config?: string;
    json?: boolean;
    csv?: boolean;
    quiet?: boolean;
    verbose?: boolean;
  },
  context: CommandContext,
  body: (session: QuerySession) => Promise<number>,
  extra: { jobs?: string } = {},
): Promise<number> {
  if (values.json && values.csv) {
    throw new AppError("invalid_input", "Give --json or --csv, not both");
  }
  const config = loadConfig(
    {
      url: values.url,
      "api-key": values["api-key"],
      retries: values.retries,
      quiet: values.quiet,
      verbose: values.verbose,
      config: values.config,
      jobs: extra.jobs,
    },
    [],
    context.sources,
  );
  const { terminal, interrupt } = context;
  try {
    using server = await connect({
      config,
      scope: "read",
      command,
      fetch: context.fetch,
      signal: interrupt,
      notice: (line) => {
        if (!config.quiet) terminal.err(`ppclient: ${line}\n`);
      },
      onRetry: (e) => {
        if (config.verbose) {
          terminal.err(
            `ppclient: retry ${e.retry} of ${e.request} in ${e.delayMs} ms: ${e.reason}\n`,
          );
        }
      },
    });
    if (server.v1 === null || !server.v1.has("inventory.queries")) {
      throw new AppError(
        "unavailable",
        `The server at "${config.url}" does not answer inventory queries (it needs /v1 with inventory.queries)`,
      );
    }
    return await body({
      client: new QueryClient(server.transport, interrupt),
      config,
      format: outputFormat(values),
    });
  } catch (error) {
    if (!interrupt.aborted) throw error;
    terminal.err("ppclient: interrupted\n");
    return EXIT.interrupted;
  }
}
