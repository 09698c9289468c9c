/**
 * True when a `node:sqlite` error says the disk is full: SQLITE_FULL (13), also as the
 * primary code of an extended one. Errors of `exec()` carry no code, only SQLite's text for
 * it, so that is read too.
 */
export function isSqliteFull(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  if ("errcode" in error && typeof error.errcode === "number") return (error.errcode & 0xff) === 13;
  return error instanceof Error && error.message === "database or disk is full";
}
