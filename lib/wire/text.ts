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
 * Iterative, so a hostile nesting depth cannot overflow the stack.
 */
export function illFormedTextAt(value: unknown): string | null {
  interface Node {
    value: unknown;
    key: string | number | null;
    parent: Node | null;
  }
  const pathOf = (node: Node | null, last?: string): string => {
    const keys: (string | number)[] = last === undefined ? [] : [last];
    for (let at = node; at !== null && at.key !== null; at = at.parent) keys.push(at.key);
    return keys.reverse().join(".");
  };
  const pending: Node[] = [{ value, key: null, parent: null }];
  while (pending.length > 0) {
    const node = pending.pop()!;
    const { value } = node;
    if (typeof value === "string") {
      if (!value.isWellFormed()) return pathOf(node);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        pending.push({ value: value[i], key: i, parent: node });
      }
    } else if (typeof value === "object" && value !== null) {
      const entries = Object.entries(value);
      for (const [key] of entries) {
        if (!key.isWellFormed()) return pathOf(node, key.toWellFormed());
      }
      for (let i = entries.length - 1; i >= 0; i--) {
        pending.push({ value: entries[i][1], key: entries[i][0], parent: node });
      }
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
