/** The frame of every web UI page: head, navigation, who is signed in, sign-out. */
import type { Child } from "hono/jsx";
import type { Context } from "hono";
import type { ApiKeyRecord } from "../../lib/models/api_key.ts";
import { assetUrl } from "./assets/mod.ts";
import type { UiEnv } from "./ui_env.ts";

export type NavId =
  | "dashboard"
  | "hosts"
  | "search"
  | "duplicates"
  | "changes"
  | "protection"
  | "keys";

interface NavItem {
  id: NavId;
  label: string;
  href: string;
  adminOnly?: boolean;
}

const NAV: NavItem[] = [
  { id: "dashboard", label: "Dashboard", href: "/ui" },
  { id: "hosts", label: "Hosts", href: "/ui/hosts" },
  { id: "search", label: "Search", href: "/ui/search" },
  { id: "duplicates", label: "Duplicates", href: "/ui/duplicates" },
  { id: "changes", label: "Changes", href: "/ui/changes" },
  { id: "protection", label: "Protection", href: "/ui/protection" },
  { id: "keys", label: "API keys", href: "/ui/keys", adminOnly: true },
];

export interface Viewer {
  apiKey: ApiKeyRecord;
  csrfToken: string;
}

export interface FrameProps {
  title: string;
  active?: NavId;
  /** Null on the sign-in page and on errors met before signing in. */
  viewer: Viewer | null;
  children?: Child;
}

export function Layout(props: FrameProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="referrer" content="same-origin" />
        <title>{props.title} · PutPlace</title>
        <link rel="icon" href={assetUrl("icon.svg")} type="image/svg+xml" />
        <link rel="stylesheet" href={assetUrl("app.css")} />
        <script src={assetUrl("app.js")} defer></script>
      </head>
      <body>
        <a class="skip-link" href="#content">Skip to content</a>
        <header class="top">
          <a class="brand" href="/ui">
            Put<span>Place</span>
          </a>
          {props.viewer && <MainNav active={props.active} viewer={props.viewer} />}
          {props.viewer && <SignedIn viewer={props.viewer} />}
        </header>
        <main id="content" tabindex={-1}>
          {props.children}
        </main>
      </body>
    </html>
  );
}

function MainNav(props: { active?: NavId; viewer: Viewer }) {
  const items = NAV.filter((item) => !item.adminOnly || props.viewer.apiKey.scope === "admin");
  return (
    <nav class="main" aria-label="Main">
      <ul>
        {items.map((item) => (
          <li>
            <a href={item.href} aria-current={item.id === props.active ? "page" : undefined}>
              {item.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function SignedIn(props: { viewer: Viewer }) {
  return (
    <div class="who">
      <span>
        <span class="visually-hidden">Signed in with API key</span>
        {props.viewer.apiKey.name} <span class="badge">{props.viewer.apiKey.scope}</span>
      </span>
      <form method="post" action="/ui/sign-out">
        <CsrfField token={props.viewer.csrfToken} />
        <button type="submit" class="secondary small">Sign out</button>
      </form>
    </div>
  );
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="csrf" value={props.token} />;
}

/** The signed-in viewer of a request (set by the session middleware). */
export function viewerOf(c: Context<UiEnv>): Viewer {
  return { apiKey: c.get("apiKey"), csrfToken: c.get("session").csrfToken };
}

/** Renders a page as a full HTML document. */
export async function renderPage(
  c: Context,
  frame: Omit<FrameProps, "children">,
  body: Child,
  status: 200 | 400 | 401 | 403 | 404 | 409 | 413 | 415 | 500 | 503 = 200,
): Promise<Response> {
  const html = await (<Layout {...frame}>{body}</Layout>).toString();
  return c.html(`<!doctype html>\n${html}`, status);
}
