import assert from "node:assert/strict";
import {
  fitLine,
  formatBytes,
  formatSummary,
  MovingRate,
  ProgressReporter,
  RATE_WINDOW_MS,
  TransferProgress,
} from "./progress.ts";
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
    /^ppclient: ~0% 0\/4\+ files \| 0 B\/0 B\+ \| 0 B\/s \| 1 failed \| walking \| /,
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
  const live = err.split("\r\x1b[2K").filter((part) => part.startsWith("~0% 0/4+ files"));
  assert.ok(live.length >= 1);
  assert.ok(live.every((line) => line.length < 40), "live lines fit the terminal");
  assert.ok(err.includes("\r\x1b[2Kppclient: /p: changed while being read\n"));
  assert.ok(
    err.endsWith("\n") || err.endsWith("\r\x1b[2K"),
    "no live line is left on screen at the end",
  );
});

Deno.test("the live line shows the percentage, totals, rate, ETA and sent bytes once the walk is done", () => {
  const s = new ScanStats(false);
  s.scanned = 10;
  s.settled = 4;
  s.walkDone = true;
  s.foundBytes = 100 * 1024 * 1024;
  s.bytesRead = 25 * 1024 * 1024;
  s.sentBytes = 5 * 1024 * 1024;
  s.move(null, "uploading");
  let now = 0;
  const reporter = new ProgressReporter(capturedTerminal(), s, {
    quiet: false,
    json: false,
    verbose: false,
    now: () => now,
  });
  reporter.progressLine();
  now = 1000;
  s.bytesRead = 50 * 1024 * 1024;
  const line = reporter.progressLine();
  assert.match(
    line,
    /^50% 4\/10 files \| 50\.0 MiB\/100\.0 MiB \| [0-9.]+ [KMG]iB\/s \| ETA \d+:\d\d \| sent 5\.0 MiB \| uploading 1 \| /,
  );
  for (const columns of [80, 60, 40, 20]) {
    const fitted = reporter.progressLine(columns);
    assert.ok(fitted.length <= columns, `${fitted.length} > ${columns}: ${fitted}`);
    assert.match(fitted, /^50% 4\/10 files/);
  }
});

Deno.test("fitLine() keeps the parts that fit, most important first, and cuts only the first", () => {
  assert.equal(fitLine(["aaaa", "bbbb", "cc"], 0), "aaaa | bbbb | cc");
  assert.equal(fitLine(["aaaa", "bbbb", "cc"], 11), "aaaa | bbbb");
  assert.equal(fitLine(["aaaa", "bbbbbbbb", "cc"], 10), "aaaa | cc");
  assert.equal(fitLine(["aaaaaaaa", "b"], 5), "aaaaa");
  assert.equal(fitLine(["", "x"], 5), "x");
});

Deno.test("MovingRate measures the rate over the last window, not since the start", () => {
  let now = 0;
  const rate = new MovingRate(() => now);
  let value = 0;
  // 100 per second for 20 s, sampled each second as the live line is drawn.
  for (; now <= 20_000; now += 1000, value += 100) rate.sample(value);
  now -= 1000;
  value -= 100;
  assert.equal(rate.sample(value), 100);
  // Then a stall: the rate falls to 0 within the window (an average since the start would not).
  for (let i = 0; i <= RATE_WINDOW_MS / 1000; i++) {
    now += 1000;
    rate.sample(value);
  }
  assert.equal(rate.sample(value), 0);
});

Deno.test("a transfer's line (ppclient get) shows %, bytes of the total, rate and ETA, and fits", () => {
  let now = 0;
  const progress = new TransferProgress(capturedTerminal(), () => now);
  progress.total = 100 * 1024 * 1024;
  progress.line();
  now = 1000;
  progress.done = 25 * 1024 * 1024;
  const line = progress.line();
  assert.match(line, /^25% 25\.0 MiB\/100\.0 MiB \| [0-9.]+ [KMG]?i?B\/s \| ETA \d+:\d\d$/);
  assert.ok(progress.line(30).length <= 30);
  progress.total = null;
  assert.match(progress.line(), /^25\.0 MiB \| /);
});
