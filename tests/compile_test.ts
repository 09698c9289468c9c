/**
 * `deno task compile` builds ppserver and ppclient into standalone executables. It needs a
 * Deno runtime base ("denort") for the platform, which it downloads; where it cannot, set
 * DENORT_BIN to a local one. The end-to-end test runs only where a runtime base is at hand.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { digestOf } from "../lib/digest.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

async function task(name: string, env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", name],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("deno task compile refuses a DENORT_BIN that is the Deno CLI, in one line", async () => {
  const { code, stderr } = await task("compile", { DENORT_BIN: Deno.execPath() });
  assert.equal(code, 1);
  assert.match(
    stderr,
    /^compile: DENORT_BIN=.* is the Deno CLI \(deno \d+\.\d+\.\d+.*\), not the runtime base "denort"/,
  );
  assert.equal(stderr.trim().split("\n").length, 1);
});

Deno.test("deno task compile and release refuse a DENORT_BIN that does not exist", async () => {
  for (const name of ["compile", "release"]) {
    const { code, stderr } = await task(name, { DENORT_BIN: "/nonexistent/denort" });
    assert.equal(code, 1);
    assert.equal(stderr, "compile: DENORT_BIN=/nonexistent/denort does not exist\n");
  }
});

/** A runtime base is at hand: DENORT_BIN, or one `deno compile` downloaded before. */
function runtimeBaseAvailable(): boolean {
  if (Deno.env.get("DENORT_BIN")) return true;
  const denoDir = Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/", ".cache", "deno");
  const target = Deno.build.target;
  try {
    Deno.statSync(join(denoDir, "dl", "release", `v${Deno.version.deno}`, `denort-${target}.zip`));
    return true;
  } catch {
    return false;
  }
}

const haveBase = runtimeBaseAvailable();

Deno.test({
  name: "the compiled ppserver and ppclient work end to end: serve, scan, get" +
    (haveBase ? "" : " (ignored: no Deno runtime base here: set DENORT_BIN to a local denort)"),
  ignore: !haveBase,
  async fn() {
    const built = await task("compile", {});
    assert.equal(built.code, 0, built.stderr);
    const dir = await Deno.makeTempDir({ prefix: "compiled-e2e-" });
    const server = new Deno.Command(join(ROOT, "dist", "ppserver"), {
      args: ["serve", "--port", "0", "--data-dir", join(dir, "data")],
      env: { PUTPLACE_CONFIG: join(dir, "none.toml") },
      stdout: "piped",
      stderr: "piped",
    });
    await Deno.writeTextFile(join(dir, "none.toml"), "");
    const process = server.spawn();
    try {
      let text = "";
      const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
      while (!/listening on (\S+)/.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`ppserver ended: ${text}`);
        text += value;
      }
      const url = text.match(/listening on (\S+)/)![1];
      const key = text.match(/PUTPLACE_ADMIN_KEY=([0-9a-f]{64})/)![1];
      await Deno.mkdir(join(dir, "tree"));
      await Deno.writeTextFile(join(dir, "tree", "a.txt"), "compiled end to end\n");
      const env = { PUTPLACE_API_KEY: key, NO_COLOR: "1" };
      const scan = await new Deno.Command(join(ROOT, "dist", "ppclient"), {
        args: ["scan", join(dir, "tree"), "--url", url],
        env,
      }).output();
      assert.equal(scan.code, 0, new TextDecoder().decode(scan.stderr));
      const actual = digestOf("compiled end to end\n");
      const get = await new Deno.Command(join(ROOT, "dist", "ppclient"), {
        args: ["get", actual, "-o", join(dir, "out.txt"), "--url", url],
        env,
      }).output();
      assert.equal(get.code, 0, new TextDecoder().decode(get.stderr));
      assert.equal(await Deno.readTextFile(join(dir, "out.txt")), "compiled end to end\n");
      reader.releaseLock();
    } finally {
      process.kill("SIGTERM");
      await process.status;
      await process.stderr.cancel().catch(() => {});
      await process.stdout.cancel().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
