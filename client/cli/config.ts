/**
 * Client configuration: command-line flags, then environment variables, then config
 * files, then defaults. Everything is checked by one zod schema; a bad or unknown
 * setting is an `invalid_input` AppError that names the setting and where it came from.
 *
 * Config files: `~/ppclient.conf`, then `./ppclient.conf` (the later wins), or only the
 * file given with `--config` (which must exist). `exclude` values add up across all
 * sources; `path` values from a file are used only when the command line names no path.
 */
import { homedir } from "node:os";
import { resolve } from "node:path";
import { z } from "zod";
import { AppError, short } from "../../lib/errors.ts";
import { defaultShown, type Setting, type SettingsTable } from "../../lib/settings/mod.ts";
import { parseDuration } from "../http/outage.ts";
import { parseFlags } from "./args.ts";
import { parseConfigFile } from "./config_file.ts";
import { primaryIpAddress, systemHostname } from "./host_identity.ts";

export interface ClientConfig {
  /** Absolute or relative paths to scan, as given. */
  paths: string[];
  exclude: string[];
  /** Server base URL without a trailing slash (a classic `.../put_file` URL is trimmed). */
  url: string;
  apiKey: string | null;
  hostname: string;
  ip: string;
  dryRun: boolean;
  verbose: boolean;
  quiet: boolean;
  json: boolean;
  /** Files in flight at once. */
  jobs: number;
  /** Retries of a request after the first attempt (network errors, 5xx, 429). */
  retries: number;
  /** How long an unreachable server is waited for, all work paused, before giving up. */
  retryForMs: number;
  followSymlinks: boolean;
  oneFileSystem: boolean;
  /** Directory of the per-host scan caches (one SQLite file per server URL and host name). */
  cacheDir: string;
  /** Ignore the cache: read and send every file again (the cache is still refreshed). */
  full: boolean;
  /** The config files that were read, in order. */
  configFiles: string[];
}

export const DEFAULT_URL = "http://localhost:8000";

