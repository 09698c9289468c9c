/**
 * Tells the request's record (`request_record.ts`) which route answered and which API key
 * was used (its id, never the key). Outermost middleware, so it sees the final answer.
 */
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { requestRecords } from "../request_record.ts";

export function observeRequest(): MiddlewareHandler {
  return async (c, next) => {
    try {
      await next();
    } finally {
      const record = requestRecords.get(c.req.raw);
      if (record) {
        const route = routePath(c);
        record.route = route === "" || route === "*" || route === "/*" ? null : route;
        const key: unknown = c.get("apiKey");
        if (key && typeof key === "object" && "id" in key && typeof key.id === "string") {
          record.keyId = key.id;
        }
      }
    }
  };
}
