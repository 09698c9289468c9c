/** The errors of the filesystem blob store: `unavailable`, naming no path. */
import { AppError } from "../errors.ts";

export function unavailable(action: string, error: unknown): AppError {
  return new AppError("unavailable", `Blob store cannot ${action}: ${describe(error)}`, {
    cause: error,
  });
}

/** Error class name only: never a path or an OS message with paths in it. */
export function describe(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotFound) return "not found";
  if (error instanceof Error) return error.name;
  return "unknown error";
}
