/**
 * Reads a JSON request body (whatever its declared content type, as curl -d sends) under a
 * byte limit and validates it with a zod schema. A string that is not valid Unicode is 400,
 * naming its field, before the schema is asked.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../lib/errors.ts";
import { validationError } from "./problem_response.ts";
import { readLimited } from "./limited_body.ts";
import { illFormedTextAt } from "../lib/wire/text.ts";

export async function readJson<S extends z.ZodType>(
  c: Context,
  schema: S,
  maxBytes: number,
  what = "request body",
): Promise<z.infer<S>> {
  const bytes = await readLimited(c.req.raw, maxBytes);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new AppError("invalid_input", `Malformed JSON in ${what}`, { status: 422, cause: error });
  }
  const illFormed = illFormedTextAt(value);
  if (illFormed !== null) throw notUnicode(what, illFormed);
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, what);
  return parsed.data;
}

/** 400 for text that is not valid Unicode (see lib/wire/text.ts): it could not be kept exactly. */
export function notUnicode(what: string, path: string): AppError {
  const where = path === "" ? "" : ` at "${path}"`;
  return new AppError(
    "invalid_input",
    `Invalid ${what}${where}: not valid Unicode (a lone UTF-16 surrogate); text is stored ` +
      "exactly, so text that cannot be is refused",
  );
}
