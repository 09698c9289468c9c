/** A host's files as a tree: one directory at a time, with breadcrumbs, sizes and paging. */
import { Hono } from "hono";
import type { Inventory } from "../../../lib/inventory.ts";
import { hostnameParam, parseQuery, treeQuerySchema } from "../../../lib/wire/queries.ts";
import { filterInput } from "../filter_params.ts";
import { formatBytes, formatCount, formatTime, shortDigest } from "../format.ts";
import { renderPage, viewerOf } from "../layout.tsx";
import { contentUrl, fileUrl, treeUrl } from "../links.ts";
import { Pager } from "../pager.tsx";
import type { UiEnv } from "../ui_env.ts";

const PAGE_SIZE = "50";

/** "/srv/www" -> [["/", "/"], ["srv", "/srv"], ["www", "/srv/www"]]. */
export function crumbsOf(path: string): [string, string][] {
  const parts = path.split("/").filter((p) => p !== "");
  return [
    ["/", "/"],
    ...parts.map((part, i): [string, string] => [part, "/" + parts.slice(0, i + 1).join("/")]),
  ];
}

export function Breadcrumbs(props: { hostname: string; path: string; fileName?: string }) {
  const crumbs = crumbsOf(props.path);
  return (
    <nav class="crumbs" aria-label="Breadcrumbs">
      <ol>
        <li>
          <a href="/ui/hosts">Hosts</a>
        </li>
        <li>
          <a href={treeUrl(props.hostname)}>{props.hostname}</a>
        </li>
        {crumbs.slice(1).map(([name, path], index) =>
          index === crumbs.length - 2 && props.fileName === undefined
            ? <li key={path} aria-current="page">{name}</li>
            : (
              <li>
                <a href={treeUrl(props.hostname, path)}>{name}</a>
              </li>
            )
        )}
        {props.fileName !== undefined && <li aria-current="page">{props.fileName}</li>}
      </ol>
    </nav>
  );
}

function FolderIcon() {
  return (
    <svg class="icon" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M1 3.5A1.5 1.5 0 0 1 2.5 2H6l1.5 2h6A1.5 1.5 0 0 1 15 5.5v7a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 1 12.5z" />
    </svg>
  );
}

export function treeRoutes(inventory: Inventory): Hono<UiEnv> {
  const routes = new Hono<UiEnv>();
  routes.get("/ui/hosts/:hostname", async (c) => {
    const url = new URL(c.req.url);
    const hostname = parseQuery(hostnameParam, c.req.param("hostname"));
    const query = parseQuery(treeQuerySchema, {
      limit: PAGE_SIZE,
      ...filterInput(url.searchParams, {}),
    });
    const path = query.path.length > 1 ? query.path.replace(/\/+$/, "") : "/";
    const page = await inventory.tree(hostname, { ...query, path });
    return renderPage(
      c,
      { title: `${hostname}:${path}`, active: "hosts", viewer: viewerOf(c) },
      <div>
        <Breadcrumbs hostname={hostname} path={path} />
        <h1>
          <span class="muted">{hostname}:</span>
          {path}
        </h1>
        {page.items.length === 0
          ? (
            <p class="empty panel">
              {url.searchParams.has("cursor") ? "No more entries." : "No files here."}
            </p>
          )
          : (
            <div class="table-wrap">
              <table class="sortable">
                <caption class="visually-hidden">
                  Directories, then files, in {path} on {hostname}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col" class="num">Size</th>
                    <th scope="col" class="num hide-narrow">Files</th>
                    <th scope="col" class="hide-narrow">Modified</th>
                    <th scope="col" class="hide-narrow">Content</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((entry) =>
                    entry.kind === "directory"
                      ? (
                        <tr data-group="0">
                          <td class="path">
                            <a href={treeUrl(hostname, entry.path)}>
                              <FolderIcon /> {entry.name}/
                            </a>
                          </td>
                          <td class="num" data-sort={entry.bytes}>{formatBytes(entry.bytes)}</td>
                          <td class="num hide-narrow" data-sort={entry.files}>
                            {formatCount(entry.files)}
                          </td>
                          <td class="hide-narrow" data-sort=""></td>
                          <td class="hide-narrow" data-sort=""></td>
                        </tr>
                      )
                      : (
                        <tr data-group="1">
                          <td class="path">
                            <a href={fileUrl(hostname, entry.file.filepath)}>{entry.name}</a>
                          </td>
                          <td class="num" data-sort={entry.file.file_size}>
                            {formatBytes(entry.file.file_size)}
                          </td>
                          <td class="num hide-narrow" data-sort="1">1</td>
                          <td class="hide-narrow" data-sort={entry.file.file_mtime}>
                            {formatTime(entry.file.file_mtime)}
                          </td>
                          <td class="hide-narrow mono">
                            <a href={contentUrl(entry.file.sha256)}>
                              {shortDigest(entry.file.sha256)}
                            </a>
                          </td>
                        </tr>
                      )
                  )}
                </tbody>
              </table>
            </div>
          )}
        <Pager url={url} nextCursor={page.next_cursor} label="Pages of this directory" />
      </div>,
    );
  });
  return routes;
}
