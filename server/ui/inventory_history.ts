/**
 * The inventory over time for the dashboard's chart, rebuilt from the changes the store
 * keeps: starting from the file count now, each day's additions and deletions are undone
 * going back. The changes are read in at most three windows going back (the last day, the
 * week before it, the rest of 30 days), at most `MAX_CHANGES` changes each; the chart
 * starts where a window had more changes than that, so its cost stays bounded on any
 * inventory (three queries, not one a day) and what it shows is exact.
 */
import type { Inventory } from "../../lib/inventory.ts";
import type { Change } from "../../lib/metadata_store/mod.ts";
import type { Point } from "./charts.tsx";

const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_CHANGES = 1000;
const WINDOW_DAYS = [1, 7, 30];

export interface InventoryHistory {
  /** Live files at each day's start (UTC midnight), oldest first, ending with now. */
  points: Point[];
  /** Where the chart was cut because a window had too many changes; null when not cut. */
  cutAt: string | null;
}

/** Leading days with no file are dropped, but for the last of them (the chart starts at 0). */
function fromFirstFiles(points: Point[]): Point[] {
  const first = points.findIndex((p) => p.y > 0);
  return first <= 1 ? points : points.slice(first - 1);
}

export async function inventoryHistory(
  inventory: Inventory,
  currentFiles: number,
  now: Date,
): Promise<InventoryHistory> {
  const changes: Change[] = [];
  let covered = now.getTime();
  let cutAt: string | null = null;
  for (const days of WINDOW_DAYS) {
    const since = now.getTime() - days * DAY_MS;
    const page = await inventory.changes({
      since: new Date(since).toISOString(),
      until: new Date(covered).toISOString(),
      limit: MAX_CHANGES,
    });
    if (page.next_cursor !== null) {
      cutAt = new Date(covered).toISOString();
      break;
    }
    changes.push(...page.items);
    covered = since;
  }
  // Net files added per UTC day, then undone from now going back.
  const netByDay = new Map<number, number>();
  for (const change of changes) {
    const at = Date.parse(change.at);
    const day = at - (at % DAY_MS);
    const net = change.kind === "added" ? 1 : change.kind === "deleted" ? -1 : 0;
    netByDay.set(day, (netByDay.get(day) ?? 0) + net);
  }
  // A day's start gets a point when every change since then was read.
  const points: Point[] = [{ x: now.getTime(), y: currentFiles }];
  let files = currentFiles;
  for (let day = now.getTime() - (now.getTime() % DAY_MS); day >= covered; day -= DAY_MS) {
    files -= netByDay.get(day) ?? 0;
    points.push({ x: day, y: files });
  }
  return { points: fromFirstFiles(points.reverse()), cutAt };
}
