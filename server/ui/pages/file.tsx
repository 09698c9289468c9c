/** One file: its facts, its history (each digest it had), and every location of its content. */
import { Hono } from "hono";
import { storedSize, type Stores } from "../../../lib/dedup.ts";
import type { Inventory } from "../../../lib/inventory.ts";
import {
  fileQuerySchema,
  hostnameParam,
  locationsQuerySchema,
  parseQuery,
} from "../../../lib/wire/queries.ts";
import { formatBytes, formatTime, shortDigest } from "../format.ts";
import { renderPage, viewerOf } from "../layout.tsx";
import { contentUrl, downloadUrl } from "../links.ts";
import type { UiEnv } from "../ui_env.ts";
import { downloadName } from "../verified_download.ts";
import { Breadcrumbs } from "./tree.tsx";
import { LocationsTable, StoredState } from "./content.tsx";

const LOCATIONS_PAGE_SIZE = "50";

export function fileRoutes(options: { stores: Stores; inventory: Inventory }): Hono<UiEnv> {
  const { stores, inventory } = options;
  const routes = new Hono<UiEnv>();
  routes.get("/ui/hosts/:hostname/file", async (c) => {
    const url = new URL(c.req.url);
    const hostname = parseQuery(hostnameParam, c.req.param("hostname"));
    const { path } = parseQuery(fileQuerySchema, {
      path: url.searchParams.get("path") ?? undefined,
    });
    const locationsQuery = parseQuery(locationsQuerySchema, {
      limit: LOCATIONS_PAGE_SIZE,
      ...(url.searchParams.has("cursor") ? { cursor: url.searchParams.get("cursor") } : {}),
    });
    const detail = await inventory.file(hostname, { path });
    const { file } = detail;
    const history = detail.history.slice(0, 100);
    const [size, locations, historySizes] = await Promise.all([
      storedSize(stores, file.sha256),
      inventory.locations(file.sha256, locationsQuery),
      Promise.all(history.map((entry) => storedSize(stores, entry.sha256))),
    ]);
    const name = downloadName(file.filepath, file.sha256);
    const slash = file.filepath.lastIndexOf("/");
    const directory = slash <= 0 ? "/" : file.filepath.slice(0, slash);
    return renderPage(
      c,
      { title: `${hostname}:${file.filepath}`, active: "hosts", viewer: viewerOf(c) },
      <div>
        <Breadcrumbs
          hostname={hostname}
          path={directory}
          fileName={file.filepath.slice(slash + 1)}
        />
        <h1>
          <span class="muted">{hostname}:</span>
          {file.filepath}
        </h1>
        {detail.deleted_at !== null && (
          <p class="notice warn">
            This file was deleted from {hostname} at{" "}
            {formatTime(detail.deleted_at)}; what follows is what it was.
          </p>
        )}
        <dl class="facts panel">
          <dt>Size</dt>
          <dd>{formatBytes(file.file_size)} ({file.file_size.toLocaleString("en-US")} bytes)</dd>
          <dt>SHA-256</dt>
          <dd class="mono">
            <a href={contentUrl(file.sha256)}>{file.sha256}</a>
          </dd>
          <dt>Modified</dt>
          <dd>{formatTime(file.file_mtime)}</dd>
          <dt>Mode, owner</dt>
          <dd class="mono">
            {(file.file_mode & 0o7777).toString(8).padStart(4, "0")} uid {file.file_uid} gid{" "}
            {file.file_gid}
          </dd>
          <dt>First registered</dt>
          <dd>{formatTime(file.created_at)}</dd>
          <dt>Last changed</dt>
          <dd>{formatTime(file.updated_at)}</dd>
          {file.ip_address !== "" && (
            <>
              <dt>Reported from</dt>
              <dd class="mono">{file.ip_address}</dd>
            </>
          )}
        </dl>
        <StoredState digest={file.sha256} size={size} name={name} />
        <h2>History</h2>
        {history.length === 0
          ? <p class="muted">This file has had one content since it was first registered.</p>
          : (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">
                  Earlier contents of this file, newest first
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Replaced</th>
                    <th scope="col">Content</th>
                    <th scope="col" class="num">Size</th>
                    <th scope="col" class="hide-narrow">Modified</th>
                    <th scope="col">Bytes</th>
                  </tr>
                </thead>
                <tbody>
                  {history.map((entry, index) => (
                    <tr>
                      <td>{formatTime(entry.replaced_at)}</td>
                      <td class="mono">
                        <a href={contentUrl(entry.sha256)}>{shortDigest(entry.sha256)}</a>
                      </td>
                      <td class="num">{formatBytes(entry.file_size)}</td>
                      <td class="hide-narrow">{formatTime(entry.file_mtime)}</td>
                      <td>
                        {historySizes[index] === null
                          ? <span class="badge warn">not stored</span>
                          : (
                            <a href={downloadUrl(entry.sha256, name)} download>
                              Download<span class="visually-hidden">
                                {` the version replaced at ${formatTime(entry.replaced_at)}`}
                              </span>
                            </a>
                          )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        <h2>Every location of this content</h2>
        <LocationsTable
          page={locations}
          url={url}
          param="cursor"
          caption="Live files with this content, the epoch file first"
          first={!url.searchParams.has("cursor")}
        />
      </div>,
    );
  });
  return routes;
}
