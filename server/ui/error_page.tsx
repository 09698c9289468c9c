/** Errors met by a browser: an HTML page with the same message the API would give. */
import type { Context } from "hono";
import { AppError } from "../../lib/errors.ts";
import { toAppError } from "../problem_response.ts";
import { renderPage, type Viewer } from "./layout.tsx";
import type { UiEnv } from "./ui_env.ts";

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 500 | 503;

export function renderError(c: Context<UiEnv>, error: unknown): Promise<Response> {
  const appError = toAppError(error);
  const status = errorStatus(appError);
  const apiKey = c.get("apiKey");
  const session = c.get("session");
  const viewer: Viewer | null = apiKey && session ? { apiKey, csrfToken: session.csrfToken } : null;
  return renderPage(
    c,
    { title: appError.title, viewer },
    <div>
      <h1>{appError.title}</h1>
      <p class="notice error" role="alert">
        {appError.status >= 500
          ? "The server could not answer this page. It has been logged; try again shortly."
          : appError.message}
      </p>
      <p>
        <a href="/ui">Back to the dashboard</a>
      </p>
    </div>,
    status,
  );
}

export function notFoundPage(c: Context<UiEnv>): Promise<Response> {
  return renderError(
    c,
    new AppError("not_found", `There is no page at ${new URL(c.req.url).pathname.slice(0, 200)}`),
  );
}

function errorStatus(error: AppError): ErrorStatus {
  switch (error.status) {
    case 400:
    case 401:
    case 403:
    case 404:
    case 409:
    case 413:
    case 415:
    case 500:
    case 503:
      return error.status;
    default:
      return error.status >= 500 ? 500 : 400;
  }
}
