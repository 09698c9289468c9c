import assert from "node:assert/strict";
import { didYouMean, editDistance } from "./did_you_mean.ts";

Deno.test("editDistance() counts inserts, deletes, substitutions and swaps of neighbours", () => {
  assert.equal(editDistance("scan", "scan"), 0);
  assert.equal(editDistance("scna", "scan"), 1);
  assert.equal(editDistance("sca", "scan"), 1);
  assert.equal(editDistance("scam", "scan"), 1);
  assert.equal(editDistance("", "get"), 3);
});

Deno.test("didYouMean() answers the closest candidate within a typo's reach, else null", () => {
  const commands = ["scan", "get", "hosts", "find", "completions"];
  assert.equal(didYouMean("scna", commands), "scan");
  assert.equal(didYouMean("hsots", commands), "hosts");
  assert.equal(didYouMean("completion", commands), "completions");
  assert.equal(didYouMean("backup", commands), null);
  assert.equal(didYouMean("--colour", ["--color", "--config"]), "--color");
  assert.equal(didYouMean("--jsn", ["--json", "--jobs"]), "--json");
});
