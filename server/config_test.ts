import assert from "node:assert/strict";
import { type ConfigSources, loadConfig, processSources, SETTINGS } from "./config.ts";
import { helpLine } from "../lib/settings/mod.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { AppError } from "../lib/errors.ts";

const CWD = "/srv/app";
const HOME = "/home/pp";

/** Sources with the given environment and files (path -> text); no other file exists. */
function sources(
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): ConfigSources {
  return { env, readFile: (path) => files[path] ?? null, cwd: CWD, home: HOME };
}

function assertConfigError(run: () => unknown, ...patterns: RegExp[]): AppError {
  let caught: unknown;
  assert.throws(run, (error: unknown) => {
    caught = error;
    return error instanceof AppError && error.code === "invalid_input";
  });
  const error = caught as AppError;
  for (const pattern of patterns) assert.match(error.message, pattern);
  return error;
}

Deno.test("loadConfig() with nothing set gives the defaults under ./putplace-data", () => {
  const config = loadConfig(sources());
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8000);
  assert.equal(config.dataDir, "/srv/app/putplace-data");
  assert.deepEqual(config.metadata, {
    kind: "sqlite",
    path: "/srv/app/putplace-data/metadata.sqlite",
  });
  assert.deepEqual(config.blobs, { kind: "fs", root: "/srv/app/putplace-data/blobs" });
  assert.equal(config.limits.maxJsonBytes, DEFAULT_LIMITS.maxJsonBytes);
  assert.equal(config.limits.maxUploadBytes, DEFAULT_LIMITS.maxUploadBytes);
  assert.equal(config.configFile, null);
});

Deno.test("loadConfig() returns a frozen config", () => {
  const config = loadConfig(sources());
  assert.equal(Object.isFrozen(config), true);
  assert.throws(() => {
    (config as { port: number }).port = 1;
  }, TypeError);
});

Deno.test("ppserver.toml settings override the defaults", () => {
  const toml = `
[server]
host = "0.0.0.0"
port = 9000
data_dir = "/var/lib/putplace"

[limits]
max_json_bytes = 2048
`;
  const config = loadConfig(sources({}, { "/srv/app/ppserver.toml": toml }));
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.port, 9000);
  assert.equal(config.dataDir, "/var/lib/putplace");
  assert.equal(
    config.metadata.kind === "sqlite" && config.metadata.path,
    "/var/lib/putplace/metadata.sqlite",
  );
  assert.equal(config.limits.maxJsonBytes, 2048);
  assert.equal(config.configFile, "/srv/app/ppserver.toml");
});

Deno.test("environment variables override ppserver.toml", () => {
  const toml = `[server]\nhost = "0.0.0.0"\nport = 9000\n`;
  const config = loadConfig(
    sources({ PUTPLACE_PORT: "9100" }, { "/srv/app/ppserver.toml": toml }),
  );
  assert.equal(config.port, 9100, "env beats toml");
  assert.equal(config.host, "0.0.0.0", "toml still applies where env is silent");
});

Deno.test("an empty environment variable counts as unset", () => {
  const toml = `[server]\nport = 9000\n`;
  const config = loadConfig(sources({ PUTPLACE_PORT: "" }, { "/srv/app/ppserver.toml": toml }));
  assert.equal(config.port, 9000);
});

Deno.test("PUTPLACE_PORT wins over PORT, and PORT works alone", () => {
  assert.equal(loadConfig(sources({ PORT: "7000" })).port, 7000);
  assert.equal(loadConfig(sources({ PORT: "7000", PUTPLACE_PORT: "7001" })).port, 7001);
});

Deno.test("the classic STORAGE_BACKEND and STORAGE_PATH names work", () => {
  const local = loadConfig(sources({ STORAGE_BACKEND: "local", STORAGE_PATH: "/data/files" }));
  assert.deepEqual(local.blobs, { kind: "fs", root: "/data/files" });
  const fs = loadConfig(sources({ STORAGE_BACKEND: "fs" }));
  assert.equal(fs.blobs.kind, "fs");
  assertConfigError(
    () => loadConfig(sources({ STORAGE_BACKEND: "floppy" })),
    /STORAGE_BACKEND="floppy"/,
  );
});

Deno.test("a relative data directory resolves against the working directory", () => {
  assert.equal(loadConfig(sources({ PUTPLACE_DATA_DIR: "data" })).dataDir, "/srv/app/data");
});

Deno.test("PUTPLACE_CONFIG names the one config file to read, relative to the working directory", () => {
  const files = {
    "/srv/app/ppserver.toml": `[server]\nport = 1111\n`,
    "/srv/app/conf/other.toml": `[server]\nport = 2222\n`,
  };
  const config = loadConfig(sources({ PUTPLACE_CONFIG: "conf/other.toml" }, files));
  assert.equal(config.port, 2222);
  assert.equal(config.configFile, "/srv/app/conf/other.toml");
});

