/**
 * How the S3 blob store reads the SDK's failures: which ones mean "absent", "exists" or
 * "try again", and how the rest become `AppError`s whose messages carry no SDK text.
 */
import { AppError } from "../../errors.ts";

/** The HTTP status of an S3 error response, when there was one. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("$metadata" in error)) return undefined;
  const metadata = error.$metadata;
  if (typeof metadata !== "object" || metadata === null || !("httpStatusCode" in metadata)) {
    return undefined;
  }
  return typeof metadata.httpStatusCode === "number" ? metadata.httpStatusCode : undefined;
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : "";
}

/** The key (or bucket) does not exist. */
export function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404 || ["NoSuchKey", "NotFound"].includes(nameOf(error));
}

/** `If-None-Match: *` refused the write: the key exists. */
export function isPreconditionFailed(error: unknown): boolean {
  return statusOf(error) === 412 || nameOf(error) === "PreconditionFailed";
}

/** S3's answer to two conditional writes of one key at the same moment: retry. */
export function isConditionalConflict(error: unknown): boolean {
  return statusOf(error) === 409 && nameOf(error) === "ConditionalRequestConflict";
}

/** Network failures: nothing answered. */
function isUnreachable(error: unknown): boolean {
  if (statusOf(error) !== undefined) return false;
  const code = typeof error === "object" && error !== null && "code" in error
    ? String(error.code)
    : "";
  return /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE)$/
    .test(code) ||
    ["TimeoutError", "RequestTimeout"].includes(nameOf(error)) ||
    /ECONNREFUSED|ENOTFOUND|getaddrinfo|socket hang up|connect/i.test(
      error instanceof Error ? error.message : "",
    );
}

/** Why S3 refused, in words an operator can act on (no SDK text). */
export function reasonOf(error: unknown, bucket: string): string {
  const status = statusOf(error);
  const name = nameOf(error);
  if (name === "NoSuchBucket" || (status === 404 && name === "NotFound")) {
    return `bucket "${bucket}" does not exist`;
  }
  if (name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch") {
    return "the credentials are not valid";
  }
  if (status === 403 || name === "AccessDenied" || name === "Forbidden") {
    return `access to bucket "${bucket}" is denied (check the credentials and the bucket policy)`;
  }
  if (status === 301 || name === "PermanentRedirect" || name === "AuthorizationHeaderMalformed") {
    return `bucket "${bucket}" is in another region (check S3_REGION_NAME)`;
  }
  if (name === "CredentialsProviderError") return "no AWS credentials were found";
  if (isUnreachable(error)) return "the S3 endpoint cannot be reached";
  if (status !== undefined) return `S3 answered ${status}${name ? ` (${name})` : ""}`;
  return name || "unknown error";
}

/** A failure of one blob store call as `unavailable`, the SDK error kept as cause. */
export function unavailable(action: string, error: unknown, bucket: string): AppError {
  if (error instanceof AppError) return error;
  return new AppError("unavailable", `Blob store cannot ${action}: ${reasonOf(error, bucket)}`, {
    cause: error,
  });
}
