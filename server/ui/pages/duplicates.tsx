/** Duplicates: contents with two or more live locations, the most reclaimable bytes first. */
import { Hono } from "hono";
import type { Inventory } from "../../../lib/inventory.ts";
import { duplicatesQuerySchema, parseQuery } from "../../../lib/wire/queries.ts";
import { filterInput } from "../filter_params.ts";
import { formatBytes, formatCount, shortDigest } from "../format.ts";
import { HostField } from "../host_field.tsx";
import { renderPage, viewerOf } from "../layout.tsx";
import { contentUrl } from "../links.ts";
import { Pager } from "../pager.tsx";
import type { UiEnv } from "../ui_env.ts";

const PAGE_SIZE = "50";

export function duplicatesRoutes(inventory: Inventory): Hono<UiEnv> {
  const routes = new Hono<UiEnv>();
  routes.get("/ui/duplicates", async (c) => {
    const url = new URL(c.req.url);
    const params = url.searchParams;
    // The host field may name several hosts: "web-01, web-02".
    const chosenHosts = params.getAll("host").flatMap((h) => h.split(/[\s,]+/)).filter((h) =>
      h !== ""
    );
    const filters = new URLSearchParams(params);
    filters.delete("host");
    for (const host of chosenHosts) filters.append("host", host);
    const query = parseQuery(duplicatesQuerySchema, {
      limit: PAGE_SIZE,
      ...filterInput(filters, { sizes: ["min_size"], repeatable: ["host"] }),
    });
    const page = await inventory.duplicates(query);
    return renderPage(
      c,
      { title: "Duplicates", active: "duplicates", viewer: viewerOf(c) },
      <div>
        <h1>Duplicates</h1>
        <p class="lead">
          Contents with two or more live copies, the most bytes to reclaim first (size × (copies −
          1)).
        </p>
        <form method="get" action="/ui/duplicates" class="filters">
          <HostField
            id="dup-host"
            value={chosenHosts.join(", ")}
            label="Only copies on hosts"
            hint="one, or several separated by commas"
          />
          <div>
            <label for="dup-min-size">
              Size at least <span class="hint">4096, 10K, 5M, 1G</span>
            </label>
            <input
              type="text"
              id="dup-min-size"
              name="min_size"
              value={params.get("min_size") ?? ""}
            />
          </div>
          <div>
            <label for="dup-prefix">Under directory</label>
            <input
              type="text"
              id="dup-prefix"
              name="path_prefix"
              value={params.get("path_prefix") ?? ""}
              placeholder="/srv"
            />
          </div>
          <div>
            <button type="submit">Filter</button>
          </div>
        </form>
        <dl class="cards">
          <div class="card">
            <dt>Reclaimable</dt>
            <dd>{formatBytes(page.totals.reclaimable_bytes)}</dd>
          </div>
          <div class="card">
            <dt>Duplicate groups</dt>
            <dd>{formatCount(page.totals.groups)}</dd>
          </div>
          <div class="card">
            <dt>Files in them</dt>
            <dd>{formatCount(page.totals.files)}</dd>
          </div>
        </dl>
        <h2>Groups</h2>
        {page.items.length === 0
          ? (
            <p class="empty panel">
              No duplicated content{chosenHosts.length > 0 || params.has("min_size")
                ? " with these filters"
                : ""}.
            </p>
          )
          : (
            <div class="table-wrap">
              <table class="sortable">
                <caption class="visually-hidden">
                  Duplicate groups, the most reclaimable bytes first
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Content</th>
                    <th scope="col" class="num">Reclaimable</th>
                    <th scope="col" class="num">Copies</th>
                    <th scope="col" class="num">Hosts</th>
                    <th scope="col" class="num">Size each</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((group) => (
                    <tr>
                      <td class="mono">
                        <a href={contentUrl(group.sha256)}>{shortDigest(group.sha256)}</a>
                      </td>
                      <td class="num" data-sort={group.reclaimable_bytes}>
                        {formatBytes(group.reclaimable_bytes)}
                      </td>
                      <td class="num" data-sort={group.count}>{formatCount(group.count)}</td>
                      <td class="num" data-sort={group.hosts}>{formatCount(group.hosts)}</td>
                      <td class="num" data-sort={group.file_size}>
                        {formatBytes(group.file_size)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        <Pager url={url} nextCursor={page.next_cursor} label="Pages of duplicate groups" />
      </div>,
    );
  });
  return routes;
}
