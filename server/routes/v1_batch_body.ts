/**
 * Validation of /v1 batch envelopes: a list longer than its cap is 413 (like a body over
 * the byte cap), any other mismatch is 422.
 */
import type { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { validationError } from "../problem_response.ts";

/** The 413 for an array over its `.max()` cap at the top of the envelope, if that is the issue. */
export function tooManyItems(error: z.ZodError, what: string): AppError | null {
  const issue = error.issues.find((i) => i.code === "too_big" && i.path.length === 1);
  if (!issue || issue.code !== "too_big" || issue.origin !== "array") return null;
  return new AppError(
    "payload_too_large",
    `Too many items in "${String(issue.path[0])}" of the ${what}: at most ${issue.maximum}`,
  );
}

/** Parses a whole batch envelope: 413 over a list cap, 422 for anything else. */
export function parseBatch<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw tooManyItems(parsed.error, what) ?? validationError(parsed.error, what);
}
