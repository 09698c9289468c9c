/**
 * Classic `GET /api/clones/{sha256}`: every live file with that digest, the epoch file
 * first, as a JSON array of the documents `GET /get_file` returns (the earlier system's
 * shape; an empty array when there is none). Streamed: a digest may have many locations.
 */
import { Hono } from "hono";
import { isStored } from "../../lib/dedup.ts";
import { parseDigest } from "../../lib/digest.ts";
import { Inventory } from "../../lib/inventory.ts";
import { fileWire } from "../../lib/wire/classic.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import type { RouteDeps } from "./route_deps.ts";

export function cloneRoutes({ stores, guards }: RouteDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const read = guards.read;
  const inventory = new Inventory(stores.metadata);

  app.get("/api/clones/:sha256", read, async (c) => {
    const digest = parseDigest(c.req.param("sha256"));
    const stored = await isStored(stores, digest);
    const locations = inventory.allLocations(digest);
    const encoder = new TextEncoder();
    let first = true;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await locations.next();
        if (next.done) {
          controller.enqueue(encoder.encode(first ? "[]" : "]"));
          controller.close();
          return;
        }
        const text = JSON.stringify(fileWire(next.value, stored));
        controller.enqueue(encoder.encode(`${first ? "[" : ","}${text}`));
        first = false;
      },
      async cancel() {
        await locations.return(undefined);
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });

  return app;
}
