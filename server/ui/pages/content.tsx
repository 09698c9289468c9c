/**
 * One content (a digest): whether the server holds its blob, every live location (the epoch
 * file first), and a download of its verified bytes.
 */
import { Hono } from "hono";
import { readBlob, storedSize, type Stores } from "../../../lib/dedup.ts";
import { type Digest, parseDigest } from "../../../lib/digest.ts";
import { AppError, short } from "../../../lib/errors.ts";
import type { Inventory } from "../../../lib/inventory.ts";
import type { Page } from "../../../lib/metadata_store/mod.ts";
import type { FileRecord } from "../../../lib/models/file.ts";
import { locationsQuerySchema, parseQuery } from "../../../lib/wire/queries.ts";
import { filterInput } from "../filter_params.ts";
import { formatBytes, formatTime } from "../format.ts";
import { renderPage, viewerOf } from "../layout.tsx";
import { downloadUrl, fileUrl, treeUrl } from "../links.ts";
import { Pager } from "../pager.tsx";
import type { UiEnv } from "../ui_env.ts";
import { contentDisposition, downloadName, verifiedBlobStream } from "../verified_download.ts";

const PAGE_SIZE = "50";

export function LocationsTable(
  props: { page: Page<FileRecord>; url: URL; param: string; caption: string; first: boolean },
) {
  if (props.page.items.length === 0) {
    return <p class="empty panel">No live file has this content.</p>;
  }
  return (
    <>
      <div class="table-wrap">
        <table class="sortable">
          <caption class="visually-hidden">{props.caption}</caption>
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Path</th>
              <th scope="col" class="hide-narrow">Modified</th>
              <th scope="col" class="hide-narrow">Registered</th>
            </tr>
          </thead>
          <tbody>
            {props.page.items.map((file, index) => (
              <tr>
                <td>
                  <a href={treeUrl(file.hostname)}>{file.hostname}</a>
                </td>
                <td class="path">
                  <a href={fileUrl(file.hostname, file.filepath)}>{file.filepath}</a>
                  {props.first && index === 0 && (
                    <>
                      {" "}
                      <span class="badge" title="The first file registered with this content">
                        epoch file
                      </span>
                    </>
                  )}
                </td>
                <td class="hide-narrow" data-sort={file.file_mtime}>
                  {formatTime(file.file_mtime)}
                </td>
                <td class="hide-narrow" data-sort={file.created_at}>
                  {formatTime(file.created_at)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager url={props.url} nextCursor={props.page.next_cursor} param={props.param} />
    </>
  );
}

/** Whether the blob is held, and the download button when it is. */
export function StoredState(props: { digest: Digest; size: number | null; name: string }) {
  return props.size === null
    ? (
      <p class="notice warn">
        <strong>At risk:</strong>{" "}
        the server does not hold this content; no upload of it has reached the server.
      </p>
    )
    : (
      <p class="actions">
        <span class="badge ok">stored</span>
        <a class="button small" href={downloadUrl(props.digest, props.name)} download>
          Download verified bytes ({formatBytes(props.size)})
        </a>
      </p>
    );
}

export function contentRoutes(options: { stores: Stores; inventory: Inventory }): Hono<UiEnv> {
  const { stores, inventory } = options;
  const routes = new Hono<UiEnv>();

  routes.get("/ui/contents/:digest", async (c) => {
    const url = new URL(c.req.url);
    const digest = parseDigest(c.req.param("digest"));
    const query = parseQuery(locationsQuerySchema, {
      limit: PAGE_SIZE,
      ...filterInput(url.searchParams, {}),
    });
    const [size, page] = await Promise.all([
      storedSize(stores, digest),
      inventory.locations(digest, query),
    ]);
    const name = page.items[0]?.filepath ?? digest;
    return renderPage(
      c,
      { title: `Content ${short(digest)}`, viewer: viewerOf(c) },
      <div>
        <h1>
          Content <span class="mono">{short(digest, 16)}</span>
        </h1>
        <dl class="facts panel">
          <dt>SHA-256</dt>
          <dd class="mono">{digest}</dd>
          <dt>Size</dt>
          <dd>
            {page.items[0]
              ? formatBytes(page.items[0].file_size)
              : size === null
              ? "unknown"
              : formatBytes(size)}
          </dd>
        </dl>
        <StoredState digest={digest} size={size} name={downloadName(name, digest)} />
        <h2>Locations</h2>
        <LocationsTable
          page={page}
          url={url}
          param="cursor"
          caption="Live files with this content, the epoch file first"
          first={!url.searchParams.has("cursor")}
        />
      </div>,
    );
  });

  routes.get("/ui/contents/:digest/download", async (c) => {
    const digest = parseDigest(c.req.param("digest"));
    const size = await storedSize(stores, digest);
    if (size === null) {
      throw new AppError("not_found", `The server does not hold content "${short(digest)}"`);
    }
    const name = downloadName(c.req.query("name"), digest);
    const headers = new Headers({
      "content-type": "application/octet-stream",
      "content-length": String(size),
      "content-disposition": contentDisposition(name),
      "cache-control": "private, no-store",
    });
    if (size === 0) return new Response(null, { status: 200, headers });
    const blob = await readBlob(stores, digest);
    if (!blob) {
      throw new AppError("not_found", `The server does not hold content "${short(digest)}"`);
    }
    return new Response(verifiedBlobStream(blob.body, digest, size), { status: 200, headers });
  });

  return routes;
}
