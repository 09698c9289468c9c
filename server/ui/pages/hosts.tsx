/** Hosts: every host with its files, bytes, what only it holds, and when it last reported. */
import { Hono } from "hono";
import type { Inventory } from "../../../lib/inventory.ts";
import { hostsQuerySchema, parseQuery } from "../../../lib/wire/queries.ts";
import { filterInput } from "../filter_params.ts";
import { formatBytes, formatCount, formatTime } from "../format.ts";
import { renderPage, viewerOf } from "../layout.tsx";
import { treeUrl } from "../links.ts";
import { Pager } from "../pager.tsx";
import type { UiEnv } from "../ui_env.ts";

const PAGE_SIZE = "100";

export function hostsRoutes(inventory: Inventory): Hono<UiEnv> {
  const routes = new Hono<UiEnv>();
  routes.get("/ui/hosts", async (c) => {
    const url = new URL(c.req.url);
    const query = parseQuery(hostsQuerySchema, {
      limit: PAGE_SIZE,
      ...filterInput(url.searchParams, {}),
    });
    const page = await inventory.hosts(query);
    return renderPage(
      c,
      { title: "Hosts", active: "hosts", viewer: viewerOf(c) },
      <div>
        <h1>Hosts</h1>
        <p class="lead">Each host that reported files. Open a host to browse its files.</p>
        {page.items.length === 0
          ? <p class="empty panel">No host has reported a file yet.</p>
          : (
            <div class="table-wrap">
              <table class="sortable">
                <caption class="visually-hidden">Hosts, by name</caption>
                <thead>
                  <tr>
                    <th scope="col">Host</th>
                    <th scope="col" class="num">Files</th>
                    <th scope="col" class="num">Logical bytes</th>
                    <th scope="col" class="num hide-narrow">Distinct contents</th>
                    <th scope="col" class="num hide-narrow">Only on this host</th>
                    <th scope="col" class="hide-narrow">Last report</th>
                    <th scope="col" class="hide-narrow">Last complete scan</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((host) => (
                    <tr>
                      <td>
                        <a href={treeUrl(host.hostname)}>{host.hostname}</a>
                      </td>
                      <td class="num" data-sort={host.files}>{formatCount(host.files)}</td>
                      <td class="num" data-sort={host.logical_bytes}>
                        {formatBytes(host.logical_bytes)}
                      </td>
                      <td class="num hide-narrow" data-sort={host.distinct_digests}>
                        {formatCount(host.distinct_digests)}
                      </td>
                      <td class="num hide-narrow" data-sort={host.exclusive_bytes}>
                        {formatBytes(host.exclusive_bytes)}
                      </td>
                      <td class="hide-narrow" data-sort={host.last_report_at}>
                        {formatTime(host.last_report_at)}
                      </td>
                      <td class="hide-narrow" data-sort={host.last_complete_scan_at ?? ""}>
                        {formatTime(host.last_complete_scan_at, "unknown")}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        <Pager url={url} nextCursor={page.next_cursor} label="Pages of hosts" />
      </div>,
    );
  });
  return routes;
}
