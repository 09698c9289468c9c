/** API keys (admin): create (the key is shown once), revoke, delete. */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import { issueApiKey } from "../../../lib/auth.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiKeyStore } from "../../../lib/metadata_store/mod.ts";
import { type ApiKeyRecord, SCOPES } from "../../../lib/models/api_key.ts";
import { apiKeyCreateSchema } from "../../../lib/wire/classic.ts";
import { readForm } from "../form_body.ts";
import { formatTime } from "../format.ts";
import { CsrfField, renderPage, type Viewer, viewerOf } from "../layout.tsx";
import type { UiEnv } from "../ui_env.ts";

const createForm = z.object({
  csrf: z.string(),
  name: z.string(),
  scope: z.string(),
  description: z.string().optional(),
});

const DONE: Record<string, string> = {
  revoked: "The API key was revoked: it can no longer be used.",
  deleted: "The API key was deleted.",
};

interface KeysView {
  viewer: Viewer;
  keys: ApiKeyRecord[];
  created?: { key: string; record: ApiKeyRecord };
  message?: { kind: "ok" | "error"; text: string };
}

function KeysPage(props: KeysView) {
  const { viewer, keys, created, message } = props;
  return (
    <div>
      <h1>API keys</h1>
      {message && (
        <p class={`notice ${message.kind}`} role={message.kind === "error" ? "alert" : "status"}>
          {message.text}
        </p>
      )}
      {created && (
        <div class="notice ok" role="status">
          <strong>
            Key "{created.record.name}" ({created.record.scope}) was created.
          </strong>{" "}
          Copy it now: it is shown only this once and only its SHA-256 is kept.
          <code class="secret" id="new-key">{created.key}</code>
          <button type="button" class="small secondary" data-copy="new-key">Copy key</button>
        </div>
      )}
      <section class="panel" aria-labelledby="create-heading">
        <h2 id="create-heading">Create a key</h2>
        <form method="post" action="/ui/keys" class="fields">
          <CsrfField token={viewer.csrfToken} />
          <div>
            <label for="key-name">Name</label>
            <input type="text" id="key-name" name="name" required maxlength={100} />
          </div>
          <div>
            <label for="key-scope">Scope</label>
            <select id="key-scope" name="scope">
              {SCOPES.map((scope) => (
                <option value={scope} selected={scope === "write"}>{scope}</option>
              ))}
            </select>
          </div>
          <div>
            <label for="key-description">Description (optional)</label>
            <input type="text" id="key-description" name="description" maxlength={1000} />
          </div>
          <div>
            <button type="submit">Create key</button>
          </div>
        </form>
      </section>
      <h2>All keys</h2>
      <div class="table-wrap">
        <table class="sortable">
          <caption class="visually-hidden">API keys; the keys themselves are never shown</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Scope</th>
              <th scope="col">Status</th>
              <th scope="col" class="hide-narrow">Created</th>
              <th scope="col" class="hide-narrow">Last used</th>
              <th scope="col" data-nosort>Actions</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr>
                <td>
                  {key.name}
                  {key.description && <div class="muted">{key.description}</div>}
                  {key.id === viewer.apiKey.id && <div class="muted">(this session)</div>}
                </td>
                <td>{key.scope}</td>
                <td>
                  {key.revoked_at === null
                    ? <span class="badge ok">active</span>
                    : <span class="badge danger">revoked</span>}
                </td>
                <td class="hide-narrow" data-sort={key.created_at}>{formatTime(key.created_at)}</td>
                <td class="hide-narrow" data-sort={key.last_used_at ?? ""}>
                  {formatTime(key.last_used_at)}
                </td>
                <td>
                  <div class="actions">
                    {key.revoked_at === null && (
                      <form
                        method="post"
                        action={`/ui/keys/${encodeURIComponent(key.id)}/revoke`}
                        data-confirm={`Revoke the key "${key.name}"? It stops working at once.`}
                      >
                        <CsrfField token={viewer.csrfToken} />
                        <button
                          type="submit"
                          class="small secondary"
                          aria-label={`Revoke ${key.name}`}
                        >
                          Revoke
                        </button>
                      </form>
                    )}
                    {key.id !== viewer.apiKey.id && (
                      <form
                        method="post"
                        action={`/ui/keys/${encodeURIComponent(key.id)}/delete`}
                        data-confirm={`Delete the key "${key.name}" for good?`}
                      >
                        <CsrfField token={viewer.csrfToken} />
                        <button
                          type="submit"
                          class="small danger"
                          aria-label={`Delete ${key.name}`}
                        >
                          Delete
                        </button>
                      </form>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function apiKeyPageRoutes(apiKeys: ApiKeyStore): Hono<UiEnv> {
  const routes = new Hono<UiEnv>();
  routes.use("/ui/keys", requireAdmin);
  routes.use("/ui/keys/*", requireAdmin);

  const show = async (
    c: Context<UiEnv>,
    extra: Pick<KeysView, "created" | "message"> = {},
    status: 200 | 400 | 409 = 200,
  ) =>
    renderPage(
      c,
      { title: "API keys", active: "keys", viewer: viewerOf(c) },
      <KeysPage viewer={viewerOf(c)} keys={await apiKeys.list()} {...extra} />,
      status,
    );

  routes.get("/ui/keys", (c) => {
    const done = c.req.query("done");
    return show(
      c,
      done !== undefined && Object.hasOwn(DONE, done)
        ? { message: { kind: "ok", text: DONE[done] } }
        : {},
    );
  });

  routes.post("/ui/keys", async (c) => {
    const form = await readForm(c, createForm, c.get("session"));
    const input = apiKeyCreateSchema.safeParse({
      name: form.name,
      scope: form.scope,
      description: form.description?.trim() ? form.description.trim() : null,
    });
    if (!input.success) {
      const issue = input.error.issues[0];
      return show(c, {
        message: {
          kind: "error",
          text: `The key was not created: ${issue?.path.join(".") ?? "input"}: ${
            issue?.message ?? "invalid"
          }`,
        },
      }, 400);
    }
    const created = await issueApiKey(apiKeys, input.data);
    c.header("cache-control", "no-store");
    return show(c, { created });
  });

  routes.post("/ui/keys/:id/revoke", async (c) => {
    await readForm(c, z.object({ csrf: z.string() }), c.get("session"));
    const id = c.req.param("id");
    if (!await apiKeys.revoke(id, new Date())) throw noSuchKey(id);
    return c.redirect("/ui/keys?done=revoked", 303);
  });

  routes.post("/ui/keys/:id/delete", async (c) => {
    await readForm(c, z.object({ csrf: z.string() }), c.get("session"));
    const id = c.req.param("id");
    if (id === c.get("apiKey").id) {
      return show(c, {
        message: {
          kind: "error",
          text: "A key cannot delete itself; sign in with another admin key to delete it.",
        },
      }, 409);
    }
    if (!await apiKeys.delete(id)) throw noSuchKey(id);
    return c.redirect("/ui/keys?done=deleted", 303);
  });

  return routes;
}

const requireAdmin: MiddlewareHandler<UiEnv> = async (c, next) => {
  if (c.get("apiKey").scope !== "admin") {
    throw new AppError("forbidden", "Managing API keys needs an admin key");
  }
  await next();
};

function noSuchKey(id: string): AppError {
  return new AppError("not_found", `No API key with id "${id.slice(0, 64)}"`);
}
