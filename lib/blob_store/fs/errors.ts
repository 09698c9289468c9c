/** The errors of the filesystem blob store: `unavailable`, naming no path. */
import { AppError } from "../../errors.ts";
import { fsErrorName } from "../../fs_error_name.ts";

export function unavailable(action: string, error: unknown): AppError {
  return new AppError("unavailable", `Blob store cannot ${action}: ${fsErrorName(error)}`, {
    cause: error,
  });
}
