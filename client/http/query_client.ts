/**
 * Typed calls of the /v1 read routes (`lib/wire/queries.ts`): each answer is parsed with
 * the same schema the server documents, and `pages()` follows cursors to the last page.
 */
import type { z } from "zod";
import type { Digest } from "../../lib/digest.ts";
import {
  changeSchema,
  duplicateGroupSchema,
  duplicatesPageSchema,
  fileDetailSchema,
  fileRecordSchema,
  hostSummarySchema,
  inventoryStatsSchema,
  pageSchema,
  snapshotFileSchema,
  treeEntrySchema,
} from "../../lib/wire/queries.ts";
import { parseJson, type Transport } from "./transport.ts";

export type Params = Record<string, string | number | string[] | undefined>;

export const hostsPage = pageSchema(hostSummarySchema);
export const treePage = pageSchema(treeEntrySchema);
export type TreeEntry = z.infer<typeof treeEntrySchema>;
export const filePage = pageSchema(fileRecordSchema);
export const changePage = pageSchema(changeSchema);
export const snapshotPage = pageSchema(snapshotFileSchema);
export const duplicatePage = duplicatesPageSchema;
export { duplicateGroupSchema, fileDetailSchema, inventoryStatsSchema };

/** Page size asked for when following cursors. */
const PAGE = 1000;

export class QueryClient {
  constructor(readonly transport: Transport, private readonly signal?: AbortSignal) {}

  /** `GET path?params`, the answer parsed with `schema`. */
  async get<T>(path: string, params: Params, schema: z.ZodType<T>): Promise<T> {
    const url = new URL(`${this.transport.baseUrl}${path}`);
    for (const [name, value] of Object.entries(params)) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) {
        url.searchParams.append(name, String(one));
      }
    }
    const label = `GET ${path}`;
    return await this.transport.send(label, () => ({ url: url.href, init: { method: "GET" } }), {
      signal: this.signal,
      accept: (response) => parseJson(response, schema, label),
    });
  }

  /** Every item of a paged route, page by page, up to `max` items. */
  async *pages<T>(
    path: string,
    params: Params,
    schema: z.ZodType<{ items: T[]; next_cursor: string | null }>,
    max = Infinity,
  ): AsyncGenerator<T> {
    let cursor: string | undefined;
    let given = 0;
    do {
      const limit = Math.max(1, Math.min(PAGE, max - given));
      const page = await this.get(path, { ...params, limit, cursor }, schema);
      for (const item of page.items) {
        if (given >= max) return;
        given++;
        yield item;
      }
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined && given < max);
  }

  locationsPath(digest: Digest): string {
    return `/v1/locations/${digest}`;
  }

  hostPath(hostname: string, what: "tree" | "file" | "snapshot"): string {
    return `/v1/hosts/${encodeURIComponent(hostname)}/${what}`;
  }
}
