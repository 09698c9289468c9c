/**
 * The web UI's static assets, served from strings in memory under `/ui/assets/`. URLs carry
 * a digest of the content, so browsers may cache them for good.
 */
import { createHash } from "node:crypto";
import { Hono } from "hono";
import { ICON } from "./icon.ts";
import { SCRIPT } from "./script.ts";
import { STYLE } from "./style.ts";

interface Asset {
  body: string;
  type: string;
  version: string;
}

function asset(body: string, type: string): Asset {
  return { body, type, version: createHash("sha256").update(body).digest("hex").slice(0, 16) };
}

export type AssetName = "app.css" | "app.js" | "icon.svg";

const ASSETS = new Map<string, Asset>(
  [
    ["app.css", asset(STYLE, "text/css; charset=utf-8")],
    ["app.js", asset(SCRIPT, "text/javascript; charset=utf-8")],
    ["icon.svg", asset(ICON, "image/svg+xml")],
  ] satisfies [AssetName, Asset][],
);

/** The URL of an asset, versioned by its content. */
export function assetUrl(name: AssetName): string {
  return `/ui/assets/${name}?v=${ASSETS.get(name)?.version}`;
}

export function assetRoutes(): Hono {
  const routes = new Hono();
  routes.get("/ui/assets/:name", (c) => {
    const found = ASSETS.get(c.req.param("name"));
    if (!found) return c.notFound();
    const etag = `"${found.version}"`;
    c.header("etag", etag);
    c.header("cache-control", "public, max-age=31536000, immutable");
    if (c.req.header("if-none-match") === etag) return c.body(null, 304);
    c.header("content-type", found.type);
    return c.body(found.body);
  });
  return routes;
}
