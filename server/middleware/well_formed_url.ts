/**
 * Refuses a request whose path or query percent-encodes bytes that are not UTF-8 (a lone
 * surrogate's `%ED%A0%80`, `%FF`): 400 naming the parameter. Without it such a parameter
 * would reach a route undecoded or as U+FFFD, so two different names could become one
 * (see lib/wire/text.ts).
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../../lib/errors.ts";
import { short } from "../../lib/errors.ts";
import { decodeComponent } from "../../lib/wire/text.ts";

export function wellFormedUrl(): MiddlewareHandler {
  return async (c, next) => {
    const url = c.req.url;
    const queryStart = url.indexOf("?");
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const path = url.slice(pathStart, queryStart === -1 ? undefined : queryStart);
    for (const segment of path.split("/")) {
      if (decodeComponent(segment) === null) {
        throw new AppError(
          "invalid_input",
          `The path segment "${short(segment, 80)}" is not valid UTF-8 percent-encoding`,
        );
      }
    }
    if (queryStart !== -1) {
      const query = url.slice(queryStart + 1).split("#")[0];
      for (const pair of query.split("&")) {
        if (pair === "") continue;
        const equals = pair.indexOf("=");
        const rawName = equals === -1 ? pair : pair.slice(0, equals);
        const name = decodeComponent(rawName, true);
        if (
          name === null || (equals !== -1 && decodeComponent(pair.slice(equals + 1), true) === null)
        ) {
          throw new AppError(
            "invalid_input",
            `The query parameter "${short(name ?? rawName, 80)}" is not valid UTF-8 ` +
              "percent-encoding (text is stored exactly, so text that cannot be is refused)",
          );
        }
      }
    }
    await next();
  };
}