/** The command-line flags of a scan, for `node:util` parseArgs. */
export const SCAN_FLAGS = {
  path: { type: "string", short: "p", multiple: true },
  exclude: { type: "string", short: "e", multiple: true },
  url: { type: "string" },
  "api-key": { type: "string", short: "k" },
  hostname: { type: "string" },
  ip: { type: "string" },
  "dry-run": { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  quiet: { type: "boolean", short: "q" },
  json: { type: "boolean" },
  jobs: { type: "string", short: "j" },
  retries: { type: "string" },
  "retry-for": { type: "string" },
  "follow-symlinks": { type: "boolean" },
  "one-file-system": { type: "boolean" },
  cache: { type: "string" },
  full: { type: "boolean" },
  config: { type: "string", short: "c" },
  help: { type: "boolean", short: "h" },
} as const;

type Raw = string | boolean;

const bool = z.union([z.boolean(), z.stringbool()]);
const text = z.string().trim().min(1);
const list = z.array(text);

/**
 * Every client setting, written once: its environment variables, how its text form is
 * checked, its default and its help. The key is also the flag name and the `ppclient.conf`
 * key. A default is in the text form a flag would give (it passes the same schema); a
 * derived one (`defaultText`) is computed in `DERIVED`.
 */
const SETTINGS = {
  url: {
    env: ["PUTPLACE_URL"],
    schema: z.string().trim().transform((value, ctx) => {
      const base = baseUrlOf(value);
      if (base === null) {
        ctx.addIssue({ code: "custom", message: "Expected an http:// or https:// URL" });
        return z.NEVER;
      }
      if (/\/v1$/.test(base)) {
        ctx.addIssue({
          code: "custom",
          message: `"${short(value, 200)}" ends in /v1: give the server's base URL, ` +
            `"${base.slice(0, -3)}" (ppclient finds /v1 itself)`,
        });
        return z.NEVER;
      }
      return base;
    }),
    default: DEFAULT_URL,
    help: "server base URL or classic .../put_file URL",
  },
  "api-key": {
    env: ["PUTPLACE_API_KEY"],
    schema: text.nullable(),
    default: null,
    defaultText: "none",
    help: "API key sent as X-API-Key",
  },
  hostname: {
    env: [],
    schema: text.max(255),
    defaultText: "the system's",
    help: "host name reported with each file",
  },
  ip: {
    env: [],
    schema: z.string().trim().max(64),
    defaultText: "the first non-loopback IPv4",
    help: "IP address reported with each file",
  },
  path: {
    env: [],
    schema: list,
    default: [],
    defaultText: "none",
    help: "path to scan (repeatable; used when none is given)",
  },
  exclude: {
    env: [],
    schema: list,
    default: [],
    defaultText: "none",
    help: "exclude pattern (repeatable; adds up across sources)",
  },
  "dry-run": { env: [], schema: bool, default: false, help: "hash and count, send nothing" },
  verbose: { env: [], schema: bool, default: false, help: "one line per file" },
  quiet: {
    env: [],
    schema: bool,
    default: false,
    help: "no progress and no summary; problems still go to stderr",
  },
  json: { env: [], schema: bool, default: false, help: "summary as JSON on stdout" },
  jobs: {
    env: ["PPCLIENT_JOBS"],
    schema: z.coerce.number().int().min(1).max(256),
    defaultText: "from the core count",
    help: "files in flight",
  },
  retries: {
    env: [],
    schema: z.coerce.number().int().min(0).max(20),
    default: "4",
    help: "retries per request on 500 and 429 answers",
  },
  "retry-for": {
    env: ["PPCLIENT_RETRY_FOR"],
    schema: z.string().trim().transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === null || ms > 7 * 24 * 3_600_000) {
        ctx.addIssue({ code: "custom", message: "Expected a duration such as 90s, 5m or 1h" });
        return z.NEVER;
      }
      return ms;
    }),
    default: "5m",
    help: "how long to wait out an unreachable server, e.g. 90s, 5m, 1h",
  },
  "follow-symlinks": {
    env: [],
    schema: bool,
    default: false,
    help: "follow symbolic links (loops are detected)",
  },
  "one-file-system": {
    env: [],
    schema: bool,
    default: false,
    help: "do not cross into other file systems",
  },
  cache: {
    env: ["PPCLIENT_CACHE"],
    schema: text,
    defaultText: "$XDG_CACHE_HOME/putplace or ~/.cache/putplace",
    help: "scan cache directory",
  },
  full: {
    env: [],
    schema: bool,
    default: false,
    help: "read and send every file, ignoring the scan cache (which is refreshed)",
  },
} satisfies SettingsTable;

type SettingKey = keyof typeof SETTINGS;
/** Environment variables read for defaults, not settings of their own. */
const EXTRA_ENV = ["XDG_CACHE_HOME"] as const;
const LIST_KEYS = new Set<SettingKey>(["path", "exclude"]);

function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}

/** The one schema every merged configuration passes, made of the settings' own schemas. */
const configSchema = z.object(
  Object.fromEntries(Object.entries(SETTINGS).map(([key, s]) => [key, s.schema])) as {
    [K in SettingKey]: typeof SETTINGS[K]["schema"];
  },
).strict();

/** Where configuration comes from; `processSources()` gives the real ones. */
export interface ConfigSources {
  env: Record<string, string | undefined>;
  /** A file's text, or null when it does not exist. */
  readFile: (path: string) => string | null;
  cwd: string;
  home: string;
  hostname: () => string;
  ipAddress: () => string;
  cores: number;
}

