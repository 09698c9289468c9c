/**
 * Record ids: 24 lowercase hex characters shaped like a MongoDB ObjectId (4 bytes of
 * seconds, 8 random bytes), so ids from every metadata store look alike on the wire and
 * sort by creation time.
 */
import { randomBytes } from "node:crypto";

export function newId(now = Date.now()): string {
  const seconds = Math.floor(now / 1000).toString(16).padStart(8, "0");
  return seconds + randomBytes(8).toString("hex");
}

export function isId(value: string): boolean {
  return /^[0-9a-f]{24}$/.test(value);
}
