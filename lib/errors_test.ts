import assert from "node:assert/strict";
import { AppError, codeOfStatus, ERROR_CODES, isAppError, short, statusOf } from "./errors.ts";

Deno.test("the error codes are the closed list of the design", () => {
  assert.deepEqual([...ERROR_CODES], [
    "invalid_input",
    "unauthorized",
    "forbidden",
    "not_found",
    "conflict",
    "digest_mismatch",
    "payload_too_large",
    "rate_limited",
    "insufficient_storage",
    "unavailable",
    "internal",
  ]);
});

Deno.test("statusOf() maps each code to its HTTP status", () => {
  assert.deepEqual(Object.fromEntries(ERROR_CODES.map((code) => [code, statusOf(code)])), {
    invalid_input: 400,
    unauthorized: 401,
    forbidden: 403,
    not_found: 404,
    conflict: 409,
    digest_mismatch: 400,
    payload_too_large: 413,
    rate_limited: 429,
    insufficient_storage: 507,
    unavailable: 503,
    internal: 500,
  });
});

Deno.test("codeOfStatus() reads a status back as the code a client acts on", () => {
  for (const code of ERROR_CODES) {
    const expected = code === "digest_mismatch" ? "invalid_input" : code;
    assert.equal(codeOfStatus(statusOf(code)), expected, code);
  }
  assert.equal(codeOfStatus(422), "invalid_input");
  assert.equal(codeOfStatus(502), "unavailable");
  assert.equal(codeOfStatus(504), "unavailable");
  assert.equal(codeOfStatus(418), "invalid_input");
});

Deno.test("AppError carries code, message, title, status and cause", () => {
  const cause = new Error("driver said no");
  const error = new AppError("unavailable", "Metadata store failed", { cause });
  assert.ok(error instanceof Error);
  assert.equal(error.name, "AppError");
  assert.equal(error.code, "unavailable");
  assert.equal(error.message, "Metadata store failed");
  assert.equal(error.title, "Service unavailable");
  assert.equal(error.status, 503);
  assert.equal(error.cause, cause);
  assert.equal("cause" in new AppError("internal", "x"), false, "no cause unless given");
});

Deno.test("AppError takes a status override for the classic 422 and keeps its code", () => {
  const error = new AppError("invalid_input", "Invalid file metadata", { status: 422 });
  assert.equal(error.status, 422);
  assert.equal(error.code, "invalid_input");
  assert.equal(new AppError("invalid_input", "x").status, 400);
});

Deno.test("isAppError() tells AppErrors from other values", () => {
  assert.equal(isAppError(new AppError("internal", "x")), true);
  assert.equal(isAppError(new Error("x")), false);
  assert.equal(isAppError({ code: "internal", message: "x" }), false);
  assert.equal(isAppError(undefined), false);
});

Deno.test("short() shortens long values for messages and leaves short ones alone", () => {
  assert.equal(short("3f2a9c1e00112233445566778899"), "3f2a9c1e0011...");
  assert.equal(short("abc"), "abc");
  assert.equal(short("a".repeat(12)), "a".repeat(12));
  assert.equal(short("abcdef", 3), "abc...");
});
