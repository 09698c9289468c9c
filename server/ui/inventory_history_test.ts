import assert from "node:assert/strict";
import { openMetadataStore } from "../../lib/metadata_store/open.ts";
import { Inventory } from "../../lib/inventory.ts";
import { fileAt } from "../../tests/file_fixture.ts";
import { inventoryHistory, MAX_CHANGES } from "./inventory_history.ts";

const at = (iso: string) => new Date(iso);
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

Deno.test("inventoryHistory undoes each day's additions and deletions from the count now", async () => {
  await using store = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  await store.files.upsertMany(
    ["/a", "/b", "/c"].map((p) => fileAt("h", p)),
    at("2026-11-27T10:00:00Z"),
  );
  await store.files.markDeleted("h", ["/a"], at("2026-11-28T10:00:00Z"));
  await store.files.upsertMany([fileAt("h", "/d"), fileAt("g", "/e")], at("2026-11-30T09:00:00Z"));
  const now = at("2026-11-30T12:00:00Z");
  const history = await inventoryHistory(new Inventory(store), 4, now);
  assert.equal(history.cutAt, null);
  assert.deepEqual(history.points, [
    { x: day("2026-11-27"), y: 0 },
    { x: day("2026-11-28"), y: 3 },
    { x: day("2026-11-29"), y: 2 },
    { x: day("2026-11-30"), y: 2 },
    { x: now.getTime(), y: 4 },
  ]);
});

Deno.test("inventoryHistory stops where a window has more changes than it reads", async () => {
  await using store = await openMetadataStore({ kind: "sqlite", path: ":memory:" });
  const files = Array.from({ length: MAX_CHANGES + 1 }, (_, i) => fileAt("h", `/f${i}`));
  await store.files.upsertMany(files, at("2026-11-30T09:00:00Z"));
  const now = at("2026-11-30T12:00:00Z");
  const history = await inventoryHistory(new Inventory(store), files.length, now);
  assert.equal(history.cutAt, now.toISOString());
  assert.deepEqual(history.points, [{ x: now.getTime(), y: files.length }]);
});
