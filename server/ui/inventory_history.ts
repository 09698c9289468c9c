/**
 * The inventory over time for the dashboard's chart, rebuilt from the changes the store
 * keeps: starting from today's file count, each day's additions and deletions are undone
 * going back. One query per day (at most `MAX_CHANGES_PER_DAY` changes each, run together);
 * the chart stops before a day with more changes than that, so its cost stays bounded on
 * any inventory and what it shows is exact.
 */
import type { Inventory } from "../../lib/inventory.ts";
import type { Point } from "./charts.tsx";

const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_CHANGES_PER_DAY = 1000;

export interface InventoryHistory {
  /** Live files at each day's start (UTC midnight), oldest first, ending with now. */
  points: Point[];
  /** The first day left out because it had too many changes to count; null when none. */
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
  days = 30,
): Promise<InventoryHistory> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const starts = Array.from({ length: days }, (_, i) => today - i * DAY_MS);
  const pages = await Promise.all(starts.map((start, i) =>
    inventory.changes({
      since: new Date(start).toISOString(),
      until: (i === 0 ? now : new Date(start + DAY_MS)).toISOString(),
      limit: MAX_CHANGES_PER_DAY,
    })
  ));
  const points: Point[] = [{ x: now.getTime(), y: currentFiles }];
  let files = currentFiles;
  for (let i = 0; i < days; i++) {
    if (pages[i].next_cursor !== null) {
      return { points: fromFirstFiles(points.reverse()), cutAt: new Date(starts[i]).toISOString() };
    }
    for (const change of pages[i].items) {
      if (change.kind === "added") files--;
      else if (change.kind === "deleted") files++;
    }
    points.push({ x: starts[i], y: Math.max(0, files) });
  }
  return { points: fromFirstFiles(points.reverse()), cutAt: null };
}
