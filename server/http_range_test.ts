import assert from "node:assert/strict";
import { chooseRange, ifNoneMatchHits, ifRangeAllows } from "./http_range.ts";

Deno.test("chooseRange() serves the whole blob without a Range header", () => {
  assert.deepEqual(chooseRange(null, 10), { kind: "whole" });
  assert.deepEqual(chooseRange("", 10), { kind: "whole" });
});

Deno.test("chooseRange() resolves a-b, a- and -n ranges", () => {
  assert.deepEqual(chooseRange("bytes=0-0", 10), { kind: "partial", start: 0, end: 0 });
  assert.deepEqual(chooseRange("bytes=2-5", 10), { kind: "partial", start: 2, end: 5 });
  assert.deepEqual(chooseRange("bytes=7-", 10), { kind: "partial", start: 7, end: 9 });
  assert.deepEqual(chooseRange("bytes=-3", 10), { kind: "partial", start: 7, end: 9 });
  assert.deepEqual(chooseRange("BYTES = 1 - 2", 10), { kind: "partial", start: 1, end: 2 });
});

Deno.test("chooseRange() clamps an end past the blob and a suffix longer than it", () => {
  assert.deepEqual(chooseRange("bytes=5-100", 10), { kind: "partial", start: 5, end: 9 });
  assert.deepEqual(chooseRange("bytes=-100", 10), { kind: "partial", start: 0, end: 9 });
  assert.deepEqual(chooseRange("bytes=9-9", 10), { kind: "partial", start: 9, end: 9 });
});

Deno.test("chooseRange() finds a start at or past the end unsatisfiable, also for empty blobs", () => {
  assert.deepEqual(chooseRange("bytes=10-", 10), { kind: "unsatisfiable" });
  assert.deepEqual(chooseRange("bytes=10-20", 10), { kind: "unsatisfiable" });
  assert.deepEqual(chooseRange("bytes=-0", 10), { kind: "unsatisfiable" });
  assert.deepEqual(chooseRange("bytes=0-", 0), { kind: "unsatisfiable" });
  assert.deepEqual(chooseRange("bytes=-5", 0), { kind: "unsatisfiable" });
  assert.deepEqual(chooseRange("bytes=99999999999999999999-", 10), { kind: "unsatisfiable" });
});

Deno.test("chooseRange() ignores malformed, multi-range and other-unit headers", () => {
  for (const header of ["bytes=5-2", "bytes=-", "bytes=a-b", "items=0-1", "bytes=0-1,3-4", "0-1"]) {
    assert.deepEqual(chooseRange(header, 10), { kind: "whole" }, header);
  }
});

Deno.test("ifNoneMatchHits() matches the tag in a list, weakly, and *", () => {
  const etag = '"abc"';
  assert.equal(ifNoneMatchHits('"abc"', etag), true);
  assert.equal(ifNoneMatchHits('"x", W/"abc"', etag), true);
  assert.equal(ifNoneMatchHits("*", etag), true);
  assert.equal(ifNoneMatchHits('"abcd"', etag), false);
  assert.equal(ifNoneMatchHits(null, etag), false);
});

Deno.test("ifRangeAllows() honours a Range only for our strong tag or no If-Range", () => {
  const etag = '"abc"';
  assert.equal(ifRangeAllows(null, etag), true);
  assert.equal(ifRangeAllows('"abc"', etag), true);
  assert.equal(ifRangeAllows('W/"abc"', etag), false);
  assert.equal(ifRangeAllows("Wed, 21 Oct 2015 07:28:00 GMT", etag), false);
});
