/** Changes: files added, modified and deleted, on one host or all, since a time. */
import { Hono } from "hono";
import type { Inventory } from "../../../lib/inventory.ts";
import { changesQuerySchema, parseQuery } from "../../../lib/wire/queries.ts";
import { filterInput } from "../filter_params.ts";
import { formatBytes, formatTime, shortDigest } from "../format.ts";
import { HostField } from "../host_field.tsx";
import { renderPage, viewerOf } from "../layout.tsx";
import { contentUrl, fileUrl, treeUrl } from "../links.ts";
import { Pager } from "../pager.tsx";
import type { UiEnv } from "../ui_env.ts";

const PAGE_SIZE = "100";
const DAY_MS = 24 * 60 * 60 * 1000;
const KIND_BADGE = { added: "ok", modified: "warn", deleted: "danger" } as const;

/** A `datetime-local` value for a time, in UTC. */
function localValue(date: Date): string {
  return date.toISOString().slice(0, 16);
}

export function changesRoutes(inventory: Inventory): Hono<UiEnv> {
  const routes = new Hono<UiEnv>();
  routes.get("/ui/changes", async (c) => {
    const url = new URL(c.req.url);
    const params = url.searchParams;
    const since = params.get("since")?.trim() || localValue(new Date(Date.now() - DAY_MS));
    const input = filterInput(params, { times: ["since", "until"] });
    const query = parseQuery(changesQuerySchema, {
      limit: PAGE_SIZE,
      ...input,
      since: filterInput(new URLSearchParams({ since }), { times: ["since"] }).since,
    });
    const page = await inventory.changes(query);
    return renderPage(
      c,
      { title: "Changes", active: "changes", viewer: viewerOf(c) },
      <div>
        <h1>Changes</h1>
        <p class="lead">Files added, modified and deleted, oldest first.</p>
        <form method="get" action="/ui/changes" class="filters">
          <HostField id="changes-host" value={params.get("host") ?? ""} />
          <div>
            <label for="since">Since (UTC)</label>
            <input type="datetime-local" id="since" name="since" value={since} required />
          </div>
          <div>
            <label for="until">Until (UTC, optional)</label>
            <input
              type="datetime-local"
              id="until"
              name="until"
              value={params.get("until") ?? ""}
            />
          </div>
          <div>
            <button type="submit">Show changes</button>
          </div>
        </form>
        {page.items.length === 0
          ? <p class="empty panel">No change in this period.</p>
          : (
            <div class="table-wrap">
              <table class="sortable">
                <caption class="visually-hidden">Changes, oldest first</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Change</th>
                    <th scope="col">Host</th>
                    <th scope="col">Path</th>
                    <th scope="col" class="num hide-narrow">Size</th>
                    <th scope="col" class="hide-narrow">Content</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((change) => (
                    <tr>
                      <td data-sort={change.at}>{formatTime(change.at)}</td>
                      <td>
                        <span class={`badge ${KIND_BADGE[change.kind]}`}>{change.kind}</span>
                      </td>
                      <td>
                        <a href={treeUrl(change.hostname)}>{change.hostname}</a>
                      </td>
                      <td class="path">
                        <a href={fileUrl(change.hostname, change.filepath)}>{change.filepath}</a>
                      </td>
                      <td class="num hide-narrow" data-sort={change.file_size}>
                        {formatBytes(change.file_size)}
                      </td>
                      <td class="hide-narrow mono">
                        <a href={contentUrl(change.sha256)}>{shortDigest(change.sha256)}</a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        <Pager url={url} nextCursor={page.next_cursor} label="Pages of changes" />
      </div>,
    );
  });
  return routes;
}
