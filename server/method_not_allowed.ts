/**
 * 405 for a documented /v1 path asked with a method it does not have: a problem+json
 * answer with an `Allow` header listing the methods its documented operations have
 * (GET implies HEAD). Paths nobody documented stay 404.
 */
import type { Hono } from "hono";
import { AppError } from "../lib/errors.ts";
import type { Operation } from "./openapi.ts";
import { problemResponse } from "./problem_response.ts";

/** Registers the 405 answers on `app`, after the routes themselves. */
export function answerMethodNotAllowed(
  // deno-lint-ignore no-explicit-any
  app: Hono<any>,
  operations: readonly Pick<Operation, "method" | "path">[],
): void {
  const paths = [...new Set(operations.map((operation) => operation.path))];
  const patterns = paths.map((path) => ({ path, regex: patternOf(path) }));
  for (const path of paths) {
    app.all(path.replaceAll(/\{(\w+)\}/g, ":$1"), (c) => {
      const requested = new URL(c.req.url).pathname;
      const matched = patterns.filter(({ regex }) => regex.test(requested)).map((p) => p.path);
      // A literal path (`/v1/blobs/batch`) wins over a template (`/v1/blobs/{digest}`).
      const literal = matched.filter((path) => !path.includes("{"));
      const matching = new Set(literal.length > 0 ? literal : matched);
      const allowed = new Set<string>();
      for (const operation of operations) {
        if (!matching.has(operation.path)) continue;
        allowed.add(operation.method.toUpperCase());
        if (operation.method === "get") allowed.add("HEAD");
      }
      const allow = [...allowed].sort().join(", ");
      return problemResponse(
        new AppError(
          "invalid_input",
          `Method ${c.req.method} is not allowed on ${requested}; allowed: ${allow}`,
          { status: 405 },
        ),
        { allow },
      );
    });
  }
}

function patternOf(path: string): RegExp {
  const escaped = path.replaceAll(/[.*+?^$()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped.replaceAll(/\\?\{\w+\}/g, "[^/]+")}$`);
}
