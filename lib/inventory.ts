/**
 * The read side of PutPlace as domain operations, free of HTTP: the `/v1` query routes and
 * the web UI both call these with queries parsed by `lib/wire/queries.ts`, so they answer
 * alike. Each returns plain data in the wire shapes; failures are `AppError`s.
 */
import type { Digest } from "./digest.ts";
import { AppError } from "./errors.ts";
import type {
  Change,
  DuplicateFilter,
  DuplicateGroup,
  DuplicateTotals,
  FileDetail,
  HostSummary,
  InventoryStats,
  MetadataStore,
  Page,
  PageRequest,
  SearchFilter,
  SingleHostContent,
  SnapshotFile,
  TreeEntry,
} from "./metadata_store/mod.ts";
import { directoryPrefix } from "./metadata_store/path_range.ts";
import type { FileRecord } from "./models/file.ts";
import { compileGlob } from "./path_glob.ts";
import type {
  AtRiskQuery,
  ChangesQuery,
  DuplicatesQuery,
  FileQuery,
  HostsQuery,
  LocationsQuery,
  SearchQuery,
  SingleHostQuery,
  SnapshotQuery,
  StatsQuery,
  TreeQuery,
} from "./wire/queries.ts";

/** The latest time an ISO 8601 string of `toISOString()` can name. */
const END_OF_TIME = "9999-12-31T23:59:59.999Z";

export type DuplicatesPage = Page<DuplicateGroup> & { totals: DuplicateTotals };

export class Inventory {
  constructor(private readonly store: MetadataStore) {}

  hosts(query: HostsQuery): Promise<Page<HostSummary>> {
    return this.store.inventory.hosts(pageOf(query));
  }

  tree(hostname: string, query: TreeQuery): Promise<Page<TreeEntry>> {
    return this.store.inventory.tree(hostname, query.path, pageOf(query));
  }

  async file(hostname: string, query: FileQuery): Promise<FileDetail> {
    const detail = await this.store.inventory.file(hostname, query.path);
    if (detail === null) {
      throw new AppError("not_found", `No file "${query.path}" on host "${hostname}"`);
    }
    return detail;
  }

  search(query: SearchQuery): Promise<Page<FileRecord>> {
    const filter: SearchFilter = {
      substring: query.q,
      glob: query.glob === undefined ? undefined : compileGlob(query.glob),
      hostname: query.host,
      path_prefix: query.path_prefix === undefined ? undefined : directoryPrefix(query.path_prefix),
      digest: query.digest,
      min_size: query.min_size,
      max_size: query.max_size,
      mtime_from: query.mtime_from,
      mtime_to: query.mtime_to,
      reported_since: query.reported_since,
    };
    return this.store.inventory.search(filter, pageOf(query));
  }

  locations(digest: Digest, query: LocationsQuery): Promise<Page<FileRecord>> {
    return this.store.inventory.locations(digest, pageOf(query));
  }

  /** Every location of a digest, epoch file first (the classic `/api/clones`). */
  async *allLocations(digest: Digest): AsyncGenerator<FileRecord> {
    let cursor: string | null = null;
    do {
      const page: Page<FileRecord> = await this.store.inventory.locations(digest, {
        limit: 1000,
        cursor,
      });
      yield* page.items;
      cursor = page.next_cursor;
    } while (cursor !== null);
  }

  async duplicates(query: DuplicatesQuery): Promise<DuplicatesPage> {
    const filter = duplicateFilterOf(query);
    const [page, totals] = await Promise.all([
      this.store.inventory.duplicates(filter, pageOf(query)),
      this.store.inventory.duplicateTotals(filter),
    ]);
    return { ...page, totals };
  }

  /** Every duplicate group of the query from its cursor on, for streamed exports. */
  async *allDuplicates(query: DuplicatesQuery): AsyncGenerator<DuplicateGroup> {
    const filter = duplicateFilterOf(query);
    let cursor: string | null = query.cursor ?? null;
    do {
      const page: Page<DuplicateGroup> = await this.store.inventory.duplicates(filter, {
        limit: 1000,
        cursor,
      });
      yield* page.items;
      cursor = page.next_cursor;
    } while (cursor !== null);
  }

  changes(query: ChangesQuery): Promise<Page<Change>> {
    return this.store.inventory.changes(
      {
        hostname: query.host,
        since: query.since,
        // No end given: everything since (also a change in this very millisecond).
        until: query.until ?? END_OF_TIME,
      },
      pageOf(query),
    );
  }

  atRisk(query: AtRiskQuery): Promise<Page<FileRecord>> {
    return this.store.inventory.atRisk({ hostname: query.host }, pageOf(query));
  }

  singleHost(query: SingleHostQuery): Promise<Page<SingleHostContent>> {
    return this.store.inventory.singleHost(
      { hostname: query.host, min_size: query.min_size },
      pageOf(query),
    );
  }

  stats(query: StatsQuery): Promise<InventoryStats> {
    return this.store.inventory.stats(query.host ?? null);
  }

  snapshot(hostname: string, query: SnapshotQuery): Promise<Page<SnapshotFile>> {
    return this.store.inventory.snapshot(hostname, query.path, query.at ?? null, pageOf(query));
  }
}

function pageOf(query: { limit: number; cursor?: string }): PageRequest {
  return { limit: query.limit, cursor: query.cursor ?? null };
}

function duplicateFilterOf(query: DuplicatesQuery): DuplicateFilter {
  return {
    hostnames: query.host,
    path_prefix: query.path_prefix === undefined ? undefined : directoryPrefix(query.path_prefix),
    min_size: query.min_size,
  };
}
