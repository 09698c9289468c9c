/** The errors of the SQLite metadata store: driver failures become `unavailable`, without details. */
import { AppError } from "../../errors.ts";
import { isNoSpace } from "../../fs_error_name.ts";
import { isSqliteFull } from "../../sqlite_full.ts";

/** Runs a synchronous SQLite call; a failure becomes the error callers see. */
export function run<T>(body: () => T): Promise<T> {
  try {
    return Promise.resolve(body());
  } catch (error) {
    return Promise.reject(storeError(error));
  }
}

export function storeError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isSqliteFull(error) || isNoSpace(error)) {
    return new AppError("insufficient_storage", "No space left on the metadata store", {
      cause: error,
    });
  }
  return new AppError("unavailable", "Metadata store failed", { cause: error });
}

/** SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null || !("errcode" in error)) return false;
  return error.errcode === 2067 || error.errcode === 1555;
}
