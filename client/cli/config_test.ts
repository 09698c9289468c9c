import assert from "node:assert/strict";
import { AppError } from "../../lib/errors.ts";
import {
  baseUrlOf,
  type ConfigSources,
  DEFAULT_URL,
  defaultJobs,
  loadConfig,
  parseScanArgs,
} from "./config.ts";
import { parseConfigFile } from "./config_file.ts";

function sources(
  files: Record<string, string> = {},
  env: Record<string, string> = {},
): ConfigSources {
  return {
    env,
    readFile: (path) => files[path] ?? null,
    cwd: "/work/dir",
    home: "/home/me",
    hostname: () => "system-host",
    ipAddress: () => "10.1.2.3",
    cores: 2,
  };
}

function load(args: string[], s: ConfigSources) {
  const { values, positionals } = parseScanArgs(args);
  return loadConfig(values, positionals, s);
}

function assertInvalid(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "invalid_input");
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("defaults apply when nothing is configured", () => {
  const config = load(["/data"], sources());
  assert.deepEqual(config.paths, ["/data"]);
  assert.equal(config.url, DEFAULT_URL);
  assert.equal(config.apiKey, null);
  assert.equal(config.hostname, "system-host");
  assert.equal(config.ip, "10.1.2.3");
  assert.equal(config.jobs, defaultJobs(2));
  assert.equal(config.dryRun, false);
  assert.equal(config.followSymlinks, false);
  assert.deepEqual(config.configFiles, []);
});

Deno.test("precedence is flags, then environment, then ./ppclient.conf, then ~/ppclient.conf", () => {
  const files = {
    "/home/me/ppclient.conf": "url = http://home:1\nhostname = home-host\nip = 1.1.1.1\njobs = 3\n",
    "/work/dir/ppclient.conf": "url = http://cwd:2\nhostname = cwd-host\n",
  };
  const env = { PUTPLACE_URL: "http://env:3", PUTPLACE_API_KEY: "env-key" };
  const fileOnly = load(["x"], sources(files));
  assert.equal(fileOnly.url, "http://cwd:2");
  assert.equal(fileOnly.hostname, "cwd-host");
  assert.equal(fileOnly.ip, "1.1.1.1", "a key only the home file sets still applies");
  assert.equal(fileOnly.jobs, 3);
  assert.deepEqual(fileOnly.configFiles, ["/home/me/ppclient.conf", "/work/dir/ppclient.conf"]);

  const withEnv = load(["x"], sources(files, env));
  assert.equal(withEnv.url, "http://env:3");
  assert.equal(withEnv.apiKey, "env-key");

  const withFlags = load(
    ["x", "--url", "http://flag:4", "-k", "flag-key", "--hostname", "flag-host"],
    sources(files, env),
  );
  assert.equal(withFlags.url, "http://flag:4");
  assert.equal(withFlags.apiKey, "flag-key");
  assert.equal(withFlags.hostname, "flag-host");
});

Deno.test("exclude values add up across config files and flags", () => {
  const files = {
    "/home/me/ppclient.conf": "[DEFAULT]\nexclude = .git\nexclude = *.pyc\n",
    "/work/dir/ppclient.conf": "exclude = node_modules\n",
  };
  const config = load(["x", "-e", "*.log", "--exclude", "tmp"], sources(files));
  assert.deepEqual(config.exclude, [".git", "*.pyc", "node_modules", "*.log", "tmp"]);
});

Deno.test("paths from a config file apply only when the command line names none", () => {
  const files = { "/work/dir/ppclient.conf": "path = /from/file\npath = /also/file\n" };
  assert.deepEqual(load([], sources(files)).paths, ["/from/file", "/also/file"]);
  assert.deepEqual(load(["-p", "/a", "/b"], sources(files)).paths, ["/b", "/a"]);
});

Deno.test("--config reads only that file, and a missing one is an error", () => {
  const files = {
    "/home/me/ppclient.conf": "hostname = home-host\n",
    "/work/dir/custom.conf": "hostname = custom-host\n",
  };
  const config = load(["x", "-c", "custom.conf"], sources(files));
  assert.equal(config.hostname, "custom-host");
  assert.deepEqual(config.configFiles, ["/work/dir/custom.conf"]);
  assertInvalid(
    () => load(["x", "--config", "/nope.conf"], sources(files)),
    /Config file "\/nope.conf" does not exist/,
  );
});

