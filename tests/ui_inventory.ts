/**
 * A small fleet inventory for the web UI's browser test, made through a running ppserver's
 * real API: three hosts, duplicated and unique contents, a directory with enough files to
 * page, a modified file (history), a deleted one (a change), and files whose bytes were
 * never uploaded (at risk).
 */
import { digestOf } from "../lib/digest.ts";
import { fileAt } from "./file_fixture.ts";
import type { FileMetadata } from "../lib/models/file.ts";

export const HOSTS = ["db-01", "web-01", "web-02"] as const;

export interface UiInventory {
  /** The content on all three hosts (the largest duplicate group). */
  sharedLogo: { content: string; digest: string; path: string };
  /** A file with two versions. */
  edited: { hostname: string; path: string; before: string; after: string };
  /** A directory with more files than a page shows. */
  photos: { hostname: string; directory: string; count: number };
  /** A file never uploaded. */
  atRisk: { hostname: string; path: string };
}

function sized(label: string, size: number): string {
  return (label + "\n").padEnd(size, ".");
}

export async function makeUiInventory(url: string, writeKey: string): Promise<UiInventory> {
  const logo = sized("logo", 200_000);
  const config = sized("config", 3_000);
  const photos = Array.from({ length: 60 }, (_, i) => sized(`photo ${i}`, 1_000 + i * 37));
  const before = sized("index v1", 5_000);
  const after = sized("index v2", 5_400);
  const files: [FileMetadata, string][] = [];
  const add = (hostname: string, path: string, content: string, mtime = 1_760_000_000) =>
    files.push([{ ...fileAt(hostname, path, content), file_mtime: mtime }, content]);
  for (const host of HOSTS) {
    add(host, "/srv/www/assets/logo.png", logo);
    add(host, `/var/log/app-${host}.log`, sized(`log of ${host}`, 9_000));
    add(host, "/home/alice/notes.txt", sized(`notes on ${host}`, 700));
  }
  add("web-01", "/etc/app/config.yaml", config);
  add("web-02", "/etc/app/config.yaml", config);
  add("web-02", "/home/alice/old.txt", sized("old", 400));
  add("web-01", "/srv/www/index.html", before, 1_760_000_000);
  photos.forEach((p, i) =>
    add("web-01", `/srv/www/img/photo-${String(i).padStart(2, "0")}.jpg`, p)
  );

  await call(url, writeKey, "POST", "/v1/files/batch", { files: files.map(([f]) => f) });
  const uploaded = new Set<string>();
  for (const [file, content] of files) {
    if (file.filepath.startsWith("/var/log/") || uploaded.has(file.sha256)) continue;
    uploaded.add(file.sha256);
    await upload(url, writeKey, content);
  }
  // A second version of index.html and a deletion: history and changes.
  const edited = { ...fileAt("web-01", "/srv/www/index.html", after), file_mtime: 1_760_100_000 };
  await call(url, writeKey, "POST", "/v1/files/batch", { files: [edited] });
  await upload(url, writeKey, after);
  await call(url, writeKey, "POST", "/v1/files/deleted", {
    hostname: "web-02",
    filepaths: ["/home/alice/old.txt"],
  });
  return {
    sharedLogo: { content: logo, digest: digestOf(logo), path: "/srv/www/assets/logo.png" },
    edited: { hostname: "web-01", path: "/srv/www/index.html", before, after },
    photos: { hostname: "web-01", directory: "/srv/www/img", count: photos.length },
    atRisk: { hostname: "db-01", path: "/var/log/app-db-01.log" },
  };
}

async function upload(url: string, key: string, content: string): Promise<void> {
  const response = await fetch(`${url}/v1/blobs/${digestOf(content)}`, {
    method: "PUT",
    headers: { "x-api-key": key, "content-type": "application/octet-stream" },
    body: new TextEncoder().encode(content),
  });
  if (!response.ok) throw new Error(`upload: ${response.status} ${await response.text()}`);
  await response.body?.cancel();
}

async function call(url: string, key: string, method: string, path: string, body: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  }
  await response.body?.cancel();
}
