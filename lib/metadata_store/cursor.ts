/**
 * Opaque page cursors: the sort key of the last item of a page, tagged with the query it
 * belongs to, as base64url JSON. Clients must treat them as opaque; a cursor that was not
 * made by the same query is `invalid_input`.
 */
import { Buffer } from "node:buffer";
import { z } from "zod";
import { AppError } from "../errors.ts";
import type { Page } from "./inventory.ts";

const MAX_CURSOR_LENGTH = 8192;

export function encodeCursor(query: string, key: readonly unknown[]): string {
  return Buffer.from(JSON.stringify([query, ...key]), "utf8").toString("base64url");
}

/** The key of a cursor made by `encodeCursor(query, key)`, checked against `schema`. */
export function decodeCursor<T extends z.ZodTypeAny>(
  query: string,
  cursor: string,
  schema: T,
): z.output<T> {
  const invalid = () =>
    new AppError(
      "invalid_input",
      `Invalid cursor for ${query}: use the next_cursor of a page of the same query`,
    );
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value[0] !== query) throw invalid();
  const parsed = schema.safeParse(value.slice(1));
  if (!parsed.success) throw invalid();
  return parsed.data;
}

/** A page of `items`; its cursor points after the last one when there are `more`. */
export function pageOf<T>(items: T[], more: boolean, cursorOf: (last: T) => string): Page<T> {
  const last = items[items.length - 1];
  return { items, next_cursor: more && last !== undefined ? cursorOf(last) : null };
}
