import assert from "node:assert/strict";
import { AppError } from "../../errors.ts";
import {
  isConditionalConflict,
  isNotFound,
  isPreconditionFailed,
  reasonOf,
  unavailable,
} from "./errors.ts";

/** An error shaped like the SDK's service exceptions: a name and `$metadata.httpStatusCode`. */
function s3Error(name: string, status: number | undefined, message = "SDK text"): Error {
  const error = new Error(message);
  error.name = name;
  return Object.assign(error, {
    $metadata: status === undefined ? {} : { httpStatusCode: status },
  });
}

Deno.test("reasonOf() says what is wrong with the bucket in an operator's words", () => {
  assert.equal(reasonOf(s3Error("NoSuchBucket", 404), "b"), 'bucket "b" does not exist');
  assert.equal(reasonOf(s3Error("NotFound", 404), "b"), 'bucket "b" does not exist');
  assert.match(reasonOf(s3Error("AccessDenied", 403), "b"), /^access to bucket "b" is denied/);
  assert.match(reasonOf(s3Error("Forbidden", 403), "b"), /is denied/);
  assert.match(reasonOf(s3Error("PermanentRedirect", 301), "b"), /another region/);
  assert.equal(reasonOf(s3Error("InvalidAccessKeyId", 403), "b"), "the credentials are not valid");
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), {
    code: "ECONNREFUSED",
  });
  assert.equal(reasonOf(refused, "b"), "the S3 endpoint cannot be reached");
  assert.equal(reasonOf(s3Error("InternalError", 500), "b"), "S3 answered 500 (InternalError)");
});

Deno.test("unavailable() keeps SDK text out of the message and passes AppErrors through", () => {
  const error = unavailable("read", s3Error("SlowDown", 503, "secret detail"), "b");
  assert.equal(error.code, "unavailable");
  assert.equal(error.message, "Blob store cannot read: S3 answered 503 (SlowDown)");
  const own = new AppError("digest_mismatch", "mine");
  assert.equal(unavailable("write", own, "b"), own);
});

Deno.test("the SDK's answers are read as absent, exists and retry", () => {
  assert.equal(isNotFound(s3Error("NoSuchKey", 404)), true);
  assert.equal(isNotFound(s3Error("AccessDenied", 403)), false);
  assert.equal(isPreconditionFailed(s3Error("PreconditionFailed", 412)), true);
  assert.equal(isConditionalConflict(s3Error("ConditionalRequestConflict", 409)), true);
  assert.equal(isConditionalConflict(s3Error("BucketNotEmpty", 409)), false);
});
