/** The dashboard: what the fleet holds and what dedup saves. */
import { Hono } from "hono";
import { dedupStats, type Stores } from "../../../lib/dedup.ts";
import { BarChart } from "../charts.tsx";
import { formatBytes, formatCount, formatShare } from "../format.ts";
import { renderPage, viewerOf } from "../layout.tsx";
import type { UiEnv } from "../ui_env.ts";

export function dashboardRoutes(stores: Stores): Hono<UiEnv> {
  const routes = new Hono<UiEnv>();
  routes.get("/ui", async (c) => {
    const stats = await dedupStats(stores);
    return renderPage(
      c,
      { title: "Dashboard", active: "dashboard", viewer: viewerOf(c) },
      <div>
        <h1>Fleet inventory</h1>
        <dl class="cards">
          <div class="card">
            <dt>Files</dt>
            <dd>{formatCount(stats.files)}</dd>
          </div>
          <div class="card">
            <dt>Distinct contents</dt>
            <dd>{formatCount(stats.distinct_digests)}</dd>
          </div>
          <div class="card">
            <dt>Logical bytes</dt>
            <dd>
              {formatBytes(stats.logical_bytes)}
              <small>sum of every file's size</small>
            </dd>
          </div>
          <div class="card">
            <dt>Stored bytes</dt>
            <dd>
              {formatBytes(stats.stored_bytes)}
              <small>{formatCount(stats.stored_blobs)} blobs held</small>
            </dd>
          </div>
          <div class="card">
            <dt>Saved by dedup</dt>
            <dd>
              {formatBytes(stats.dedup_saved_bytes)}
              <small>{formatShare(stats.dedup_saved_bytes, stats.logical_bytes)} of logical</small>
            </dd>
          </div>
        </dl>
        <section class="panel" aria-labelledby="bytes-heading">
          <h2 id="bytes-heading">Logical and stored bytes</h2>
          <BarChart
            title="Logical bytes, stored bytes and bytes saved by dedup"
            bars={[
              {
                label: "Logical",
                value: stats.logical_bytes,
                text: formatBytes(stats.logical_bytes),
              },
              { label: "Stored", value: stats.stored_bytes, text: formatBytes(stats.stored_bytes) },
              {
                label: "Saved by dedup",
                value: stats.dedup_saved_bytes,
                text: formatBytes(stats.dedup_saved_bytes),
              },
            ]}
          />
        </section>
      </div>,
    );
  });
  return routes;
}
