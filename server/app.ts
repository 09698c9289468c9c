/**
 * The PutPlace HTTP application, built from explicit dependencies and free of I/O at
 * import. Order: security headers, routes, then one error handler that turns every
 * failure into problem+json (internal details go to the log, never to the client). The
 * API key guards are built here, once per scope, and handed to every route module.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Stores } from "../lib/dedup.ts";
import { AppError } from "../lib/errors.ts";
import { problemResponse, toAppError } from "./problem_response.ts";
import type { Limits } from "./limits.ts";
import { healthRoutes } from "./routes/health.ts";
import { fileRoutes } from "./routes/files.ts";
import { uploadRoutes } from "./routes/uploads.ts";
import { apiKeyRoutes } from "./routes/api_keys.ts";
import { v1Routes } from "./routes/v1_api.ts";
import { cloneRoutes } from "./routes/clones.ts";
import { metricsRoutes, type MetricsSource } from "./routes/metrics.ts";
import type { ResumableUploads } from "./resumable_uploads.ts";
import { keyGuards } from "./middleware/api_key_auth.ts";
import { KeyUsage } from "./middleware/key_usage.ts";
import { wellFormedUrl } from "./middleware/well_formed_url.ts";
import type { RouteDeps } from "./routes/route_deps.ts";
import { uiRoutes, type UiSessions } from "./ui/mod.ts";

export interface AppDeps {
  stores: Stores;
  limits: Limits;
  version: string;
  /** Resumable uploads (`openResumableUploads`); without them /v1/uploads is absent. */
  uploads?: ResumableUploads;
  /**
   * Where unexpected errors are reported (with the request, when one failed); defaults to
   * stderr.
   */
  logError?: (error: unknown, request?: Request) => void;
  /** Records API key use; built from the stores when absent. */
  keyUsage?: KeyUsage;
  /** Browser sessions of the web UI; a fresh in-memory table when absent. */
  uiSessions?: UiSessions;
  /** Outermost middleware, before everything else (the access log's request observer). */
  observe?: MiddlewareHandler;
  /** Prometheus metrics, served at /metrics to admin keys. */
  metrics?: MetricsSource;
}

export function createApp(deps: AppDeps): Hono {
  const logError = deps.logError ?? defaultLogError;
  const app = new Hono();
  if (deps.observe) app.use(deps.observe);

  app.use(async (c, next) => {
    await next();
    c.header("x-content-type-options", "nosniff");
  });
  app.use(wellFormedUrl());

  const usage = deps.keyUsage ??
    new KeyUsage({ apiKeys: deps.stores.metadata.apiKeys, logError: (error) => logError(error) });
  const routeDeps: RouteDeps = {
    stores: deps.stores,
    limits: deps.limits,
    guards: keyGuards(deps.stores.metadata.apiKeys, usage),
  };
  app.route("/", uiRoutes({ stores: deps.stores, sessions: deps.uiSessions, usage, logError }));
  app.route("/", healthRoutes(deps.stores, deps.version));
  app.route("/", fileRoutes(routeDeps));
  app.route("/", uploadRoutes(routeDeps));
  app.route("/", apiKeyRoutes(routeDeps));
  app.route("/", cloneRoutes(routeDeps));
  if (deps.metrics) app.route("/", metricsRoutes(routeDeps.guards.admin, deps.metrics));
  app.route("/", v1Routes({ ...routeDeps, version: deps.version, uploads: deps.uploads }));

  app.notFound((c) =>
    problemResponse(
      new AppError("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`),
    )
  );
  app.onError((error, c) => {
    const appError = toAppError(error);
    if (appError.status >= 500) logError(error, c.req.raw);
    return problemResponse(appError);
  });
  return app;
}

function defaultLogError(error: unknown, request?: Request): void {
  const cause = error instanceof AppError && error.cause !== undefined ? error.cause : error;
  console.error(
    JSON.stringify({
      level: "error",
      time: new Date().toISOString(),
      ...(request ? { method: request.method, path: new URL(request.url).pathname } : {}),
      error: error instanceof Error ? error.message : String(error),
      cause: cause instanceof Error ? (cause.stack ?? cause.message) : String(cause),
    }),
  );
}
