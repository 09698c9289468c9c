/**
 * The forms of the web UI: small urlencoded bodies from this origin only, carrying the
 * session's CSRF token, validated with a zod schema.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { readLimited } from "../limited_body.ts";
import { csrfTokenMatches, type UiSession } from "./sessions.ts";

const MAX_FORM_BYTES = 16 * 1024;

/**
 * Refuses a state-changing request that a browser says came from another site (the cookie
 * is SameSite=Strict already; this also covers sign-in, which has no session yet).
 */
export function assertSameOrigin(c: Context): void {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    throw new AppError("forbidden", `Form sent from another site (${site.slice(0, 20)})`);
  }
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== "null") {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      throw new AppError("forbidden", "Form sent with a malformed Origin");
    }
    if (host !== new URL(c.req.url).host) {
      throw new AppError("forbidden", "Form sent from another origin");
    }
  } else if (origin === "null") {
    throw new AppError("forbidden", "Form sent from an opaque origin");
  }
}

/** Reads and validates a form; with a session, its CSRF token must come along. */
export async function readForm<S extends z.ZodType>(
  c: Context,
  schema: S,
  session: UiSession | null,
): Promise<z.infer<S>> {
  assertSameOrigin(c);
  const type = c.req.header("content-type")?.split(";")[0].trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new AppError("invalid_input", "Expected a form (application/x-www-form-urlencoded)", {
      status: 415,
    });
  }
  const bytes = await readLimited(c.req.raw, MAX_FORM_BYTES);
  let fields: URLSearchParams;
  try {
    fields = new URLSearchParams(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new AppError("invalid_input", "The form is not valid UTF-8", { cause: error });
  }
  if (session && !csrfTokenMatches(session, fields.get("csrf") ?? undefined)) {
    throw new AppError(
      "forbidden",
      "The form's security token is missing or stale; reload the page and try again",
    );
  }
  const parsed = schema.safeParse(Object.fromEntries(fields));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "invalid_input",
      `Invalid form field "${issue?.path.join(".") ?? "?"}": ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}
