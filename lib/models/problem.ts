/**
 * The one error body on the wire: RFC 9457 problem details. `detail` keeps classic
 * clients (which read `detail`) working.
 */
import { z } from "zod";
import { AppError, ERROR_CODES, type ErrorCode } from "../errors.ts";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.enum(ERROR_CODES).optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof problemSchema>;

export function problemOf(error: AppError, errors?: Problem["errors"]): Problem {
  return {
    type: `https://putplace.dev/problems/${error.code.replaceAll("_", "-")}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code as ErrorCode,
    ...(errors ? { errors } : {}),
  };
}
