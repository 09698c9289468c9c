/** The dashboard: what the fleet holds, what dedup saves, what is at risk, and its growth. */
import { Hono } from "hono";
import type { Inventory } from "../../../lib/inventory.ts";
import { BarChart, TimeChart } from "../charts.tsx";
import { formatBytes, formatCount, formatShare, formatTime } from "../format.ts";
import { inventoryHistory } from "../inventory_history.ts";
import { renderPage, viewerOf } from "../layout.tsx";
import type { UiEnv } from "../ui_env.ts";

export function dashboardRoutes(inventory: Inventory): Hono<UiEnv> {
  const routes = new Hono<UiEnv>();
  routes.get("/ui", async (c) => {
    const now = new Date();
    const stats = await inventory.stats({});
    const history = await inventoryHistory(inventory, stats.files, now);
    const first = history.points[0];
    return renderPage(
      c,
      { title: "Dashboard", active: "dashboard", viewer: viewerOf(c) },
      <div>
        <h1>Fleet inventory</h1>
        <dl class="cards">
          <div class="card">
            <dt>Hosts</dt>
            <dd>
              <a href="/ui/hosts">{formatCount(stats.hosts)}</a>
            </dd>
          </div>
          <div class="card">
            <dt>Files</dt>
            <dd>
              {formatCount(stats.files)}
              <small>{formatCount(stats.distinct_digests)} distinct contents</small>
            </dd>
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
              <small>{formatCount(stats.stored_digests)} contents held</small>
            </dd>
          </div>
          <div class="card">
            <dt>Saved by dedup</dt>
            <dd>
              {formatBytes(stats.dedup_saved_bytes)}
              <small>{formatShare(stats.dedup_saved_bytes, stats.logical_bytes)} of logical</small>
            </dd>
          </div>
          <div class="card">
            <dt>At risk</dt>
            <dd>
              <a href="/ui/protection">{formatCount(stats.at_risk_files)}</a>
              <small>{formatBytes(stats.at_risk_bytes)} not on the server</small>
            </dd>
          </div>
        </dl>
        <div class="panels">
          <section class="panel" aria-labelledby="growth-heading">
            <h2 id="growth-heading">Files over time</h2>
            {history.points.length < 2
              ? (
                <p class="empty">
                  The last day had more changes than this chart reads; see Changes.
                </p>
              )
              : (
                <TimeChart
                  id="growth-chart"
                  title="Live files in the inventory, by day"
                  summary={`From ${formatCount(first?.y ?? 0)} files on ${
                    formatTime(first ? first.x / 1000 : null)
                  } to ${formatCount(stats.files)} now.`}
                  series={[{ label: "Files", points: history.points }]}
                  format={(y) => formatCount(Math.round(y))}
                />
              )}
            {history.cutAt !== null && history.points.length >= 2 && (
              <p class="muted">
                Starts after{" "}
                {formatTime(history.cutAt)}: that day had too many changes to count here.
              </p>
            )}
          </section>
          <section class="panel" aria-labelledby="bytes-heading">
            <h2 id="bytes-heading">Logical and stored bytes</h2>
            <BarChart
              title="Logical bytes, bytes each distinct content takes once, and bytes stored"
              bars={[
                {
                  label: "Logical",
                  value: stats.logical_bytes,
                  text: formatBytes(stats.logical_bytes),
                },
                {
                  label: "Distinct",
                  value: stats.unique_bytes,
                  text: formatBytes(stats.unique_bytes),
                },
                {
                  label: "Stored",
                  value: stats.stored_bytes,
                  text: formatBytes(stats.stored_bytes),
                },
              ]}
            />
          </section>
        </div>
      </div>,
    );
  });
  return routes;
}
