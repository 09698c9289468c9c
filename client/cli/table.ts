/**
 * Results on stdout in one of three forms: an aligned table (for people), JSON (one object
 * per line for lists, so scripts can stream them) or CSV (a header, then one row per item).
 */
import type { Terminal } from "./terminal.ts";

export type OutputFormat = "table" | "json" | "csv";

export interface Column<T> {
  header: string;
  value: (row: T) => string | number;
  /** Numbers read best right-aligned. */
  right?: boolean;
}

/** The format asked for with `--json` / `--csv` (never both). */
export function outputFormat(values: { json?: boolean; csv?: boolean }): OutputFormat {
  return values.json ? "json" : values.csv ? "csv" : "table";
}

/** Writes every row; answers how many there were. */
export async function writeRows<T>(
  terminal: Terminal,
  format: OutputFormat,
  columns: Column<T>[],
  rows: AsyncIterable<T>,
  jsonOf: (row: T) => unknown = (row) => row,
): Promise<number> {
  let count = 0;
  if (format === "json") {
    for await (const row of rows) {
      terminal.out(`${JSON.stringify(jsonOf(row))}\n`);
      count++;
    }
    return count;
  }
  if (format === "csv") {
    terminal.out(`${columns.map((c) => csvField(c.header)).join(",")}\r\n`);
    for await (const row of rows) {
      terminal.out(`${columns.map((c) => csvField(String(c.value(row)))).join(",")}\r\n`);
      count++;
    }
    return count;
  }
  const cells: string[][] = [];
  for await (const row of rows) cells.push(columns.map((c) => String(c.value(row))));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((line) => line[i].length))
  );
  const line = (values: string[]) =>
    values.map((v, i) => {
      const last = i === values.length - 1;
      if (columns[i].right) return v.padStart(widths[i]);
      return last ? v : v.padEnd(widths[i]);
    }).join("  ").trimEnd() + "\n";
  terminal.out(line(columns.map((c) => c.header)));
  for (const values of cells) terminal.out(line(values));
  return cells.length;
}

/** One object: `key  value` lines, or JSON, or a two-column CSV. */
export function writeRecord(
  terminal: Terminal,
  format: OutputFormat,
  fields: [string, string | number | null][],
  json: unknown,
): void {
  if (format === "json") {
    terminal.out(`${JSON.stringify(json)}\n`);
    return;
  }
  if (format === "csv") {
    terminal.out("field,value\r\n");
    for (const [key, value] of fields) {
      terminal.out(`${csvField(key)},${csvField(value === null ? "" : String(value))}\r\n`);
    }
    return;
  }
  const width = Math.max(...fields.map(([key]) => key.length));
  for (const [key, value] of fields) {
    terminal.out(`${key.padEnd(width)}  ${value === null ? "-" : value}\n`);
  }
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** A Unix time in seconds as a short local-independent UTC time. */
export function formatTime(value: string | number | null): string {
  if (value === null) return "-";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime())
    ? String(value)
    : date.toISOString().slice(0, 19).replace("T", " ");
}
