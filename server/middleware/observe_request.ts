/**
 * Tells the request's record (`request_record.ts`) which route answered and which API key
 * was used (its id, never the key), and counts uploads in flight. Outermost middleware, so
 * it sees the final answer.
 */
import type { MiddlewareHandler } from "hono";
import { matchedRoutes, routePath } from "hono/route";
import { requestRecords } from "../request_record.ts";

export interface ObserveRequestOptions {
  /** Is this route one that carries blob bytes up? */
  isUpload?: (method: string, route: string) => boolean;
  /** Uploads in flight, up or down. */
  uploadsInFlight?: (delta: 1 | -1) => void;
}

export function observeRequest(options: ObserveRequestOptions = {}): MiddlewareHandler {
  return async (c, next) => {
    const upload = options.isUpload !== undefined &&
      matchedRoutes(c).some((route) => options.isUpload!(route.method, route.path));
    if (upload) options.uploadsInFlight?.(1);
    try {
      await next();
    } finally {
      if (upload) options.uploadsInFlight?.(-1);
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
