/** Black-box tests of the ppserver command line: stdout, stderr and exit code, separately. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashApiKey } from "../lib/auth.ts";
import { openMetadataStore } from "../lib/metadata_store/open.ts";
import { VERSION } from "../lib/version.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));

/** A scratch working directory with an empty ppserver.toml, so no real config is read. */
async function scratch() {
  const dir = await Deno.makeTempDir({ prefix: "ppserver-cli-" });
  const configFile = join(dir, "ppserver.toml");
  await Deno.writeTextFile(configFile, "");
  return {
    dir,
    dataDir: join(dir, "data"),
    env: { PUTPLACE_CONFIG: configFile, PUTPLACE_DATA_DIR: join(dir, "data") },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function ppserver(
  args: string[],
  where: { dir: string; env: Record<string, string> },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--config", CONFIG, "-A", MAIN, ...args],
    cwd: where.dir,
    env: { NO_COLOR: "1", ...where.env },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("ppserver --help prints the commands on stdout and exits 0", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver(["--help"], s);
  assert.equal(code, 0);
  assert.match(stdout, /^ppserver \d+\.\d+\.\d+: the PutPlace server/);
  assert.match(stdout, /Usage: ppserver \[COMMAND\]/);
  assert.match(stdout, /^\s+serve\s/m);
  assert.match(stdout, /^\s+create-key\s/m);
  assert.equal(stderr, "");
  assert.equal(await exists(s.dataDir), false, "help touches no data");
});

Deno.test("ppserver --version prints the version alone", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver(["--version"], s);
  assert.equal(code, 0);
  assert.equal(stdout, `${VERSION}\n`);
  assert.equal(stderr, "");
});

Deno.test("ppserver serve --help explains serving and lists the settings", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver(["serve", "--help"], s);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: ppserver serve/);
  for (const name of ["PUTPLACE_PORT", "STORAGE_BACKEND", "STORAGE_PATH", "PUTPLACE_DATA_DIR"]) {
    assert.match(stdout, new RegExp(name));
  }
  assert.equal(stderr, "");
  assert.equal(await exists(s.dataDir), false);
});

Deno.test("ppserver create-key --help prints its usage and creates nothing", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver(["create-key", "--help"], s);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: ppserver create-key --name NAME/);
  assert.match(stdout, /--scope/);
  assert.equal(stderr, "");
  assert.equal(await exists(s.dataDir), false);
});

Deno.test("ppserver create-key --name prints only the key on stdout, and the store knows its hash", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver(["create-key", "--name", "x", "--init"], s);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^[0-9a-f]{64}\n$/);
  const key = stdout.trim();
  assert.match(stderr, /Created write key "x"/);
  assert.match(stderr, /shown only this once/);
  assert.ok(!stderr.includes(key), "the key is printed once, on stdout");
  await using store = await openMetadataStore({
    kind: "sqlite",
    path: join(s.dataDir, "metadata.sqlite"),
  });
  const record = await store.apiKeys.findByHash(hashApiKey(key));
  assert.equal(record?.name, "x");
  assert.equal(record?.scope, "write");
  assert.equal(record?.revoked_at, null);
});

Deno.test("ppserver create-key --json prints one JSON object with the key and its scope", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver(
    [
      "create-key",
      "--name",
      "viewer",
      "--scope",
      "read",
      "--description",
      "dashboards",
      "--json",
      "--init",
    ],
    s,
  );
  assert.equal(code, 0, stderr);
  const body = JSON.parse(stdout);
  assert.match(body.api_key, /^[0-9a-f]{64}$/);
  assert.match(body._id, /^[0-9a-f]{24}$/);
  assert.equal(body.name, "viewer");
  assert.equal(body.scope, "read");
  assert.equal(stderr, "");
});

