import assert from "node:assert/strict";
import { z } from "zod";
import { AppError } from "../errors.ts";
import {
  checkFileKeys,
  defaultShown,
  helpLine,
  loadSettings,
  settingsHelp,
  type SettingsTable,
} from "./mod.ts";

const TABLE = {
  port: {
    env: ["APP_PORT", "PORT"],
    file: "server.port",
    schema: z.string().regex(/^\d+$/).transform(Number),
    default: 8000,
    help: "port to listen on",
  },
  name: { env: ["APP_NAME"], file: "server.name", schema: z.string().min(1), help: "a name" },
} satisfies SettingsTable;

Deno.test("loadSettings() takes the environment over the file over the default, and says which were set", () => {
  const file = { path: "/etc/app.toml", table: { server: { port: 7000, name: "from-file" } } };
  assert.deepEqual(loadSettings(TABLE, { env: {}, file: null }).values, {
    port: 8000,
    name: undefined,
  });
  const fromFile = loadSettings(TABLE, { env: {}, file });
  assert.deepEqual(fromFile.values, { port: 7000, name: "from-file" });
  assert.deepEqual([...fromFile.set].sort(), ["name", "port"]);
  const fromEnv = loadSettings(TABLE, { env: { PORT: "6000", APP_PORT: "" }, file });
  assert.equal(fromEnv.values.port, 6000, "an empty variable counts as unset; the next one wins");
});

Deno.test("loadSettings() names the variable or file key of a bad value, with the setting's help", () => {
  assert.throws(
    () => loadSettings(TABLE, { env: { APP_PORT: "eighty" }, file: null }),
    (error: unknown) =>
      error instanceof AppError && error.code === "invalid_input" &&
      /APP_PORT="eighty"/.test(error.message) &&
      /port to listen on \(default 8000\)/.test(error.message),
  );
  assert.throws(
    () =>
      loadSettings(TABLE, { env: {}, file: { path: "/x.toml", table: { server: { name: "" } } } }),
    /server\.name = "" in \/x\.toml/,
  );
});

Deno.test("checkFileKeys() refuses keys no setting reads", () => {
  assert.throws(
    () => checkFileKeys(TABLE, { path: "/x.toml", table: { server: { prot: 1 } } }),
    /Unknown setting "server\.prot" in \/x\.toml/,
  );
  checkFileKeys(TABLE, { path: "/x.toml", table: { server: { port: 1 } } });
});

Deno.test("the help is generated from the table, each default written once", () => {
  assert.equal(helpLine(TABLE.port), "port to listen on (default 8000)");
  assert.equal(helpLine(TABLE.name), "a name");
  const help = settingsHelp(TABLE);
  assert.match(help, /APP_PORT, PORT\s+\[server\.port\]\n\s+port to listen on \(default 8000\)/);
});

Deno.test("a setting without a file key is read from the environment only, and no file key names it", () => {
  const table = {
    jobs: {
      env: ["APP_JOBS"],
      schema: z.string(),
      defaultText: "from the core count",
      help: "jobs",
    },
  } satisfies SettingsTable;
  const file = { path: "/x.toml", table: { server: { jobs: "3" } } };
  assert.equal(loadSettings(table, { env: {}, file }).values.jobs, undefined);
  assert.equal(loadSettings(table, { env: { APP_JOBS: "5" }, file }).values.jobs, "5");
  assert.throws(() => checkFileKeys(table, file), /Unknown setting "server\.jobs"/);
  assert.equal(defaultShown(table.jobs), "from the core count");
  assert.equal(defaultShown(TABLE.port), "8000");
  assert.equal(defaultShown(TABLE.name), undefined);
});
