/**
 * The web UI's filter forms in the read API's terms: empty fields are left out, sizes may
 * be written with a unit ("10M", "1.5 GiB"), times come from `datetime-local` fields (read
 * as UTC) or as ISO dates. The result is then validated by the read API's own query
 * schemas (`lib/wire/queries.ts`), so the UI accepts exactly what the API does.
 */
import { AppError } from "../../lib/errors.ts";

const UNIT: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** "10M" -> "10485760"; plain numbers pass through. Binary units (K = 1024). */
export function sizeParam(name: string, value: string): string {
  const match = value.trim().match(/^(\d+(?:\.\d+)?)\s*([a-z]*)$/i);
  const unit = match ? UNIT[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new AppError(
      "invalid_input",
      `Invalid ${name} "${value.slice(0, 40)}": write a size such as 4096, 10K, 5M or 1.5G`,
    );
  }
  return String(Math.round(Number(match[1]) * unit));
}

/** A `datetime-local` value ("2026-11-30T08:15") as UTC ISO; other values pass through. */
export function timeParam(value: string): string {
  const trimmed = value.trim();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(trimmed)) return `${trimmed}:00Z`;
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(trimmed) ? `${trimmed}Z` : trimmed;
}

/** A `datetime-local` value (read as UTC) or an ISO time as Unix seconds, for mtime filters. */
export function unixSecondsParam(name: string, value: string): string {
  const ms = Date.parse(timeParam(value));
  if (Number.isNaN(ms)) {
    throw new AppError("invalid_input", `Invalid ${name} "${value.slice(0, 40)}": not a time`);
  }
  return String(ms / 1000);
}

export interface ParamRules {
  sizes?: readonly string[];
  times?: readonly string[];
  unixSeconds?: readonly string[];
  /** Parameters the form has but the query does not take (e.g. "fragment"). */
  drop?: readonly string[];
  /** Parameters the query takes as a list, even when given once. */
  repeatable?: readonly string[];
}

/** The URL's non-empty parameters, converted by `rules`, as the read API's query input. */
export function filterInput(
  params: URLSearchParams,
  rules: ParamRules,
): Record<string, string | string[]> {
  const input: Record<string, string | string[]> = {};
  for (const name of new Set(params.keys())) {
    if (rules.drop?.includes(name)) continue;
    const values = params.getAll(name).map((v) => v.trim()).filter((v) => v !== "").map((v) =>
      rules.sizes?.includes(name)
        ? sizeParam(name, v)
        : rules.times?.includes(name)
        ? timeParam(v)
        : rules.unixSeconds?.includes(name)
        ? unixSecondsParam(name, v)
        : v
    );
    if (rules.repeatable?.includes(name)) {
      if (values.length > 0) input[name] = values;
    } else if (values.length === 1) input[name] = values[0];
    else if (values.length > 1) input[name] = values;
  }
  return input;
}
