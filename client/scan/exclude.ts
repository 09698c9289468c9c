/**
 * Exclude patterns, matched against a path relative to its scan root (`/`-separated).
 *
 * - A pattern without wildcards matches a whole path component: `.git` excludes
 *   `.git`, `a/.git` and everything below them, never `.gitignore`. A plain pattern
 *   with a `/` (`build/out`) matches that relative path exactly.
 * - A pattern with `*`, `?`, `[...]` or `**` is a glob on the relative path: `*` and `?`
 *   never cross `/`, `**` matches any number of components, `[!...]` negates a class.
 *   A glob without `/` (`*.pyc`) applies at any depth, as in .gitignore; a glob with `/`
 *   (`build/*.o`, `/top-only/*`) is anchored at the scan root.
 * - A trailing `/` (`cache/`) limits a pattern to directories.
 */
export interface ExcludeRule {
  pattern: string;
  matches(relativePath: string, isDirectory: boolean): boolean;
}

const WILDCARDS = /[*?[]/;

export function compileExclude(pattern: string): ExcludeRule {
  const directoryOnly = pattern.length > 1 && pattern.endsWith("/");
  const body = directoryOnly ? pattern.replace(/\/+$/, "") : pattern;
  let test: (relativePath: string) => boolean;
  if (!WILDCARDS.test(body)) {
    const literal = body.replace(/^\/+/, "");
    test = literal.includes("/")
      ? (path) => path === literal
      : (path) => path === literal || componentsOf(path).includes(literal);
  } else {
    const anchored = body.includes("/");
    const glob = anchored ? body.replace(/^\/+/, "") : `**/${body}`;
    const regex = globToRegExp(glob);
    test = (path) => regex.test(path);
  }
  return {
    pattern,
    matches: (relativePath, isDirectory) =>
      (!directoryOnly || isDirectory) && relativePath !== "" && test(relativePath),
  };
}

/** True when any rule excludes the path. */
export function isExcluded(
  rules: readonly ExcludeRule[],
  relativePath: string,
  isDirectory: boolean,
): boolean {
  for (const rule of rules) if (rule.matches(relativePath, isDirectory)) return true;
  return false;
}

function componentsOf(path: string): string[] {
  return path.split("/");
}

export function globToRegExp(glob: string): RegExp {
  let out = "";
  let i = 0;
  while (i < glob.length) {
    const c = glob[i];
    if (c === "*") {
      if (glob[i + 1] === "*") {
        const atStart = i === 0 || glob[i - 1] === "/";
        const slashAfter = glob[i + 2] === "/";
        if (atStart && slashAfter) {
          out += "(?:[^/]*/)*"; // `**/`: zero or more whole components
          i += 3;
        } else if (atStart && i + 2 === glob.length) {
          out += ".*"; // trailing `/**`: everything below
          i += 2;
        } else {
          out += ".*";
          i += 2;
        }
      } else {
        out += "[^/]*";
        i += 1;
      }
    } else if (c === "?") {
      out += "[^/]";
      i += 1;
    } else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end === -1) {
        out += "\\[";
        i += 1;
      } else {
        let set = glob.slice(i + 1, end);
        const negate = set.startsWith("!") || set.startsWith("^");
        if (negate) set = set.slice(1);
        set = set.replace(/[\\\]^]/g, "\\$&");
        out += negate ? `[^/${set}]` : `[${set}]`;
        i = end + 1;
      }
    } else {
      out += c.replace(/[.+^${}()|\\\]\/]/g, "\\$&");
      i += 1;
    }
  }
  return new RegExp(`^${out}$`);
}
