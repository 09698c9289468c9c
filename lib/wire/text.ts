/**
 * Text on the wire must be valid Unicode. JSON may spell a lone UTF-16 surrogate
 * (`"\ud800"`) and a URL may percent-encode bytes that are not UTF-8 (`%ED%A0%80`, `%FF`);
 * neither can be stored as it was sent (SQLite and MongoDB keep UTF-8 and would turn it
 * into U+FFFD, so two different paths would become one record). PutPlace keeps text
 * exactly, so it refuses such text instead, naming where it was.
 */

/**
 * Where the first string (or object key) in a parsed JSON value that is not well-formed
 * Unicode is: its path (`files.3.filepath`; `""` for the value itself); null when all are.
 */
export function illFormedTextAt(
  value: unknown,
  path: readonly (string | number)[] = [],
): string | null {
  if (typeof value === "string") return value.isWellFormed() ? null : path.join(".");
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = illFormedTextAt(value[i], [...path, i]);
      if (at !== null) return at;
    }
    return null;
  }
  if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (!key.isWellFormed()) return [...path, key.toWellFormed()].join(".");
      const at = illFormedTextAt(item, [...path, key]);
      if (at !== null) return at;
    }
  }
  return null;
}

/**
 * Decodes one percent-encoded URL component strictly (`+` as a space when `form`); null
 * when it encodes bytes that are not UTF-8 (lone surrogates included).
 */
export function decodeComponent(raw: string, form = false): string | null {
  try {
    return decodeURIComponent(form ? raw.replaceAll("+", " ") : raw);
  } catch {
    return null;
  }
}
