/** `GET /metrics`: the Prometheus exposition, for admin keys (see `server/metrics.ts`). */
import { Hono, type MiddlewareHandler } from "hono";

export interface MetricsSource {
  render(): Promise<{ contentType: string; body: string }>;
}

export function metricsRoutes(admin: MiddlewareHandler, metrics: MetricsSource): Hono {
  const app = new Hono();
  app.get("/metrics", admin, async (c) => {
    const { contentType, body } = await metrics.render();
    return c.body(body, 200, { "content-type": contentType });
  });
  return app;
}
