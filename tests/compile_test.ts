/**
 * `deno compile` builds each of ppserver and ppclient into one executable. Compiling needs
 * a Deno runtime base ("denort"); where it cannot be downloaded, point DENORT_BIN at one.
 */
import assert from "node:assert/strict";

const runtimeBase = Deno.env.get("DENORT_BIN") ?? "";
const ignore = runtimeBase === "";
const reason = "deno compile needs a runtime base it cannot download here; set DENORT_BIN";

for (const binary of ["ppserver", "ppclient"]) {
  Deno.test({
    name: `deno task compile:${binary} builds a standalone executable that prints its help` +
      (ignore ? ` (ignored: ${reason})` : ""),
    ignore,
    async fn() {
      const compile = await new Deno.Command(Deno.execPath(), {
        args: ["task", `compile:${binary}`],
        cwd: new URL("..", import.meta.url),
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(compile.code, 0, new TextDecoder().decode(compile.stderr));
      const help = await new Deno.Command(new URL(`../dist/${binary}`, import.meta.url), {
        args: ["--help"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(help.code, 0);
      assert.match(new TextDecoder().decode(help.stdout), new RegExp(binary));
    },
  });
}
