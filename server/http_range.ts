/**
 * HTTP `Range: bytes=...` against a representation of known size (RFC 9110 section 14):
 * `a-b`, `a-` and the suffix `-n`. A header that is absent, malformed, in another unit or
 * asks for several ranges is ignored (the whole representation is served), as the RFC
 * allows; a well-formed range that selects no byte is unsatisfiable (416).
 */
export type RangeChoice =
  | { kind: "whole" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

const SPEC = /^\s*(\d*)\s*-\s*(\d*)\s*$/;

export function chooseRange(header: string | null | undefined, size: number): RangeChoice {
  if (!header) return { kind: "whole" };
  const unit = header.match(/^\s*bytes\s*=(.*)$/i);
  if (!unit || unit[1].includes(",")) return { kind: "whole" };
  const spec = unit[1].match(SPEC);
  if (!spec) return { kind: "whole" };
  const [, first, last] = spec;
  if (first === "" && last === "") return { kind: "whole" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return { kind: "whole" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end: Math.min(last === "" ? size - 1 : Number(last), size - 1) };
}

/** True when an `If-None-Match` header matches the strong entity tag `etag` (weak comparison). */
export function ifNoneMatchHits(header: string | null | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

/** True when a `Range` may be honoured under `If-Range` (only a strong match of our tag). */
export function ifRangeAllows(header: string | null | undefined, etag: string): boolean {
  if (header === null || header === undefined) return true;
  return header.trim() === etag;
}
