/** The release workflow is valid GitHub Actions (actionlint, installed by .ci/provision). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const cache = Deno.env.get("PUTPLACE_CI_CACHE") ??
  join(Deno.env.get("HOME") ?? "/", ".cache", "putplace-ci");
const actionlint = join(cache, "bin", "actionlint");
const installed = await Deno.stat(actionlint).then((s) => s.isFile, () => false);

Deno.test({
  name: "actionlint finds nothing wrong in .github/workflows" +
    (installed ? "" : ` (ignored: no ${actionlint}; run .ci/provision)`),
  ignore: !installed,
  async fn() {
    const output = await new Deno.Command(actionlint, {
      args: ["-no-color", ".github/workflows/release.yml"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    assert.equal(
      output.code,
      0,
      decoder.decode(output.stdout) + decoder.decode(output.stderr),
    );
  },
});

Deno.test("the release workflow builds with the task this repository tests", async () => {
  const workflow = await Deno.readTextFile(join(ROOT, ".github", "workflows", "release.yml"));
  assert.match(workflow, /run: deno task release/);
  const tasks = z.object({ tasks: z.object({ release: z.object({ command: z.string() }) }) })
    .parse(JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")))).tasks;
  assert.match(tasks.release.command, /deploy\/compile\.ts --release/);
});