Deno.test("an unknown key in a config file is an error naming the file and line", () => {
  const files = { "/work/dir/ppclient.conf": "url = http://x\n\ncolour = blue\n" };
  assertInvalid(
    () => load(["x"], sources(files)),
    /Unknown setting "colour" in \/work\/dir\/ppclient.conf line 3/,
  );
});

Deno.test("a line that is not key = value is an error", () => {
  assertInvalid(() => parseConfigFile("url http://x\n", "f.conf"), /f.conf" line 1/);
});

Deno.test("config files accept classic spellings: [DEFAULT], underscores, quotes, comments", () => {
  const lines = parseConfigFile(
    '\uFEFF# comment\n; other\n[DEFAULT]\nAPI_KEY = "abc"\ndry_run = yes\n',
    "f",
  );
  assert.deepEqual(lines.map((l) => [l.key, l.value, l.line]), [
    ["api-key", "abc", 4],
    ["dry-run", "yes", 5],
  ]);
  const files = { "/work/dir/ppclient.conf": "dry_run = yes\nfollow-symlinks = true\n" };
  const config = load(["x"], sources(files));
  assert.equal(config.dryRun, true);
  assert.equal(config.followSymlinks, true);
});

Deno.test("invalid values are errors that say where they came from", () => {
  assertInvalid(() => load(["x", "-j", "0"], sources()), /"jobs" \(from --jobs\)/);
  assertInvalid(
    () => load(["x"], sources({ "/work/dir/ppclient.conf": "verbose = perhaps\n" })),
    /"verbose" \(from \/work\/dir\/ppclient.conf line 1\)/,
  );
  assertInvalid(
    () => load(["x"], sources({}, { PUTPLACE_URL: "ftp://x" })),
    /"url" \(from environment variable PUTPLACE_URL\)/,
  );
});

Deno.test("unknown flags are usage errors", () => {
  assertInvalid(() => parseScanArgs(["--colour"]), /colour/);
});

Deno.test("the classic .../put_file URL becomes the base URL", () => {
  assert.equal(baseUrlOf("http://localhost:8000/put_file"), "http://localhost:8000");
  assert.equal(baseUrlOf("http://h:1/"), "http://h:1");
  assert.equal(baseUrlOf("https://h/prefix/put_file/"), "https://h/prefix");
  assert.equal(baseUrlOf("https://h/prefix"), "https://h/prefix");
  assert.equal(baseUrlOf("ftp://h"), null);
  assert.equal(baseUrlOf("not a url"), null);
});

Deno.test("default jobs follow the core count within bounds", () => {
  assert.equal(defaultJobs(1), 16);
  assert.equal(defaultJobs(2), 32);
  assert.equal(defaultJobs(64), 32);
});

Deno.test("the scan cache lives under $XDG_CACHE_HOME/putplace, else ~/.cache/putplace; --cache and PPCLIENT_CACHE override", () => {
  assert.equal(load(["/d"], sources()).cacheDir, "/home/me/.cache/putplace");
  assert.equal(
    load(["/d"], sources({}, { XDG_CACHE_HOME: "/var/cache/me" })).cacheDir,
    "/var/cache/me/putplace",
  );
  assert.equal(
    load(["/d"], sources({}, { XDG_CACHE_HOME: "relative" })).cacheDir,
    "/home/me/.cache/putplace",
    "a relative XDG_CACHE_HOME is ignored, as the XDG spec says",
  );
  assert.equal(
    load(["/d"], sources({}, { PPCLIENT_CACHE: "/env/cache" })).cacheDir,
    "/env/cache",
  );
  assert.equal(
    load(["/d", "--cache", "here"], sources({}, { PPCLIENT_CACHE: "/env/cache" })).cacheDir,
    "/work/dir/here",
  );
  assert.equal(load(["/d"], sources()).full, false);
  assert.equal(load(["/d", "--full"], sources()).full, true);
  assert.equal(load(["/d"], sources({ "/home/me/ppclient.conf": "full = true\n" })).full, true);
});
