import assert from "node:assert/strict";
import { isId, newId } from "./ids.ts";

Deno.test("newId() is 24 lowercase hex characters", () => {
  const id = newId();
  assert.match(id, /^[0-9a-f]{24}$/);
  assert.equal(isId(id), true);
});

Deno.test("newId() starts with the creation time in seconds, like an ObjectId", () => {
  const now = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  assert.equal(parseInt(newId(now).slice(0, 8), 16), Math.floor(now / 1000));
  assert.equal(newId(0).slice(0, 8), "00000000");
});

Deno.test("ids made in a later second sort after earlier ones", () => {
  const earlier = Array.from({ length: 50 }, () => newId(1_700_000_000_000));
  const later = Array.from({ length: 50 }, () => newId(1_700_000_001_000));
  for (const a of earlier) for (const b of later) assert.ok(a < b);
});

Deno.test("ids made in the same millisecond are distinct", () => {
  const ids = new Set(Array.from({ length: 10_000 }, () => newId(1_700_000_000_000)));
  assert.equal(ids.size, 10_000);
});

Deno.test("isId() rejects anything but 24 lowercase hex characters", () => {
  for (
    const value of [
      "",
      "0".repeat(23),
      "0".repeat(25),
      "A".repeat(24),
      "g".repeat(24),
      ` ${"0".repeat(23)}`,
    ]
  ) {
    assert.equal(isId(value), false, JSON.stringify(value));
  }
});

Deno.test("ids made by one process in one second increase (until the counter wraps)", () => {
  const ids = Array.from({ length: 1000 }, () => newId(1_700_000_000_000));
  const wraps = ids.filter((id, i) => i > 0 && id <= ids[i - 1]).length;
  assert.ok(wraps <= 1, `${wraps} ids did not increase`);
});
