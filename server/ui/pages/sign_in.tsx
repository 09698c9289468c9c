/** Sign-in with an API key pasted once, and sign-out. */
import { Hono } from "hono";
import { z } from "zod";
import { constantTimeEqual, hashApiKey, looksLikeApiKey } from "../../../lib/auth.ts";
import type { ApiKeyStore } from "../../../lib/metadata_store/mod.ts";
import { readForm } from "../form_body.ts";
import { renderPage } from "../layout.tsx";
import {
  clearSessionCookie,
  maySignIn,
  safeNext,
  SESSION_COOKIE,
  setSessionCookie,
} from "../session_auth.ts";
import type { UiSessions } from "../sessions.ts";
import type { KeyUsage } from "../../middleware/key_usage.ts";
import type { UiEnv } from "../ui_env.ts";
import { getCookie } from "hono/cookie";

const signInForm = z.object({
  api_key: z.string().max(200),
  next: z.string().max(2000).optional(),
});

function SignIn(props: { next: string; error?: string }) {
  return (
    <div class="signin">
      <div class="panel">
        <h1>Sign in to PutPlace</h1>
        {props.error && <p class="notice error" role="alert" id="sign-in-error">{props.error}</p>}
        <form method="post" action="/ui/sign-in">
          <input type="hidden" name="next" value={props.next} />
          <label for="api_key">
            API key
            <span class="hint">
              A read or admin key (64 hex characters). It is checked once and never stored in the
              browser; the browser keeps only a session cookie.
            </span>
          </label>
          <input
            type="password"
            id="api_key"
            name="api_key"
            required
            autocomplete="off"
            spellcheck={false}
            autofocus
            aria-describedby={props.error ? "sign-in-error" : undefined}
            aria-invalid={props.error ? "true" : undefined}
          />
          <button type="submit">Sign in</button>
        </form>
      </div>
    </div>
  );
}

export function signInRoutes(
  options: { sessions: UiSessions; apiKeys: ApiKeyStore; usage: KeyUsage },
): Hono<UiEnv> {
  const { sessions, apiKeys, usage } = options;
  const routes = new Hono<UiEnv>();

  routes.get("/ui/sign-in", (c) => {
    const current = getCookie(c, SESSION_COOKIE);
    const next = safeNext(c.req.query("next"));
    if (current !== undefined && sessions.get(current)) return c.redirect(next, 303);
    return renderPage(c, { title: "Sign in", viewer: null }, <SignIn next={next} />);
  });

  routes.post("/ui/sign-in", async (c) => {
    const form = await readForm(c, signInForm, null);
    const next = safeNext(form.next);
    const key = form.api_key.trim().toLowerCase();
    const refuse = (error: string) =>
      renderPage(c, { title: "Sign in", viewer: null }, <SignIn next={next} error={error} />, 401);
    if (!looksLikeApiKey(key)) {
      return refuse("That is not an API key: a key is 64 hexadecimal characters.");
    }
    const keyHash = hashApiKey(key);
    const record = await apiKeys.findByHash(keyHash);
    if (!record || !constantTimeEqual(record.key_hash, keyHash) || record.revoked_at !== null) {
      return refuse("This API key is not valid, or it was revoked.");
    }
    if (!maySignIn(record)) {
      return refuse(
        `This is a ${record.scope} key, meant for ppclient; sign in with a read or admin key.`,
      );
    }
    const previous = getCookie(c, SESSION_COOKIE);
    if (previous !== undefined) sessions.delete(previous);
    const { id } = sessions.create(record.id);
    usage.note(record.id);
    setSessionCookie(c, id, sessions.absoluteMs);
    return c.redirect(next, 303);
  });

  routes.post("/ui/sign-out", async (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    const session = id === undefined ? null : sessions.get(id);
    // Without a live session there is nothing to end, and so no CSRF token to check.
    if (id !== undefined && session) {
      await readForm(c, z.object({ csrf: z.string() }), session);
      sessions.delete(id);
    }
    clearSessionCookie(c);
    return c.redirect("/ui/sign-in", 303);
  });

  return routes;
}
