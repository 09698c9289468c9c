import assert from "node:assert/strict";
import { formatBytes, formatSummary, ProgressReporter } from "./progress.ts";
import { ScanStats } from "../scan/stats.ts";
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

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), "condition never became true");
}

Deno.test("not on a terminal, progress comes as plain lines on stderr", async () => {
  const terminal = capturedTerminal();
  const reporter = new ProgressReporter(terminal, stats(), {
    quiet: false,
    json: false,
    verbose: false,
    plainIntervalMs: 5,
  });
  reporter.start();
  await until(() => terminal.stderr().includes("\n"));
  reporter.finish(stats().summary(false));
  const first = terminal.stderr().split("\n")[0];
  assert.match(
    first,
    /^ppclient: 4 files, 0 B read \(.*files\/s\), 1 uploaded, 1 failed \| walking \| /,
  );
  assert.ok(!/[\r]/.test(terminal.stderr()) && !terminal.stderr().includes("\x1b"));
});

Deno.test("on a terminal, one live line is redrawn and cleared before other output", async () => {
  const captured = capturedTerminal();
  const terminal = { ...captured, interactive: true, columns: () => 40 };
  const s = stats();
  s.move(null, "hashing");
  const reporter = new ProgressReporter(terminal, s, { quiet: false, json: false, verbose: false });
  reporter.start();
  await until(() => captured.stderr().includes("\r\x1b[2K"));
  reporter.problem("/p", "changed while being read");
  reporter.finish(s.summary(false));
  const err = captured.stderr();
  const live = err.split("\r\x1b[2K").filter((part) => part.startsWith("4 files"));
  assert.ok(live.length >= 1);
  assert.ok(live.every((line) => line.length < 40), "live lines fit the terminal");
  assert.ok(err.includes("\r\x1b[2Kppclient: /p: changed while being read\n"));
  assert.ok(
    err.endsWith("\n") || err.endsWith("\r\x1b[2K"),
    "no live line is left on screen at the end",
  );
});
