/** `GET /` and `GET /health`: 503 naming the failing store when one is unreachable. */
import { Hono } from "hono";
import type { Stores } from "../../lib/dedup.ts";
import { AppError } from "../../lib/errors.ts";

export function healthRoutes(stores: Stores, version: string): Hono {
  const app = new Hono();
  app.get(
    "/",
    (c) => c.json({ message: "PutPlace API - File Metadata Storage", status: "running", version }),
  );
  app.get("/health", async (c) => {
    const [metadata, blobs] = await Promise.all([
      check(() => stores.metadata.ping()),
      check(() => stores.blobs.ping()),
    ]);
    const healthy = metadata.status === "connected" && blobs.status === "connected";
    return c.json({
      status: healthy ? "healthy" : "degraded",
      version,
      database: { ...metadata, type: stores.metadata.kind },
      storage: { ...blobs, type: stores.blobs.kind },
    }, healthy ? 200 : 503);
  });
  return app;
}

async function check(ping: () => Promise<void>): Promise<{ status: string; detail?: string }> {
  try {
    await ping();
    return { status: "connected" };
  } catch (error) {
    return {
      status: "disconnected",
      detail: error instanceof AppError ? error.message : "unreachable",
    };
  }
}
