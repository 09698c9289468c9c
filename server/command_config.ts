/**
 * How every ppserver command finds its settings: the same layers as `serve` (environment,
 * then ppserver.toml, then defaults), with `--data-dir` and `--config` on top, and a guard
 * against creating a new, empty store by mistake (a command run from another directory).
 */
import { AppError } from "../lib/errors.ts";
import { type ConfigSources, loadConfig, processSources, type ServerConfig } from "./config.ts";

/** `parseArgs` options every command takes. */
export const CONFIG_OPTIONS = {
  "data-dir": { type: "string" },
  config: { type: "string" },
} as const;

export const CONFIG_OPTIONS_HELP =
  `  --data-dir DIR       data directory, as for "ppserver serve" (PUTPLACE_DATA_DIR)
  --config FILE        ppserver.toml to read (PUTPLACE_CONFIG)`;

/** This process's sources with `--data-dir` and `--config` applied. */
export function commandSources(
  values: { "data-dir"?: string; config?: string },
  sources: ConfigSources = processSources(),
): ConfigSources {
  if (values["data-dir"]) sources.env.PUTPLACE_DATA_DIR = values["data-dir"];
  if (values.config) sources.env.PUTPLACE_CONFIG = values.config;
  return sources;
}

/** The settings of a command, as `serve` reads them. */
export function commandConfig(values: { "data-dir"?: string; config?: string }): ServerConfig {
  return loadConfig(commandSources(values));
}

/**
 * Refuses to open a SQLite metadata store that does not exist yet unless `init`: opening
 * it would create a new, empty store, which is never what a command other than `serve`
 * run against the wrong directory means. (A MongoDB database cannot be told apart this way.)
 */
export async function requireExistingStore(
  config: ServerConfig,
  command: string,
  init: boolean,
): Promise<void> {
  if (init || config.metadata.kind !== "sqlite") return;
  try {
    await Deno.stat(config.metadata.path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new AppError(
      "invalid_input",
      `No PutPlace store at ${config.metadata.path}: "ppserver ${command}" would create a ` +
        `new, empty one that your server does not use. Point --data-dir or --config at the ` +
        `server's settings, or pass --init to create a new store there.`,
    );
  }
}
