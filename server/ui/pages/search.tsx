/**
 * Search: files by part of the path (or a glob), host, digest, size and time. The results
 * update while typing (`app.js` fetches `?fragment=1`, the results alone); without script
 * the form submits as usual.
 */
import { type Context, Hono } from "hono";
import type { Inventory } from "../../../lib/inventory.ts";
import { parseQuery, searchQuerySchema } from "../../../lib/wire/queries.ts";
import { AppError } from "../../../lib/errors.ts";
import { filterInput } from "../filter_params.ts";
import { formatBytes, formatTime, shortDigest } from "../format.ts";
import { HostField } from "../host_field.tsx";
import { renderPage, viewerOf } from "../layout.tsx";
import { contentUrl, fileUrl, treeUrl } from "../links.ts";
import { Pager } from "../pager.tsx";
import type { UiEnv } from "../ui_env.ts";
import type { FileRecord } from "../../../lib/models/file.ts";
import type { Page } from "../../../lib/metadata_store/mod.ts";

const PAGE_SIZE = "50";
const FILTERS = [
  "q",
  "glob",
  "host",
  "digest",
  "min_size",
  "max_size",
  "mtime_from",
  "mtime_to",
  "reported_since",
];

function Results(props: { page: Page<FileRecord> | null; url: URL }) {
  if (props.page === null) {
    return <p class="empty panel">Type part of a path, or set another filter.</p>;
  }
  if (props.page.items.length === 0) {
    return <p class="empty panel" role="status">No file matches.</p>;
  }
  return (
    <>
      <p class="muted" role="status">
        {props.page.items.length}
        {props.page.next_cursor === null ? "" : "+"} files match
        {props.url.searchParams.has("cursor") ? " on this page" : ""}.
      </p>
      <div class="table-wrap">
        <table class="sortable">
          <caption class="visually-hidden">Files that match, by host and path</caption>
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Path</th>
              <th scope="col" class="num">Size</th>
              <th scope="col" class="hide-narrow">Modified</th>
              <th scope="col" class="hide-narrow">Content</th>
            </tr>
          </thead>
          <tbody>
            {props.page.items.map((file) => (
              <tr>
                <td>
                  <a href={treeUrl(file.hostname)}>{file.hostname}</a>
                </td>
                <td class="path">
                  <a href={fileUrl(file.hostname, file.filepath)}>{file.filepath}</a>
                </td>
                <td class="num" data-sort={file.file_size}>{formatBytes(file.file_size)}</td>
                <td class="hide-narrow" data-sort={file.file_mtime}>
                  {formatTime(file.file_mtime)}
                </td>
                <td class="hide-narrow mono">
                  <a href={contentUrl(file.sha256)}>{shortDigest(file.sha256)}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager url={props.url} nextCursor={props.page.next_cursor} label="Pages of results" />
    </>
  );
}

export function searchRoutes(inventory: Inventory): Hono<UiEnv> {
  const routes = new Hono<UiEnv>();
  routes.get("/ui/search", async (c: Context<UiEnv>) => {
    const url = new URL(c.req.url);
    const params = url.searchParams;
    const search = () => {
      const input = filterInput(params, {
        sizes: ["min_size", "max_size"],
        times: ["reported_since"],
        unixSeconds: ["mtime_from", "mtime_to"],
        drop: ["fragment"],
      });
      return FILTERS.some((name) => name in input)
        ? inventory.search(parseQuery(searchQuerySchema, { limit: PAGE_SIZE, ...input }))
        : Promise.resolve(null);
    };
    if (params.get("fragment") === "1") {
      // While typing, a filter that does not parse yet is said in place of the results.
      try {
        const page = await search();
        return c.html(await (<Results page={page} url={url} />).toString());
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
        return c.html(
          await (<p class="notice error" role="alert">{error.message}</p>).toString(),
          400,
        );
      }
    }
    const page = await search();
    const value = (name: string) => params.get(name) ?? "";
    return renderPage(
      c,
      { title: "Search", active: "search", viewer: viewerOf(c) },
      <div>
        <h1>Search files</h1>
        <form method="get" action="/ui/search" class="filters" data-live="results" role="search">
          <div class="wide">
            <label for="q">
              Path contains <span class="hint">case-sensitive, anywhere in the path</span>
            </label>
            <input type="search" id="q" name="q" value={value("q")} autofocus />
          </div>
          <div>
            <label for="glob">
              Or path pattern <span class="hint">*.log, /srv/**/*.jpg</span>
            </label>
            <input type="text" id="glob" name="glob" value={value("glob")} />
          </div>
          <HostField id="search-host" value={value("host")} />
          <div>
            <label for="digest">SHA-256</label>
            <input type="text" id="digest" name="digest" value={value("digest")} class="mono" />
          </div>
          <div>
            <label for="min_size">
              Size at least <span class="hint">4096, 10K, 5M, 1G</span>
            </label>
            <input type="text" id="min_size" name="min_size" value={value("min_size")} />
          </div>
          <div>
            <label for="max_size">Size at most</label>
            <input type="text" id="max_size" name="max_size" value={value("max_size")} />
          </div>
          <div>
            <label for="mtime_from">Modified from (UTC)</label>
            <input
              type="datetime-local"
              id="mtime_from"
              name="mtime_from"
              value={value("mtime_from")}
            />
          </div>
          <div>
            <label for="mtime_to">Modified before (UTC)</label>
            <input type="datetime-local" id="mtime_to" name="mtime_to" value={value("mtime_to")} />
          </div>
          <div>
            <label for="reported_since">Reported since (UTC)</label>
            <input
              type="datetime-local"
              id="reported_since"
              name="reported_since"
              value={value("reported_since")}
            />
          </div>
          <div>
            <button type="submit">Search</button>
          </div>
        </form>
        <section id="results" aria-live="polite" aria-label="Results">
          <Results page={page} url={url} />
        </section>
      </div>,
    );
  });
  return routes;
}
