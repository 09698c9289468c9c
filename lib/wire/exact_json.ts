/**
 * JSON with exact integers past 2^53: a bigint is written as its decimal digits (a JSON
 * number, as the schema says), where `JSON.stringify` would throw. Readers in JavaScript get
 * the nearest double; readers with big integers get the exact value.
 */
declare global {
  interface JSON {
    /** V8 (Deno 2): text written as it is by `JSON.stringify`, here a number's digits. */
    rawJSON(text: string): unknown;
  }
}

export function exactJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, item) => typeof item === "bigint" ? JSON.rawJSON(item.toString()) : item,
  );
}
