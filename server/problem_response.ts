/** Turns any thrown value into a problem+json response that leaks nothing internal. */
import { z } from "zod";
import { AppError } from "../lib/errors.ts";
import { type Problem, PROBLEM_CONTENT_TYPE, problemOf } from "../lib/models/problem.ts";

/** Validation failures of request bodies: 422 as in the classic API. */
export function validationError(error: z.ZodError, what: string): AppError {
  const first = error.issues[0];
  const where = first && first.path.length > 0 ? ` at "${first.path.join(".")}"` : "";
  const app = new AppError(
    "invalid_input",
    `Invalid ${what}${where}: ${first?.message ?? "does not match the schema"}`,
    { status: 422, cause: error },
  );
  return app;
}

export function issuesOf(error: AppError): Problem["errors"] {
  const cause = error.cause;
  if (!(cause instanceof z.ZodError)) return undefined;
  return cause.issues.slice(0, 20).map((issue) => ({
    path: issue.path.join("."),
    message: issue.message,
  }));
}

export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError("internal", "Internal error: the request could not be completed", {
    cause: error,
  });
}

export function problemResponse(error: AppError, headers?: HeadersInit): Response {
  const body = problemOf(error, issuesOf(error));
  const responseHeaders = new Headers(headers);
  responseHeaders.set("content-type", PROBLEM_CONTENT_TYPE);
  if (error.code === "unauthorized") responseHeaders.set("www-authenticate", "ApiKey");
  return new Response(JSON.stringify(body), { status: error.status, headers: responseHeaders });
}