export function processSources(): ConfigSources {
  const env: Record<string, string | undefined> = {};
  for (const name of [...Object.values(SETTINGS).flatMap((s) => s.env), ...EXTRA_ENV]) {
    env[name] = Deno.env.get(name);
  }
  return {
    env,
    readFile: (path) => {
      try {
        return Deno.readTextFileSync(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return null;
        throw new AppError("invalid_input", `Cannot read config file "${path}"`, {
          cause: error,
        });
      }
    },
    cwd: userDirectory(),
    home: homedir(),
    hostname: systemHostname,
    ipAddress: primaryIpAddress,
    cores: navigator.hardwareConcurrency ?? 2,
  };
}

/**
 * The directory the user ran the command from, against which relative paths and
 * `./ppclient.conf` resolve: `deno task` runs its command in the project's directory and
 * keeps the user's in `INIT_CWD` (npm does the same), so that one wins when it names a
 * directory.
 */
export function userDirectory(): string {
  const initial = Deno.env.get("INIT_CWD");
  if (initial !== undefined && initial.startsWith("/")) {
    try {
      if (Deno.statSync(initial).isDirectory) return initial;
    } catch {
      // Gone or unreadable: fall back to the process's own directory.
    }
  }
  return Deno.cwd();
}

/**
 * Files in flight by default. A scan waits mostly on round trips and on the server's
 * durable writes, not on this machine's CPU, so it keeps 16 files per core in flight,
 * at least 8 and at most 32. Memory per file in flight is fixed (two 1 MiB read buffers
 * and at most one 1 MiB upload chunk).
 */
export function defaultJobs(cores: number): number {
  return Math.min(32, Math.max(8, cores * 16));
}

export type ScanFlags = ReturnType<typeof parseScanArgs>["values"];

/** Parses scan arguments; unknown flags are an `invalid_input` AppError. */
export function parseScanArgs(args: string[]) {
  return parseFlags(args, SCAN_FLAGS);
}

/** Merges flags (and positional paths) with environment, config files and defaults. */
export function loadConfig(
  flags: ScanFlags,
  positionals: string[],
  sources: ConfigSources,
): ClientConfig {
  const layers = new Map<SettingKey, { value: Raw | Raw[]; origin: string }>();
  const set = (key: SettingKey, value: Raw, origin: string) => {
    if (LIST_KEYS.has(key)) {
      const previous = layers.get(key);
      const values = Array.isArray(previous?.value) ? previous.value : [];
      layers.set(key, { value: [...values, value], origin });
    } else {
      layers.set(key, { value, origin });
    }
  };

  // Config files (lowest precedence after defaults).
  const configFiles = configFileCandidates(flags.config, sources);
  const read: string[] = [];
  const filePaths: { value: string; origin: string }[] = [];
  for (const file of configFiles) {
    const text = sources.readFile(file);
    if (text === null) {
      if (flags.config !== undefined) {
        throw new AppError("invalid_input", `Config file "${file}" does not exist`);
      }
      continue;
    }
    read.push(file);
    for (const line of parseConfigFile(text, file)) {
      const origin = `${file} line ${line.line}`;
      if (!isSettingKey(line.key)) {
        throw new AppError(
          "invalid_input",
          `Unknown setting "${short(line.key, 40)}" in ${origin}; known settings: ${
            Object.keys(SETTINGS).join(", ")
          }`,
        );
      }
      if (line.key === "path") filePaths.push({ value: line.value, origin });
      else set(line.key, line.value, origin);
    }
  }

  // Environment.
  for (
    const [key, setting] of Object.entries(SETTINGS) as [SettingKey, typeof SETTINGS[SettingKey]][]
  ) {
    for (const name of setting.env) {
      const value = sources.env[name];
      if (value !== undefined && value !== "") {
        set(key, value, `environment variable ${name}`);
        break;
      }
    }
  }

  // Flags.
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    if (key === "path") continue;
    const value = flags[key];
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) set(key, one, `--${key}`);
  }
  const cliPaths = [...positionals, ...(flags.path ?? [])];
  if (cliPaths.length > 0) {
    for (const path of cliPaths) set("path", path, "the command line");
  } else {
    for (const { value, origin } of filePaths) set("path", value, origin);
  }

  const raw: Record<string, Raw | Raw[] | null> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    raw[key] = layers.get(key)?.value ?? defaultOf(key, sources);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0] ?? "");
    const origin = isSettingKey(key) ? layers.get(key)?.origin ?? "the default" : "settings";
    throw new AppError(
      "invalid_input",
      `Invalid setting "${key}" (from ${origin}): ${issue.message}`,
      { cause: parsed.error },
    );
  }
  const c = parsed.data;
  return Object.freeze({
    paths: c.path,
    exclude: c.exclude,
    url: c.url,
    apiKey: c["api-key"],
    hostname: c.hostname,
    ip: c.ip,
    dryRun: c["dry-run"],
    verbose: c.verbose,
    quiet: c.quiet,
    json: c.json,
    jobs: c.jobs,
    retries: c.retries,
    retryForMs: c["retry-for"],
    followSymlinks: c["follow-symlinks"],
    oneFileSystem: c["one-file-system"],
    cacheDir: resolve(sources.cwd, c.cache),
    full: c.full,
    configFiles: read,
  });
}

