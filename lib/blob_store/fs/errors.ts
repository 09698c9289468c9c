/**
 * The errors of the filesystem blob store, naming no path: a full disk is
 * `insufficient_storage` (507), any other failure `unavailable`.
 */
import { AppError } from "../../errors.ts";
import { fsErrorName, isNoSpace } from "../../fs_error_name.ts";
import { isSqliteFull } from "../../sqlite_full.ts";

export function unavailable(action: string, error: unknown): AppError {
  if (isNoSpace(error) || isSqliteFull(error)) {
    return new AppError("insufficient_storage", "No space left on the blob store", {
      cause: error,
    });
  }
  return new AppError("unavailable", `Blob store cannot ${action}: ${fsErrorName(error)}`, {
    cause: error,
  });
}
