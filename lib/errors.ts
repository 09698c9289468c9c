/**
 * The one error type of PutPlace. Every failure that crosses a module boundary is an
 * `AppError` with a code from a closed union; HTTP status and client exit codes are
 * derived from the code in exactly one place each (`statusOf` here, the client's
 * `exitCodeOf`).
 */
export const ERROR_CODES = [
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
] as const;

export type ErrorCode = typeof ERROR_CODES[number];

const STATUS: Record<ErrorCode, number> = {
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
};

const TITLE: Record<ErrorCode, string> = {
  invalid_input: "Invalid input",
  unauthorized: "Unauthorized",
  forbidden: "Forbidden",
  not_found: "Not found",
  conflict: "Conflict",
  digest_mismatch: "Digest mismatch",
  payload_too_large: "Payload too large",
  rate_limited: "Too many requests",
  insufficient_storage: "Insufficient storage",
  unavailable: "Service unavailable",
  internal: "Internal error",
};

export class AppError extends Error {
  override readonly name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.statusOverride = options?.status;
  }
  /**
   * A more precise 4xx within the code's meaning, where HTTP has one: 422 for the classic
   * API's validation failures, 416 for an unsatisfiable range. Otherwise `statusOf`.
   */
  private readonly statusOverride?: number;

  get status(): number {
    return this.statusOverride ?? statusOf(this.code);
  }

  get title(): string {
    return TITLE[this.code];
  }
}

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

/** The error code a response status stands for, for clients reading a server's answer. */
export function codeOfStatus(status: number): ErrorCode {
  if (status === 422 || status === 400) return "invalid_input";
  for (const code of ERROR_CODES) if (STATUS[code] === status) return code;
  if (status >= 500) return "unavailable";
  return "invalid_input";
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Shortens a digest or other long value for messages: `3f2a9c1e...`. */
export function short(value: string, length = 12): string {
  return value.length > length ? `${value.slice(0, length)}...` : value;
}
