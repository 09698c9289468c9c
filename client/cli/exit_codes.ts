/**
 * The client's exit codes, and the one mapping from `AppError` codes to them.
 *
 * 0 all done; 1 some files failed (or the server could not be used); 2 usage or
 * configuration error; 3 authentication refused; 130 interrupted.
 */
import type { ErrorCode } from "../../lib/errors.ts";

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  authRefused: 3,
  interrupted: 130,
} as const;

export type ExitCode = typeof EXIT[keyof typeof EXIT];

const BY_CODE: Record<ErrorCode, ExitCode> = {
  invalid_input: EXIT.usage,
  unauthorized: EXIT.authRefused,
  forbidden: EXIT.authRefused,
  not_found: EXIT.failed,
  conflict: EXIT.failed,
  digest_mismatch: EXIT.failed,
  payload_too_large: EXIT.failed,
  rate_limited: EXIT.failed,
  insufficient_storage: EXIT.failed,
  unavailable: EXIT.failed,
  internal: EXIT.failed,
};

/** The exit code for a run that stopped on an `AppError` of this code. */
export function exitCodeOf(code: ErrorCode): ExitCode {
  return BY_CODE[code];
}
