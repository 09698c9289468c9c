/** The hostile-input corpus against the default stores: SQLite and an fs blob store. */
import assert from "node:assert/strict";
import { appFixture } from "../app_fixture.ts";
import { runHostileCorpus } from "./run.ts";

Deno.test("hostile corpus (SQLite + fs): every case is a 4xx problem, none a 5xx, nothing leaks, stored blobs intact", async () => {
  await using f = await appFixture();
  const report = await runHostileCorpus(f);
  assert.ok(report.cases >= 300, `${report.cases} cases`);
  assert.deepEqual(report.failures, [], report.failures.join("\n"));
  assert.deepEqual(
    f.internalErrors.map((e) => `${e} ${e instanceof Error ? e.cause : ""}`),
    [],
    "no internal error was logged",
  );
});
