/** Reads a JSON request body (whatever its declared content type, as curl -d sends) under a byte limit and validates it with a zod schema. */
import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../lib/errors.ts";
import { validationError } from "./problem_response.ts";
import { readLimited } from "./limited_body.ts";

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
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, what);
  return parsed.data;
}
