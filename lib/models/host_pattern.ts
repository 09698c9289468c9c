/**
 * Host limits of an API key: the host names (hostnames as files report them) a write key
 * may register, report deleted and upload for. A pattern is a host name, or a glob with
 * `*` (any run of characters) and `?` (one character); matching is exact and
 * case-sensitive, like the hostname key of a file.
 */
import { z } from "zod";

/** Most patterns one key may carry. */
export const MAX_HOST_PATTERNS = 100;

export const hostPatternSchema = z.string().min(1).max(255).regex(/^[^\0\s]+$/, {
  message: "Expected a host name or a glob of one (* and ?), without spaces",
});

/** A key's limits: null for any host, else at least one pattern. */
export const hostLimitsSchema = z.array(hostPatternSchema).min(1).max(MAX_HOST_PATTERNS)
  .nullable();
export type HostLimits = z.infer<typeof hostLimitsSchema>;

/** True when `hostname` is allowed by `limits` (null allows every host). */
export function hostAllowed(limits: HostLimits, hostname: string): boolean {
  return limits === null || limits.some((pattern) => globOf(pattern).test(hostname));
}

const globs = new Map<string, RegExp>();

function globOf(pattern: string): RegExp {
  let regex = globs.get(pattern);
  if (!regex) {
    const body = [...pattern].map((ch) =>
      ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\]/g, "\\$&")
    ).join("");
    regex = new RegExp(`^${body}$`, "su");
    if (globs.size > 10_000) globs.clear();
    globs.set(pattern, regex);
  }
  return regex;
}
