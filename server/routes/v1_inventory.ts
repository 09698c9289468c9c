/**
 * The read side of /v1: hosts, trees, files with history, search, locations, duplicates,
 * changes, protection, inventory stats and point-in-time snapshots. Thin: parameters are
 * parsed with `lib/wire/queries.ts`, answers come from `lib/inventory.ts` (which the web UI
 * calls too). Keys of scope `read` or `admin` only: a write-only key (a scanning machine)
 * gets 403, so a stolen scanner key does not reveal the fleet.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { z } from "zod";
import { parseDigest } from "../../lib/digest.ts";
import { Inventory } from "../../lib/inventory.ts";
import type { DuplicateGroup } from "../../lib/metadata_store/mod.ts";
import {
  atRiskQuerySchema,
  changesQuerySchema,
  duplicatesInput,
  duplicatesQuerySchema,
  fileQuerySchema,
  hostnameParam,
  hostsQuerySchema,
  locationsQuerySchema,
  parseQuery,
  queryInput,
  searchQuerySchema,
  singleHostQuerySchema,
  snapshotQuerySchema,
  statsQuerySchema,
  treeQuerySchema,
} from "../../lib/wire/queries.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import type { DocumentedRoutes } from "../openapi.ts";
import type { RouteDeps } from "./route_deps.ts";
import { CSV_COLUMNS, JSONL, v1InventoryOperations } from "./v1_inventory_openapi.ts";

const CSV = "text/csv; charset=utf-8";

export function v1InventoryRoutes({ stores, guards }: RouteDeps): DocumentedRoutes {
  const inventory = new Inventory(stores.metadata);
  const read = guards.reader;
  const routes = new Hono<AuthEnv>();
  const query = <T extends z.ZodType>(c: Context, schema: T) =>
    parseQuery(schema, queryInput(new URL(c.req.url).searchParams));
  const host = (c: Context) => parseQuery(hostnameParam, c.req.param("hostname"));

  routes.get(
    "/v1/hosts",
    read,
    async (c) => c.json(await inventory.hosts(query(c, hostsQuerySchema))),
  );
  routes.get(
    "/v1/hosts/:hostname/tree",
    read,
    async (c) => c.json(await inventory.tree(host(c), query(c, treeQuerySchema))),
  );
  routes.get(
    "/v1/hosts/:hostname/file",
    read,
    async (c) => c.json(await inventory.file(host(c), query(c, fileQuerySchema))),
  );
  routes.get(
    "/v1/hosts/:hostname/snapshot",
    read,
    async (c) => c.json(await inventory.snapshot(host(c), query(c, snapshotQuerySchema))),
  );
  routes.get(
    "/v1/search",
    read,
    async (c) => c.json(await inventory.search(query(c, searchQuerySchema))),
  );
  routes.get("/v1/locations/:digest", read, async (c) =>
    c.json(
      await inventory.locations(parseDigest(c.req.param("digest")), query(c, locationsQuerySchema)),
    ));
  routes.get("/v1/duplicates", read, async (c) => {
    const parsed = parseQuery(
      duplicatesQuerySchema,
      duplicatesInput(new URL(c.req.url).searchParams),
    );
    const format = parsed.format ?? formatOf(c.req.header("accept"));
    if (format === "json") return c.json(await inventory.duplicates(parsed));
    const lines = format === "csv"
      ? csvLines(inventory.allDuplicates(parsed))
      : jsonLines(inventory.allDuplicates(parsed));
    return new Response(textStream(lines), {
      headers: { "content-type": format === "csv" ? CSV : JSONL },
    });
  });
  routes.get(
    "/v1/changes",
    read,
    async (c) => c.json(await inventory.changes(query(c, changesQuerySchema))),
  );
  routes.get(
    "/v1/protection/at-risk",
    read,
    async (c) => c.json(await inventory.atRisk(query(c, atRiskQuerySchema))),
  );
  routes.get(
    "/v1/protection/single-host",
    read,
    async (c) => c.json(await inventory.singleHost(query(c, singleHostQuerySchema))),
  );
  routes.get(
    "/v1/inventory/stats",
    read,
    async (c) => c.json(await inventory.stats(query(c, statsQuerySchema))),
  );

  return { routes, features: ["inventory.queries"], operations: v1InventoryOperations() };
}

function formatOf(accept: string | undefined): "json" | "jsonl" | "csv" {
  if (accept === undefined) return "json";
  if (/\btext\/csv\b/.test(accept)) return "csv";
  if (/\bapplication\/(jsonl|x-ndjson)\b/.test(accept)) return "jsonl";
  return "json";
}

async function* csvLines(groups: AsyncIterable<DuplicateGroup>): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(",")}\r\n`;
  // Every column is a digest or a number: nothing to quote.
  for await (const group of groups) yield `${CSV_COLUMNS.map((k) => group[k]).join(",")}\r\n`;
}

async function* jsonLines(groups: AsyncIterable<DuplicateGroup>): AsyncGenerator<string> {
  for await (const group of groups) yield `${JSON.stringify(group)}\n`;
}

/** Lines as a byte stream, produced as the reader pulls (never the whole export in memory). */
function textStream(lines: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    async pull(controller) {
      const next = await lines.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}
