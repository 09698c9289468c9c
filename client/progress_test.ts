import assert from "node:assert/strict";
import { formatBytes, formatSummary, ProgressReporter } from "./progress.ts";
import { ScanStats } from "./scan_stats.ts";
import { capturedTerminal } from "./terminal.ts";

function stats(): ScanStats {
  const s = new ScanStats(false);
  s.scanned = 4;
  s.hashed = 3;
  s.registered = 3;
  s.scannedBytes = 2048;
  s.uploaded = 1;
  s.uploadedBytes = 1024;
  s.deduplicated = 2;
  s.skip("symlink");
  s.skip("excluded");
  s.fail("unreadable");
  return s;
}

Deno.test("the text summary goes to stdout and names every count", () => {
  const terminal = capturedTerminal();
  const reporter = new ProgressReporter(terminal, stats(), {
    quiet: false,
    json: false,
    verbose: false,
  });
  reporter.start();
  reporter.problem("/a/b", "permission denied");
  reporter.finish(stats().summary(false));
  assert.match(terminal.stdout(), /scanned +4 files, 2\.0 KiB/);
  assert.match(terminal.stdout(), /registered +3/);
  assert.match(terminal.stdout(), /uploaded +1 files, 1\.0 KiB/);
  assert.match(terminal.stdout(), /deduplicated +2/);
  assert.match(terminal.stdout(), /skipped +2 \(symlink 1, excluded 1\)/);
  assert.match(terminal.stdout(), /failed +1 \(unreadable 1\)/);
  assert.equal(terminal.stderr(), "ppclient: /a/b: permission denied\n");
});

Deno.test("--json prints one JSON summary even with --quiet; --quiet hides the text summary", () => {
  const json = capturedTerminal();
  new ProgressReporter(json, stats(), { quiet: true, json: true, verbose: false })
    .finish(stats().summary(true));
  const summary = JSON.parse(json.stdout());
  assert.equal(summary.interrupted, true);
  assert.equal(summary.failed, 1);
  assert.deepEqual(summary.skipped_by_reason, { symlink: 1, excluded: 1 });

  const quiet = capturedTerminal();
  const reporter = new ProgressReporter(quiet, stats(), {
    quiet: true,
    json: false,
    verbose: true,
  });
  reporter.notice("hidden");
  reporter.problem("/x", "still shown");
  reporter.finish(stats().summary(false));
  assert.equal(quiet.stdout(), "");
  assert.equal(quiet.stderr(), "ppclient: /x: still shown\n");
});

Deno.test("an interrupted summary says it is partial", () => {
  assert.match(formatSummary(stats().summary(true)), /interrupted, partial summary/);
});

Deno.test("formatBytes() uses binary units", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(5 * 1024 ** 3), "5.0 GiB");
});
