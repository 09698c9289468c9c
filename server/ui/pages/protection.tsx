/**
 * Protection: files whose content the server does not hold (at risk), and contents that
 * live on one host only (one disk failure from loss, unless the server holds them).
 */
import { Hono } from "hono";
import type { Inventory } from "../../../lib/inventory.ts";
import {
  atRiskQuerySchema,
  parseQuery,
  singleHostQuerySchema,
  statsQuerySchema,
} from "../../../lib/wire/queries.ts";
import { filterInput } from "../filter_params.ts";
import { formatBytes, formatCount, shortDigest } from "../format.ts";
import { HostField } from "../host_field.tsx";
import { renderPage, viewerOf } from "../layout.tsx";
import { contentUrl, fileUrl, treeUrl } from "../links.ts";
import { Pager } from "../pager.tsx";
import type { UiEnv } from "../ui_env.ts";

const PAGE_SIZE = "50";

export function protectionRoutes(inventory: Inventory): Hono<UiEnv> {
  const routes = new Hono<UiEnv>();
  routes.get("/ui/protection", async (c) => {
    const url = new URL(c.req.url);
    const params = url.searchParams;
    const input = filterInput(params, { sizes: ["min_size"] });
    const host = typeof input.host === "string" ? input.host : undefined;
    const stats = parseQuery(statsQuerySchema, host === undefined ? {} : { host });
    const atRiskQuery = parseQuery(atRiskQuerySchema, {
      limit: PAGE_SIZE,
      ...(host === undefined ? {} : { host }),
      ...(typeof input.risk_cursor === "string" ? { cursor: input.risk_cursor } : {}),
    });
    const singleQuery = parseQuery(singleHostQuerySchema, {
      limit: PAGE_SIZE,
      ...(host === undefined ? {} : { host }),
      ...(typeof input.min_size === "string" ? { min_size: input.min_size } : {}),
      ...(typeof input.single_cursor === "string" ? { cursor: input.single_cursor } : {}),
    });
    const [totals, atRisk, single] = await Promise.all([
      inventory.stats(stats),
      inventory.atRisk(atRiskQuery),
      inventory.singleHost(singleQuery),
    ]);
    return renderPage(
      c,
      { title: "Protection", active: "protection", viewer: viewerOf(c) },
      <div>
        <h1>Protection</h1>
        <form method="get" action="/ui/protection" class="filters">
          <HostField id="protection-host" value={params.get("host") ?? ""} />
          <div>
            <label for="protection-min-size">
              Single-host contents of at least <span class="hint">4096, 10K, 5M, 1G</span>
            </label>
            <input
              type="text"
              id="protection-min-size"
              name="min_size"
              value={params.get("min_size") ?? ""}
            />
          </div>
          <div>
            <button type="submit">Filter</button>
          </div>
        </form>
        <dl class="cards">
          <div class="card">
            <dt>Files at risk</dt>
            <dd>
              {formatCount(totals.at_risk_files)}
              <small>{formatBytes(totals.at_risk_bytes)} not on the server</small>
            </dd>
          </div>
          <div class="card">
            <dt>Contents stored</dt>
            <dd>
              {formatCount(totals.stored_digests)} of {formatCount(totals.distinct_digests)}
            </dd>
          </div>
        </dl>

        <h2 id="at-risk">Files at risk</h2>
        <p class="muted">
          Live files whose content the server does not hold: registered, never uploaded.
        </p>
        {atRisk.items.length === 0
          ? <p class="empty panel">Every file's content is on the server.</p>
          : (
            <div class="table-wrap">
              <table class="sortable">
                <caption class="visually-hidden">Files at risk, by host and path</caption>
                <thead>
                  <tr>
                    <th scope="col">Host</th>
                    <th scope="col">Path</th>
                    <th scope="col" class="num">Size</th>
                  </tr>
                </thead>
                <tbody>
                  {atRisk.items.map((file) => (
                    <tr>
                      <td>
                        <a href={treeUrl(file.hostname)}>{file.hostname}</a>
                      </td>
                      <td class="path">
                        <a href={fileUrl(file.hostname, file.filepath)}>{file.filepath}</a>
                      </td>
                      <td class="num" data-sort={file.file_size}>{formatBytes(file.file_size)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        <Pager
          url={url}
          nextCursor={atRisk.next_cursor}
          param="risk_cursor"
          label="Pages of files at risk"
        />

        <h2 id="single-host">Contents on one host only</h2>
        <p class="muted">The largest first. Those not stored on the server exist nowhere else.</p>
        {single.items.length === 0
          ? <p class="empty panel">No content lives on one host only.</p>
          : (
            <div class="table-wrap">
              <table class="sortable">
                <caption class="visually-hidden">Contents on one host only, largest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Content</th>
                    <th scope="col">Host</th>
                    <th scope="col" class="num">Size</th>
                    <th scope="col" class="num hide-narrow">Files</th>
                    <th scope="col">On the server</th>
                  </tr>
                </thead>
                <tbody>
                  {single.items.map((content) => (
                    <tr>
                      <td class="mono">
                        <a href={contentUrl(content.sha256)}>{shortDigest(content.sha256)}</a>
                      </td>
                      <td>
                        <a href={treeUrl(content.hostname)}>{content.hostname}</a>
                      </td>
                      <td class="num" data-sort={content.file_size}>
                        {formatBytes(content.file_size)}
                      </td>
                      <td class="num hide-narrow" data-sort={content.count}>
                        {formatCount(content.count)}
                      </td>
                      <td data-sort={content.stored ? "1" : "0"}>
                        {content.stored
                          ? <span class="badge ok">stored</span>
                          : <span class="badge danger">not stored</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        <Pager
          url={url}
          nextCursor={single.next_cursor}
          param="single_cursor"
          label="Pages of single-host contents"
        />
      </div>,
    );
  });
  return routes;
}