/** The defaults that depend on this machine (their help shows `defaultText`). */
const DERIVED: Partial<Record<SettingKey, (sources: ConfigSources) => string>> = {
  hostname: (sources) => sources.hostname(),
  ip: (sources) => sources.ipAddress(),
  jobs: (sources) => String(defaultJobs(sources.cores)),
  cache: (sources) => defaultCacheDir(sources),
};

function defaultOf(key: SettingKey, sources: ConfigSources): Raw | Raw[] | null {
  const derive = DERIVED[key];
  if (derive !== undefined) return derive(sources);
  const setting: Setting = SETTINGS[key];
  return rawDefault.parse(setting.default);
}

/** A default in text form (a setting with neither this nor a `DERIVED` entry fails here). */
const rawDefault = z.union([z.string(), z.boolean(), z.array(z.string()), z.null()]);

/** `$XDG_CACHE_HOME/putplace` (when absolute), else `~/.cache/putplace`. */
export function defaultCacheDir(sources: ConfigSources): string {
  const xdg = sources.env.XDG_CACHE_HOME;
  const base = xdg !== undefined && xdg.startsWith("/") ? xdg : resolve(sources.home, ".cache");
  return resolve(base, "putplace");
}

/** `--config FILE` alone, else `~/ppclient.conf` then `./ppclient.conf` (each once). */
export function configFileCandidates(
  explicit: string | undefined,
  sources: ConfigSources,
): string[] {
  if (explicit !== undefined) return [resolve(sources.cwd, explicit)];
  const candidates = [
    resolve(sources.home, "ppclient.conf"),
    resolve(sources.cwd, "ppclient.conf"),
  ];
  return [...new Set(candidates)];
}

/**
 * The server base URL: `http://h:8000/put_file` and `http://h:8000/` both give
 * `http://h:8000`; a path prefix is kept. Null when not an http(s) URL.
 */
export function baseUrlOf(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.search !== "" || url.hash !== "") return null;
  const path = url.pathname.replace(/\/put_file\/?$/, "").replace(/\/+$/, "");
  return `${url.origin}${path}`;
}

/** The settings table for `ppclient --help`, generated from `SETTINGS`. */
export function settingsHelp(): string {
  return Object.entries(SETTINGS).map(([key, s]: [string, Setting]) => {
    const shown = defaultShown(s);
    const notes = [
      ...(shown === undefined ? [] : [`default ${shown}`]),
      ...(s.env.length > 0 ? [`env ${s.env.join(", ")}`] : []),
    ];
    const line = `  ${key.padEnd(16)} ${s.help}`;
    if (notes.length === 0) return line;
    const oneLine = `${line} (${notes.join("; ")})`;
    return oneLine.length <= 90 ? oneLine : `${line}\n${"".padEnd(19)}(${notes.join("; ")})`;
  }).join("\n");
}
