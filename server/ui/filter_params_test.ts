import assert from "node:assert/strict";
import { filterInput, sizeParam, timeParam, unixSecondsParam } from "./filter_params.ts";

Deno.test("sizeParam reads bytes and binary units", () => {
  assert.equal(sizeParam("min_size", "4096"), "4096");
  assert.equal(sizeParam("min_size", "10K"), "10240");
  assert.equal(sizeParam("min_size", "1.5 GiB"), String(1.5 * 1024 ** 3));
  assert.equal(sizeParam("min_size", "5mb"), String(5 * 1024 ** 2));
  assert.throws(() => sizeParam("min_size", "lots"), /Invalid min_size "lots"/);
  assert.throws(() => sizeParam("min_size", "-1"), /Invalid min_size/);
  assert.throws(() => sizeParam("min_size", "3X"), /Invalid min_size/);
});

Deno.test("timeParam reads a datetime-local value as UTC and passes other times on", () => {
  assert.equal(timeParam("2026-11-30T08:15"), "2026-11-30T08:15:00Z");
  assert.equal(timeParam("2026-11-30T08:15:30"), "2026-11-30T08:15:30Z");
  assert.equal(timeParam("2026-11-30"), "2026-11-30");
  assert.equal(timeParam("2026-11-30T08:15:00+02:00"), "2026-11-30T08:15:00+02:00");
  assert.equal(unixSecondsParam("mtime_from", "1970-01-01T00:01"), "60");
  assert.throws(() => unixSecondsParam("mtime_from", "yesterday"), /not a time/);
});

Deno.test("filterInput drops empty fields and converts by rule", () => {
  const params = new URLSearchParams(
    "q=log&host=&min_size=1K&fragment=1&mtime_from=1970-01-01T00:00&host2=a&host2=b",
  );
  assert.deepEqual(
    filterInput(params, { sizes: ["min_size"], unixSeconds: ["mtime_from"], drop: ["fragment"] }),
    { q: "log", min_size: "1024", mtime_from: "0", host2: ["a", "b"] },
  );
  assert.deepEqual(
    filterInput(new URLSearchParams("host=web-01"), { repeatable: ["host"] }),
    { host: ["web-01"] },
  );
});
