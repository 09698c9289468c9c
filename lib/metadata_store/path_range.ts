/**
 * Paths as ranges of the (hostname, filepath) index: everything below a directory is the
 * half-open range `[prefix, end)` where `prefix` ends with "/" and `end` is the prefix with
 * that "/" replaced by the next character, "0". Strings compare by code point, which is the
 * byte order of UTF-8 that SQLite (BINARY) and MongoDB (simple collation) use.
 */

/** "/" for the root, else the directory path with exactly one trailing "/". */
export function directoryPrefix(directory: string): string {
  const trimmed = directory.replace(/\/+$/, "");
  return `${trimmed}/`;
}

/** The first string after every string that starts with `prefix` (which ends with "/"). */
export function prefixEnd(prefix: string): string {
  return `${prefix.slice(0, -1)}0`;
}

/** Code point order (UTF-8 byte order), unlike `<` on strings (UTF-16 code units). */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}
