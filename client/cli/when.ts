/**
 * Times and sizes as people type them on the command line: `24h`, `7d`, `2026-01-31`,
 * `2026-01-31T08:00:00Z`; `10M`, `1.5G`, `10M..1G`, `+10M` (at least), `-1K` (at most).
 * Sizes use binary units (K = 1024 bytes).
 */
import { AppError } from "../../lib/errors.ts";

const DURATION_UNITS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** A time: a duration ago (`90s`, `30m`, `24h`, `7d`, `2w`) or an ISO 8601 date or time. */
export function parseWhen(text: string, now: Date, flag: string): Date {
  const duration = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (duration) {
    return new Date(now.getTime() - Number(duration[1]) * DURATION_UNITS[duration[2]]);
  }
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text)
    ? `${text}T00:00:00Z`
    : /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(text)
    ? text.replace(" ", "T")
    : null;
  const date = iso === null ? null : new Date(iso);
  if (date === null || Number.isNaN(date.getTime())) {
    throw new AppError(
      "invalid_input",
      `Invalid ${flag} "${text}": expected a duration ago (30m, 24h, 7d) or an ISO date or time (2026-01-31, 2026-01-31T08:00:00Z)`,
    );
  }
  return date;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

/** A size in bytes: `512`, `10K`, `1.5M`, `2G` (also `10KiB`, `10kb`). */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  const bytes = match ? Math.round(Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()]) : NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new AppError(
      "invalid_input",
      `Invalid ${flag} "${text}": expected a size such as 512, 10K, 1.5M or 2G`,
    );
  }
  return bytes;
}

/** `N` (exactly), `+N` (at least), `-N` (at most), `A..B`, `A..`, `..B`. */
export function parseSizeRange(text: string, flag: string): { min?: number; max?: number } {
  const trimmed = text.trim();
  let range: { min?: number; max?: number };
  if (trimmed.includes("..")) {
    const [low, high] = trimmed.split("..", 2);
    range = {
      min: low === "" ? undefined : parseSize(low, flag),
      max: high === "" ? undefined : parseSize(high, flag),
    };
  } else if (trimmed.startsWith("+")) {
    range = { min: parseSize(trimmed.slice(1), flag) };
  } else if (trimmed.startsWith("-")) {
    range = { max: parseSize(trimmed.slice(1), flag) };
  } else {
    const exact = parseSize(trimmed, flag);
    range = { min: exact, max: exact };
  }
  if (range.min === undefined && range.max === undefined) {
    throw new AppError("invalid_input", `Invalid ${flag} "${text}": give at least one bound`);
  }
  if (range.min !== undefined && range.max !== undefined && range.min > range.max) {
    throw new AppError("invalid_input", `Invalid ${flag} "${text}": the lower bound is larger`);
  }
  return range;
}

/** `HOST:PATH` (the path absolute); the host may not be empty. */
export function parseHostPath(text: string): { hostname: string; path: string } {
  const colon = text.indexOf(":");
  const hostname = colon > 0 ? text.slice(0, colon) : "";
  const path = colon > 0 ? text.slice(colon + 1) : "";
  if (hostname === "" || path === "") {
    throw new AppError(
      "invalid_input",
      `Invalid location "${text}": expected HOST:PATH, e.g. web-01:/srv/www`,
    );
  }
  return { hostname, path };
}
