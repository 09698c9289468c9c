/**
 * Signed-in requests of the web UI: the session cookie names a live session whose API key
 * still exists, is not revoked and may read. Anything else sees only the sign-in page.
 */
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { ApiKeyStore } from "../../lib/metadata_store/mod.ts";
import type { ApiKeyRecord } from "../../lib/models/api_key.ts";
import type { UiSessions } from "./sessions.ts";
import type { KeyUsage } from "../middleware/key_usage.ts";
import type { UiEnv } from "./ui_env.ts";

export const SESSION_COOKIE = "pp_session";
const COOKIE_PATH = "/ui";

/** Read and admin keys sign in; write keys are for ppclient on the hosts. */
export function maySignIn(apiKey: ApiKeyRecord): boolean {
  return apiKey.revoked_at === null && (apiKey.scope === "read" || apiKey.scope === "admin");
}

export function sessionAuth(
  options: { sessions: UiSessions; apiKeys: ApiKeyStore; usage: KeyUsage },
): MiddlewareHandler<UiEnv> {
  if (!options.sessions || !options.apiKeys) {
    throw new TypeError("sessionAuth needs UiSessions and an ApiKeyStore");
  }
  return async (c, next) => {
    const id = getCookie(c, SESSION_COOKIE);
    const session = id === undefined ? null : options.sessions.get(id);
    const apiKey = session ? await options.apiKeys.get(session.apiKeyId) : null;
    if (id === undefined || !session || !apiKey || !maySignIn(apiKey)) {
      if (id !== undefined) {
        options.sessions.delete(id);
        clearSessionCookie(c);
      }
      const url = new URL(c.req.url);
      const next = c.req.method === "GET"
        ? `?next=${encodeURIComponent(url.pathname + url.search)}`
        : "";
      return c.redirect(`/ui/sign-in${next}`, 303);
    }
    options.usage.note(apiKey.id);
    c.set("session", session);
    c.set("sessionId", id);
    c.set("apiKey", apiKey);
    await next();
  };
}

/** HttpOnly, SameSite=Strict, path /ui; Secure when the browser reached us over https. */
export function setSessionCookie(c: Context, id: string, maxAgeMs: number): void {
  setCookie(c, SESSION_COOKIE, id, {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
    maxAge: Math.floor(maxAgeMs / 1000),
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
  });
}

/**
 * Over https, directly or behind a proxy that says so. Trusting `X-Forwarded-Proto` here is
 * safe: it can only add the Secure flag, which at worst keeps a cookie from a plain-http
 * client.
 */
function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" ||
    c.req.header("x-forwarded-proto")?.split(",")[0].trim().toLowerCase() === "https";
}

/** A `next` target after sign-in: a path under /ui on this server, else the dashboard. */
export function safeNext(next: string | undefined): string {
  if (next === undefined || !/^\/ui(?:[/?#]|$)/.test(next) || /[\\\s]|\/\//.test(next)) {
    return "/ui";
  }
  return next;
}
