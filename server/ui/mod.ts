/**
 * The web UI, served by ppserver under `/ui`: server-rendered pages (Hono JSX), assets
 * embedded as strings, sign-in with an API key into a server-side session (see
 * `sessions.ts`), a strict Content-Security-Policy (no inline script or style).
 */
import { Hono, type MiddlewareHandler } from "hono";
import { toAppError } from "../problem_response.ts";
import type { Stores } from "../../lib/dedup.ts";
import type { KeyUsage } from "../middleware/key_usage.ts";
import { assetRoutes } from "./assets/mod.ts";
import { notFoundPage, renderError } from "./error_page.tsx";
import { apiKeyPageRoutes } from "./pages/api_keys.tsx";
import { Inventory } from "../../lib/inventory.ts";
import { changesRoutes } from "./pages/changes.tsx";
import { contentRoutes } from "./pages/content.tsx";
import { dashboardRoutes } from "./pages/dashboard.tsx";
import { duplicatesRoutes } from "./pages/duplicates.tsx";
import { fileRoutes } from "./pages/file.tsx";
import { hostsRoutes } from "./pages/hosts.tsx";
import { protectionRoutes } from "./pages/protection.tsx";
import { searchRoutes } from "./pages/search.tsx";
import { treeRoutes } from "./pages/tree.tsx";
import { signInRoutes } from "./pages/sign_in.tsx";
import { sessionAuth } from "./session_auth.ts";
import { UiSessions } from "./sessions.ts";
import type { UiEnv } from "./ui_env.ts";

export { UiSessions } from "./sessions.ts";

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export interface UiDeps {
  stores: Stores;
  /** Browser sessions; one table per app unless given (tests pass their own clock). */
  sessions?: UiSessions;
  /** Records API key use (sign-in and every signed-in request count as a use). */
  usage: KeyUsage;
  /** Where unexpected errors are reported. */
  logError: (error: unknown, request?: Request) => void;
}

export function uiRoutes(deps: UiDeps): Hono<UiEnv> {
  const sessions = deps.sessions ?? new UiSessions();
  const apiKeys = deps.stores.metadata.apiKeys;
  const inventory = new Inventory(deps.stores.metadata);
  const ui = new Hono<UiEnv>();

  // A browser opening the server's root lands on the UI; API clients of `/` keep their JSON.
  ui.get("/", async (c, next) => {
    c.header("vary", "accept");
    if ((c.req.header("accept") ?? "").includes("text/html")) return c.redirect("/ui", 302);
    await next();
  });

  ui.use("/ui", uiHeaders);
  ui.use("/ui/*", uiHeaders);
  ui.get("/ui/", (c) => c.redirect("/ui", 301));
  ui.route("/", assetRoutes());
  ui.route("/", signInRoutes({ sessions, apiKeys, usage: deps.usage }));
  ui.use("/ui", sessionAuth({ sessions, apiKeys, usage: deps.usage }));
  ui.use("/ui/*", sessionAuth({ sessions, apiKeys, usage: deps.usage }));
  ui.route("/", dashboardRoutes(inventory));
  ui.route("/", hostsRoutes(inventory));
  ui.route("/", treeRoutes(inventory));
  ui.route("/", fileRoutes({ stores: deps.stores, inventory }));
  ui.route("/", contentRoutes({ stores: deps.stores, inventory }));
  ui.route("/", searchRoutes(inventory));
  ui.route("/", duplicatesRoutes(inventory));
  ui.route("/", changesRoutes(inventory));
  ui.route("/", protectionRoutes(inventory));
  ui.route("/", apiKeyPageRoutes(apiKeys));
  ui.all("/ui/*", notFoundPage);

  ui.onError((error, c) => {
    if (toAppError(error).status >= 500) deps.logError(error, c.req.raw);
    return renderError(c, error);
  });
  return ui;
}

const uiHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header("content-security-policy", CONTENT_SECURITY_POLICY);
  c.header("x-frame-options", "DENY");
  c.header("referrer-policy", "same-origin");
  c.header("cross-origin-opener-policy", "same-origin");
  // Pages show inventory and keys: never cached. Assets set their own caching.
  if (!c.res.headers.has("cache-control")) c.header("cache-control", "no-store");
};
