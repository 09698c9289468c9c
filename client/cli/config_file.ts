/**
 * The `ppclient.conf` format: `key = value` lines, as the classic client read them.
 *
 * - Blank lines and lines starting with `#` or `;` are ignored.
 * - `[section]` headers (the classic files start with `[DEFAULT]`) are ignored.
 * - Keys are case-insensitive; `_` and `-` are the same (`api_key` = `api-key`).
 * - A key may repeat (`exclude = .git` then `exclude = *.pyc`).
 * - Values are taken verbatim after trimming; one pair of surrounding quotes is removed.
 */
import { AppError, short } from "../../lib/errors.ts";

export interface ConfigLine {
  key: string;
  value: string;
  /** 1-based line number, for messages. */
  line: number;
}

export function parseConfigFile(text: string, path: string): ConfigLine[] {
  const lines: ConfigLine[] = [];
  const rows = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (const [index, raw] of rows.entries()) {
    const row = raw.trim();
    if (row === "" || row.startsWith("#") || row.startsWith(";")) continue;
    if (/^\[[^\]]*\]$/.test(row)) continue;
    const equals = row.indexOf("=");
    if (equals <= 0) {
      throw new AppError(
        "invalid_input",
        `Config file "${path}" line ${index + 1}: expected "key = value", got "${short(row, 60)}"`,
      );
    }
    const key = row.slice(0, equals).trim().toLowerCase().replaceAll("_", "-");
    lines.push({ key, value: unquote(row.slice(equals + 1).trim()), line: index + 1 });
  }
  return lines;
}

function unquote(value: string): string {
  const quoted = value.length >= 2 && (value[0] === '"' || value[0] === "'") &&
    value.at(-1) === value[0];
  return quoted ? value.slice(1, -1) : value;
}
