/**
 * Record ids: 24 lowercase hex characters laid out like a MongoDB ObjectId: 4 bytes of
 * seconds, 5 random bytes chosen once per process, a 3-byte counter. Ids from every
 * metadata store look alike on the wire, sort by creation time, and ids made by one
 * process increase, so index inserts append instead of landing on random pages.
 */
import { randomBytes, randomInt } from "node:crypto";

const PROCESS_PART = randomBytes(5).toString("hex");
const COUNTER_LIMIT = 0x1000000;
let counter = randomInt(COUNTER_LIMIT);

export function newId(now = Date.now()): string {
  counter = (counter + 1) % COUNTER_LIMIT;
  const seconds = Math.floor(now / 1000).toString(16).padStart(8, "0");
  return seconds + PROCESS_PART + counter.toString(16).padStart(6, "0");
}

export function isId(value: string): boolean {
  return /^[0-9a-f]{24}$/.test(value);
}
