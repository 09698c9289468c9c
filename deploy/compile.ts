/**
 * Builds the standalone executables: `deno task compile` (this platform, into dist/) and
 * `deno task release` (linux x64/arm64, macOS x64/arm64, Windows x64, into dist/ with a
 * SHA256SUMS file). `deno compile` needs a runtime base ("denort") for each target, which
 * it downloads; where it cannot, this says so in one line and names DENORT_BIN, and it
 * refuses a DENORT_BIN that is the full Deno CLI (that "works" and yields a copy of deno).
 */
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");
const PERMISSIONS = ["--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys"];
const BINARIES = [
  // Workers (docs/workers.md): the executable starts copies of itself that share the port.
  { name: "ppserver", entry: "server/main.ts", flags: ["--allow-run", "--unstable-net"] },
  // The hash workers are loaded by URL at run time: include their module.
  {
    name: "ppclient",
    entry: "client/main.ts",
    flags: ["--include", join(ROOT, "client/scan/hash_worker.ts")],
  },
];
export const RELEASE_TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

class BuildError extends Error {}

/** Refuses a DENORT_BIN that is missing, or that is the Deno CLI rather than denort. */
export async function checkRuntimeBase(path: string): Promise<void> {
  try {
    if (!(await Deno.stat(path)).isFile) throw new BuildError(`DENORT_BIN=${path} is not a file`);
  } catch (error) {
    if (error instanceof BuildError) throw error;
    throw new BuildError(`DENORT_BIN=${path} does not exist`);
  }
  // The CLI answers --version with "deno X.Y.Z"; denort has no command line of its own.
  const probe = await new Deno.Command(path, {
    args: ["--version"],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
    env: { DENO_NO_UPDATE_CHECK: "1" },
  }).output().catch(() => null);
  const answer = probe ? new TextDecoder().decode(probe.stdout) : "";
  if (probe?.success && /^deno \d+\.\d+\.\d+/.test(answer)) {
    throw new BuildError(
      `DENORT_BIN=${path} is the Deno CLI (${answer.split("\n")[0]}), not the runtime base ` +
        `"denort": use denort-<target>.zip from the Deno release of this version, or unset DENORT_BIN`,
    );
  }
}

/** One `deno compile`; a failed runtime download becomes one line that names DENORT_BIN. */
async function compile(
  entry: string,
  output: string,
  target?: string,
  flags: string[] = [],
): Promise<void> {
  const args = ["compile", ...PERMISSIONS, ...flags, "--output", output];
  if (target) args.push("--target", target);
  args.push(join(ROOT, entry));
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (result.success) return;
  const stderr = new TextDecoder().decode(result.stderr);
  if (/denort|download|dl\.deno\.land|error sending request|dns error|network/i.test(stderr)) {
    throw new BuildError(
      `deno compile could not download the runtime base for ${target ?? "this platform"}; ` +
        `set DENORT_BIN to a local denort of this Deno version (${Deno.version.deno})`,
    );
  }
  throw new BuildError(`deno compile ${entry} failed:\n${stderr.trim()}`);
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of (await Deno.open(path)).readable) hash.update(chunk);
  return hash.digest("hex");
}

export async function build(release: boolean): Promise<string[]> {
  const runtimeBase = Deno.env.get("DENORT_BIN");
  if (runtimeBase) {
    await checkRuntimeBase(runtimeBase);
    if (release) {
      throw new BuildError(
        "DENORT_BIN holds one platform's runtime base and a release builds five: unset it " +
          "on a machine that can download them",
      );
    }
  }
  await Deno.mkdir(DIST, { recursive: true });
  const outputs: string[] = [];
  for (const target of release ? RELEASE_TARGETS : [undefined]) {
    for (const { name, entry, flags } of BINARIES) {
      const suffix = target ? `-${target}` : "";
      const exe = target?.includes("windows") ? ".exe" : "";
      const output = join(DIST, `${name}${suffix}${exe}`);
      await compile(entry, output, target, flags);
      outputs.push(output);
    }
  }
  if (release) {
    const lines = [];
    for (const output of outputs) lines.push(`${await sha256Of(output)}  ${basename(output)}`);
    await Deno.writeTextFile(join(DIST, "SHA256SUMS"), lines.join("\n") + "\n");
  }
  return outputs;
}

if (import.meta.main) {
  try {
    const outputs = await build(Deno.args.includes("--release"));
    for (const output of outputs) console.log(output);
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    console.error(`compile: ${error.message}`);
    Deno.exit(1);
  }
}