Deno.test("ppserver create-key --host limits a write key to hosts, shown in --json and stored", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver(
    [
      "create-key",
      "--name",
      "laptop",
      "--host",
      "laptop-01",
      "--host",
      "build-*",
      "--json",
      "--init",
    ],
    s,
  );
  assert.equal(code, 0, stderr);
  const body = JSON.parse(stdout);
  assert.deepEqual(body.hosts, ["laptop-01", "build-*"]);
  await using store = await openMetadataStore({
    kind: "sqlite",
    path: join(s.dataDir, "metadata.sqlite"),
  });
  assert.deepEqual((await store.apiKeys.findByHash(hashApiKey(body.api_key)))?.hosts, [
    "laptop-01",
    "build-*",
  ]);
});

Deno.test("ppserver create-key --host on a read key or with a blank pattern exits 2 naming --host", async () => {
  for (const args of [["--scope", "read", "--host", "h"], ["--host", "a b"]]) {
    await using s = await scratch();
    const { code, stdout, stderr } = await ppserver(["create-key", "--name", "k", ...args], s);
    assert.equal(code, 2, stderr);
    assert.equal(stdout, "");
    assert.match(stderr, /^ppserver create-key: Invalid --host/);
  }
});

Deno.test("ppserver create-key without --name exits 2 with a message on stderr", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver(["create-key"], s);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /^ppserver create-key: Invalid --name/);
  assert.equal(await exists(s.dataDir), false, "nothing was opened");
});

Deno.test("ppserver create-key with a bad scope exits 2 naming --scope", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver(
    ["create-key", "--name", "x", "--scope", "root"],
    s,
  );
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /--scope/);
});

Deno.test("an unknown flag exits 2, names the flag on stderr and points to --help", async () => {
  await using s = await scratch();
  for (
    const args of [["create-key", "--name", "x", "--bogus"], ["serve", "--bogus"], ["--bogus"]]
  ) {
    const { code, stdout, stderr } = await ppserver(args, s);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "");
    assert.match(stderr, /--bogus/);
    assert.match(stderr, /--help/);
  }
  assert.equal(await exists(s.dataDir), false);
});

Deno.test("a flag without its value exits 2 naming the flag", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver(["create-key", "--name"], s);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /--name/);
  assert.equal(await exists(s.dataDir), false);
});

Deno.test("with no command, ppserver runs serve (and its settings are checked)", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver([], {
    ...s,
    env: { ...s.env, PUTPLACE_PORT: "not-a-port" },
  });
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /^ppserver serve: Invalid setting PUTPLACE_PORT="not-a-port"/);
});

Deno.test("an unknown command exits 2 and shows the commands on stderr", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver(["frobnicate"], s);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /unknown command "frobnicate"/);
  assert.match(stderr, /create-key/);
});

Deno.test("ppserver serve with a bad port exits 2 naming the setting, before opening anything", async () => {
  await using s = await scratch();
  const { code, stdout, stderr } = await ppserver(["serve", "--port", "eighty"], s);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /^ppserver serve: Invalid setting .*PORT.*"eighty"/);
  assert.equal(await exists(s.dataDir), false);
});

Deno.test("ppserver serve on a port in use exits 1 with a one-line message, no stack", async () => {
  await using s = await scratch();
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { code, stdout, stderr } = await ppserver(
    ["serve", "--host", "127.0.0.1", "--port", String(taken.addr.port)],
    s,
  );
  assert.equal(code, 1);
  assert.equal(stderr, "ppserver serve: cannot listen: the address is already in use\n");
  assert.doesNotMatch(stdout, /listening on/);
});

Deno.test("ppserver create-key with a missing PUTPLACE_CONFIG file exits 2 naming the file", async () => {
  await using s = await scratch();
  const missing = join(s.dir, "missing.toml");
  const { code, stdout, stderr } = await ppserver(["create-key", "--name", "x"], {
    ...s,
    env: { ...s.env, PUTPLACE_CONFIG: missing },
  });
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.ok(stderr.includes(missing), stderr);
});
