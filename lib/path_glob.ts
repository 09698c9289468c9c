/**
 * Path patterns for inventory search, the same on every metadata store:
 * - `*` matches any characters except "/", `?` one character except "/", `**` anything
 *   (including "/"), `[abc]`, `[a-z]` and `[!abc]` one character of (not of) a set;
 * - a pattern without "/" is matched against the file's name (like `find -name`), one with
 *   "/" against the whole path. Matching is case-sensitive.
 *
 * A pattern compiles to a JavaScript regular expression source (every adapter evaluates it
 * with JavaScript's engine or MongoDB's PCRE, for which the emitted subset means the same)
 * and, for SQLite, a GLOB prefilter that matches a superset (its `*` crosses "/").
 */
import { AppError } from "./errors.ts";

export interface CompiledGlob {
  regex: string;
  /** SQLite GLOB pattern over the whole path matching at least every match; null if useless. */
  prefilter: string | null;
}

const MAX_PATTERN = 1024;

export function compileGlob(pattern: string): CompiledGlob {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN || pattern.includes("\0")) {
    throw new AppError(
      "invalid_input",
      `Invalid glob: expected 1 to ${MAX_PATTERN} characters without NUL`,
    );
  }
  const byName = !pattern.includes("/");
  let regex = "";
  let glob = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "*") {
      if (pattern[i + 1] === "*") {
        regex += ".*";
        i++;
      } else {
        regex += "[^/]*";
      }
      if (!glob.endsWith("*")) glob += "*";
    } else if (char === "?") {
      regex += "[^/]";
      glob += "?";
    } else if (char === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) {
        throw new AppError("invalid_input", `Invalid glob "${pattern}": "[" without a closing "]"`);
      }
      let body = pattern.slice(i + 1, end);
      const negated = body.startsWith("!");
      if (negated) body = body.slice(1);
      const members = [...body].map((c) => (c === "-" ? "-" : escapeRegexClass(c))).join("");
      regex += negated ? `[^/${members}]` : `[${members}]`;
      glob += negated ? `[^${body}]` : `[${body}]`;
      i = end;
    } else {
      regex += escapeRegex(char);
      glob += char === "]" ? "]" : char;
    }
  }
  const source = byName ? `(^|/)${regex}$` : `^${regex}$`;
  try {
    new RegExp(source, "u");
  } catch {
    throw new AppError("invalid_input", `Invalid glob "${pattern}"`);
  }
  const prefilter = byName && !glob.startsWith("*") ? `*${glob}` : glob;
  return { regex: source, prefilter: prefilter === "*" ? null : prefilter };
}

function escapeRegex(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

function escapeRegexClass(char: string): string {
  return /[\\\]^[]/.test(char) ? `\\${char}` : char;
}

/** A SQLite GLOB pattern that matches `text` literally. */
export function globLiteral(text: string): string {
  return text.replace(/[*?[]/g, (c) => `[${c}]`);
}

/** A regular expression source that matches `text` literally. */
export function regexLiteral(text: string): string {
  return [...text].map(escapeRegex).join("");
}
