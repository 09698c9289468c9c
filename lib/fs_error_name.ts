/** True when a filesystem error says the disk (or the user's quota) is full. */
export function isNoSpace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** What a filesystem error is, for messages: never a path or an OS message with paths in it. */
export function fsErrorName(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotFound) return "not found";
  if (error instanceof Error) return error.name;
  return "unknown error";
}
