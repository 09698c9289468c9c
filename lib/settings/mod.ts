/**
 * Layered settings: each setting is written once, with where it is read from (environment
 * variables, a `section.key` of a TOML file), how it is checked (a zod schema over the text
 * form) and its default; values come from the environment, else the file, else the default,
 * and the help text is generated from the same table. Flags override by writing into the
 * environment layer (`withFlags`), so every layer is checked by the same schema.
 */
import type { z } from "zod";
import { AppError } from "../errors.ts";

export interface Setting<T = unknown> {
  /** Environment variables, first set one wins. */
  env: readonly string[];
  /**
   * `section.key` in the TOML file (the server's); absent where the file has no sections
   * and the key is the setting's name (the client's `key = value` files).
   */
  file?: string;
  /** Checks and converts the text form (TOML numbers and booleans arrive as text). */
  schema: z.ZodType<T>;
  /** The value when nothing sets it; absent when there is none (or it is derived). */
  default?: T;
  /** Shown in help for a derived default instead of a value. */
  defaultText?: string;
  help: string;
}

export type SettingsTable = Record<string, Setting>;

type ValueOf<S> = S extends { schema: z.ZodType<infer V> } ? V : never;

/** Each setting's value: the parsed value, or its default (undefined when it has none). */
export type SettingValues<T extends SettingsTable> = {
  [K in keyof T]: T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

/** A parsed TOML file: sections of keys. */
export type FileTable = Record<string, unknown>;

export interface SettingsSources {
  env: Record<string, string | undefined>;
  /** The settings file, when one was read. */
  file: { path: string; table: FileTable } | null;
}

/**
 * Reads every setting of `table` from the sources; a bad value throws `invalid_input`.
 * `set` names the settings a source gave (a default can mean something else than a value).
 */
export function loadSettings<T extends SettingsTable>(
  table: T,
  sources: SettingsSources,
): { values: SettingValues<T>; set: ReadonlySet<keyof T> } {
  const values: Record<string, unknown> = {};
  const set = new Set<keyof T>();
  for (const [name, setting] of Object.entries(table)) {
    const fromEnv = setting.env.find((variable) => (sources.env[variable] ?? "") !== "");
    const raw = fromEnv
      ? sources.env[fromEnv]
      : setting.file === undefined
      ? undefined
      : fileValue(sources.file?.table, setting.file);
    if (raw === undefined) {
      values[name] = setting.default;
      continue;
    }
    const parsed = setting.schema.safeParse(raw);
    if (!parsed.success) {
      const where = fromEnv
        ? `${fromEnv}=${JSON.stringify(raw)}`
        : `${setting.file} = ${JSON.stringify(raw)} in ${sources.file?.path}`;
      throw new AppError(
        "invalid_input",
        `Invalid setting ${where}: ${parsed.error.issues[0]?.message ?? "invalid"} (${
          helpLine(setting)
        })`,
      );
    }
    values[name] = parsed.data;
    set.add(name);
  }
  return { values: values as SettingValues<T>, set };
}

/** Refuses keys of a settings file that no setting reads (a typo must not pass silently). */
export function checkFileKeys(table: SettingsTable, file: { path: string; table: FileTable }) {
  const known = new Set(Object.values(table).map((s) => s.file).filter((f) => f !== undefined));
  for (const [section, entries] of Object.entries(file.table)) {
    if (typeof entries !== "object" || entries === null || Array.isArray(entries)) {
      throw new AppError(
        "invalid_input",
        `Unknown setting "${section}" in ${file.path}: settings live in sections such as [server]`,
      );
    }
    for (const key of Object.keys(entries)) {
      if (!known.has(`${section}.${key}`)) {
        throw new AppError("invalid_input", `Unknown setting "${section}.${key}" in ${file.path}`);
      }
    }
  }
}

/** One setting's help with its default: `port to listen on (default 8000)`. */
export function helpLine(setting: Setting): string {
  const shown = defaultShown(setting);
  return shown === undefined ? setting.help : `${setting.help} (default ${shown})`;
}

/** How help shows a setting's default: its `defaultText`, else its value; none: undefined. */
export function defaultShown(setting: Setting): string | undefined {
  return setting.defaultText ??
    (setting.default === undefined ? undefined : String(setting.default));
}

/** The help block listing every setting, its variables, its file key and its default. */
export function settingsHelp(table: SettingsTable): string {
  return Object.values(table)
    .map((s) => `  ${s.env.join(", ").padEnd(40)} [${s.file}]\n      ${helpLine(s)}`)
    .join("\n");
}

function fileValue(table: FileTable | undefined, dotted: string): unknown {
  if (!table) return undefined;
  const [section, key] = dotted.split(".");
  const entries = table[section];
  if (typeof entries !== "object" || entries === null) return undefined;
  const value = (entries as Record<string, unknown>)[key];
  return typeof value === "number" || typeof value === "boolean" ? String(value) : value;
}