Deno.test("a PUTPLACE_CONFIG file that does not exist is an error naming it", () => {
  assertConfigError(
    () => loadConfig(sources({ PUTPLACE_CONFIG: "/etc/missing.toml" })),
    /\/etc\/missing\.toml/,
    /PUTPLACE_CONFIG/,
  );
});

Deno.test("config files are searched in ./, ~/.config/putplace/, then /etc/putplace/", () => {
  const home = `${HOME}/.config/putplace/ppserver.toml`;
  const etc = "/etc/putplace/ppserver.toml";
  assert.equal(
    loadConfig(sources({}, { [etc]: "[server]\nport = 3\n" })).configFile,
    etc,
  );
  const both = { [etc]: "[server]\nport = 3\n", [home]: "[server]\nport = 2\n" };
  assert.equal(loadConfig(sources({}, both)).port, 2);
  const all = { ...both, "/srv/app/ppserver.toml": "[server]\nport = 1\n" };
  assert.equal(loadConfig(sources({}, all)).port, 1);
});

Deno.test("an unknown key in ppserver.toml is an error naming it and the file", () => {
  const toml = `[server]\nprot = 9000\n`;
  assertConfigError(
    () => loadConfig(sources({}, { "/srv/app/ppserver.toml": toml })),
    /"server\.prot"/,
    /\/srv\/app\/ppserver\.toml/,
  );
  assertConfigError(
    () => loadConfig(sources({}, { "/srv/app/ppserver.toml": `port = 9000\n` })),
    /"port"/,
  );
  assertConfigError(
    () => loadConfig(sources({}, { "/srv/app/ppserver.toml": `[srever]\nport = 9000\n` })),
    /"srever\.port"/,
  );
});

Deno.test("a ppserver.toml that is not TOML is an error naming the file", () => {
  assertConfigError(
    () => loadConfig(sources({}, { "/srv/app/ppserver.toml": "[server\nport = = 1" })),
    /Cannot parse config file \/srv\/app\/ppserver\.toml/,
  );
});

Deno.test("a bad port is an error naming the setting, its value and what is expected", () => {
  for (const value of ["abc", "70000", "-1", "80.5"]) {
    assertConfigError(
      () => loadConfig(sources({ PUTPLACE_PORT: value })),
      new RegExp(`PUTPLACE_PORT="${value.replace(".", "\\.")}"`),
      /port to listen on/,
    );
  }
  assertConfigError(
    () => loadConfig(sources({ PORT: "http" })),
    /PORT="http"/,
  );
  assertConfigError(
    () => loadConfig(sources({}, { "/srv/app/ppserver.toml": `[server]\nport = "eighty"\n` })),
    /server\.port = "eighty" in \/srv\/app\/ppserver\.toml/,
  );
});

Deno.test("a blank or non-decimal port is an error, not port 0", () => {
  assertConfigError(() => loadConfig(sources({ PUTPLACE_PORT: " " })), /PUTPLACE_PORT/);
  assertConfigError(() => loadConfig(sources({ PUTPLACE_PORT: "0x1F90" })), /PUTPLACE_PORT/);
  assertConfigError(() => loadConfig(sources({ PUTPLACE_PORT: "1e3" })), /PUTPLACE_PORT/);
});

Deno.test("a size limit below 1 byte is an error naming the setting", () => {
  assertConfigError(
    () => loadConfig(sources({ PUTPLACE_MAX_UPLOAD_BYTES: "0" })),
    /PUTPLACE_MAX_UPLOAD_BYTES="0"/,
  );
  assertConfigError(
    () => loadConfig(sources({}, { "/srv/app/ppserver.toml": `[limits]\nmax_json_bytes = -5\n` })),
    /limits\.max_json_bytes = "-5"/,
  );
  assert.equal(
    loadConfig(sources({ PUTPLACE_MAX_UPLOAD_BYTES: "1000" })).limits.maxUploadBytes,
    1000,
  );
});

Deno.test("a blank host is an error naming the setting", () => {
  assertConfigError(() => loadConfig(sources({ PUTPLACE_HOST: "   " })), /PUTPLACE_HOST/);
});

Deno.test("processSources() reads this process's environment and working directory", () => {
  const real = processSources();
  assert.equal(real.cwd, Deno.cwd());
  assert.equal(real.env.PATH, Deno.env.get("PATH"));
  assert.equal(real.readFile("/nonexistent/putplace/ppserver.toml"), null);
});

Deno.test("every setting's help is one clause with balanced parentheses and at most one default", () => {
  for (const [name, setting] of Object.entries(SETTINGS)) {
    const line = helpLine(setting);
    const opened = (line.match(/\(/g) ?? []).length;
    const closed = (line.match(/\)/g) ?? []).length;
    assert.equal(opened, closed, `${name}: ${line}`);
    assert.ok((line.match(/\(default/g) ?? []).length <= 1, `${name}: ${line}`);
  }
});
