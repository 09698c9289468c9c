/** The URLs of the web UI's pages, built in one place. */

export function treeUrl(hostname: string, path = "/"): string {
  const query = path === "/" ? "" : `?path=${encodeURIComponent(path)}`;
  return `/ui/hosts/${encodeURIComponent(hostname)}${query}`;
}

export function fileUrl(hostname: string, path: string): string {
  return `/ui/hosts/${encodeURIComponent(hostname)}/file?path=${encodeURIComponent(path)}`;
}

export function contentUrl(digest: string): string {
  return `/ui/contents/${digest}`;
}

/** The verified bytes of a blob, saved under `name`. */
export function downloadUrl(digest: string, name: string): string {
  return `/ui/contents/${digest}/download?name=${encodeURIComponent(name)}`;
}

/** `url` with one query parameter set (or removed when `value` is null). */
export function withParam(url: URL, name: string, value: string | null): string {
  const next = new URL(url);
  if (value === null) next.searchParams.delete(name);
  else next.searchParams.set(name, value);
  next.searchParams.delete("fragment");
  return `${next.pathname}${next.search}`;
}
