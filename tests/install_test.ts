/**
 * Installing and shipping: `deno install -g` with the project's import map gives commands
 * that work from any directory, and the client's module graph never reaches the
 * server-only packages (MongoDB driver, AWS SDK, Prometheus client).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SERVER_ONLY = /^(mongodb|@aws-sdk\/|@smithy\/|prom-client)/;

const infoSchema = z.object({
  modules: z.array(z.object({ specifier: z.string(), npmPackage: z.string().optional() })),
  npmPackages: z.record(z.string(), z.object({ dependencies: z.array(z.string()).optional() })),
});

/** Every npm package the graph of `entry` can load, dynamic imports included. */
async function npmPackagesOf(entry: string): Promise<Set<string>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const info = infoSchema.parse(JSON.parse(new TextDecoder().decode(output.stdout)));
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dependency of info.npmPackages[name]?.dependencies ?? []) visit(dependency);
  };
  for (const module of info.modules) if (module.npmPackage) visit(module.npmPackage);
  return seen;
}

Deno.test("the client's module graph loads no server-only package (MongoDB, AWS SDK, prom-client)", async () => {
  const client = await npmPackagesOf("client/main.ts");
  assert.ok([...client].some((name) => name.startsWith("zod@")), "the graph was read");
  assert.deepEqual([...client].filter((name) => SERVER_ONLY.test(name)), []);
  const server = await npmPackagesOf("server/main.ts");
  assert.ok(
    [...server].some((name) => name.startsWith("mongodb@")),
    "the check can see a package reached only through a dynamic import",
  );
});

Deno.test("deno install -g with the project's config gives ppserver and ppclient that run from any directory", async () => {
  const root = await Deno.makeTempDir({ prefix: "ppinstall-" });
  try {
    for (const [name, entry] of [["ppserver", "server/main.ts"], ["ppclient", "client/main.ts"]]) {
      const installed = await new Deno.Command(Deno.execPath(), {
        args: [
          "install",
          "-g",
          "-f",
          "--root",
          root,
          "--allow-net",
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--allow-sys",
          "--config",
          "deno.json",
          "-n",
          name,
          entry,
        ],
        cwd: ROOT,
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(installed.code, 0, new TextDecoder().decode(installed.stderr));
      const help = await new Deno.Command(join(root, "bin", name), {
        args: ["--help"],
        cwd: root,
        env: { NO_COLOR: "1", PATH: `${join(Deno.execPath(), "..")}:${Deno.env.get("PATH")}` },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(help.stdout);
      assert.equal(help.code, 0, new TextDecoder().decode(help.stderr));
      assert.match(stdout, new RegExp(`^${name} \\d+\\.\\d+\\.\\d+`));
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
