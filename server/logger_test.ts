import assert from "node:assert/strict";
import { createLogger } from "./logger.ts";
import type { RequestRecord } from "./request_record.ts";

const record: RequestRecord = {
  time: new Date("2026-11-30T01:02:03.456Z"),
  method: "PUT",
  path: "/v1/blobs/abc",
  route: "/v1/blobs/:digest",
  status: 201,
  bytesIn: 10,
  bytesOut: 74,
  durationMs: 12.34567,
  remote: "10.0.0.5",
  keyId: "k1",
};

function capture(format: "text" | "json", level: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  return { lines, logger: createLogger({ format, level, write: (line) => lines.push(line) }) };
}

Deno.test("a JSON access line carries every field, the request's own time, and one line", () => {
  const { lines, logger } = capture("json", "info");
  logger.request(record);
  assert.equal(lines.length, 1);
  assert.ok(lines[0].endsWith("\n"));
  assert.deepEqual(JSON.parse(lines[0]), {
    time: "2026-11-30T01:02:03.456Z",
    level: "info",
    msg: "request",
    method: "PUT",
    route: "/v1/blobs/:digest",
    path: "/v1/blobs/abc",
    status: 201,
    bytes_in: 10,
    bytes_out: 74,
    duration_ms: 12.346,
    key_id: "k1",
    remote: "10.0.0.5",
  });
});

Deno.test("a text line puts the request first and quotes values with spaces", () => {
  const { lines, logger } = capture("text", "debug");
  logger.request({ ...record, keyId: null });
  assert.equal(
    lines[0],
    "2026-11-30T01:02:03.456Z INFO  PUT /v1/blobs/abc 201 route=/v1/blobs/:digest bytes_in=10 " +
      "bytes_out=74 duration_ms=12.346 remote=10.0.0.5\n",
  );
  logger.log("warn", "Closed a connection", { reason: "no complete request head" });
  assert.match(lines[1], / WARN {2}Closed a connection reason="no complete request head"\n$/);
});

Deno.test("lines below the level are left out", () => {
  const { lines, logger } = capture("json", "warn");
  logger.request(record);
  logger.log("info", "started");
  logger.log("error", "failed");
  assert.deepEqual(lines.map((line) => JSON.parse(line).msg), ["failed"]);
});
