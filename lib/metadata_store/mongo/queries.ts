/**
 * The read side of the MongoDB store (see `../inventory.ts` for the contract).
 *
 * File lists are keysets on the (hostname, filepath) index and locations on the digest
 * index, as on SQLite. Grouping queries use one accumulator per `$group` (FerretDB computes
 * further ones wrongly) and finish in the process; there are no joins (FerretDB has no
 * `$lookup`), so "is the blob stored" is asked of the blob index in batches. Substring and
 * glob search are regular expressions over the paths: MongoDB has no trigram index, so they
 * scan (an anchored prefix, `path_prefix`, uses the index).
 */
import type { Collection, Document, Filter } from "mongodb";
import { ObjectId } from "mongodb";
import { z } from "zod";
import { type Digest, EMPTY_DIGEST } from "../../digest.ts";
import { isId } from "../../ids.ts";
import type { FileRecord } from "../../models/file.ts";
import { regexLiteral } from "../../path_glob.ts";
import { decodeCursor, encodeCursor, pageOf } from "../cursor.ts";
import type {
  AtRiskFilter,
  Change,
  ChangeFilter,
  DuplicateFilter,
  DuplicateGroup,
  DuplicateTotals,
  FileDetail,
  HostSummary,
  InventoryQueries,
  InventoryStats,
  Page,
  PageRequest,
  SearchFilter,
  SingleHostContent,
  SingleHostFilter,
  SnapshotFile,
  TreeEntry,
} from "../inventory.ts";
import { compareText, directoryPrefix, prefixEnd } from "../path_range.ts";
import type { BlobDocument } from "./blobs.ts";
import type { HostScanDocument } from "./files.ts";
import { fileOf, type IdDocument, storedFileOf, versionsOf } from "./documents.ts";
import { run } from "./errors.ts";

const LIVE = { deleted_at: null } as const;
const WITHOUT_HISTORY = { history: 0 } as const;
/** Digests per `$in` lookup in the blob index. */
const LOOKUP_BATCH = 1000;
/** Files read per round while looking for at-risk files. */
const SCAN_BATCH = 1000;

const text = z.string();
const bit = z.union([z.literal(0), z.literal(1)]);
const dateText = z.union([z.date(), z.string()]).transform((value) =>
  new Date(value).toISOString()
);
const deletedSchema = z.object({ deleted_at: dateText.nullish() });
const lastScanSchema = z.object({ last_complete_scan_at: dateText }).nullable();

export class MongoInventoryQueries implements InventoryQueries {
  constructor(
    private readonly files: Collection<IdDocument>,
    private readonly blobs: Collection<BlobDocument>,
    private readonly scans: Collection<HostScanDocument>,
  ) {}

  hosts(page: PageRequest): Promise<Page<HostSummary>> {
    return run(async () => {
      const after = page.cursor === null
        ? null
        : decodeCursor("hosts", page.cursor, z.tuple([text]))[0];
      const names = (await this.files.distinct("hostname"))
        .filter((name): name is string => typeof name === "string")
        .filter((name) => after === null || compareText(name, after) > 0)
        .sort(compareText);
      const chosen = names.slice(0, page.limit);
      const items: HostSummary[] = [];
      for (const hostname of chosen) items.push(await this.#host(hostname));
      return pageOf(items, names.length > page.limit, (h) => encodeCursor("hosts", [h.hostname]));
    });
  }

  async #host(hostname: string): Promise<HostSummary> {
    let files = 0;
    let logical = 0;
    let first: string | null = null;
    let last: string | null = null;
    const sizes = new Map<string, number>();
    for await (const document of this.files.find({ hostname }, { projection: WITHOUT_HISTORY })) {
      const stored = storedFileOf(document);
      const { deleted_at } = deletedSchema.parse(document);
      const changed = deleted_at ?? stored.file.updated_at;
      if (first === null || stored.file.created_at < first) first = stored.file.created_at;
      const latest = changed > stored.file.updated_at ? changed : stored.file.updated_at;
      if (last === null || latest > last) last = latest;
      if (stored.deleted) continue;
      files++;
      logical += stored.file.file_size;
      sizes.set(stored.file.sha256, stored.file.file_size);
    }
    const digests = [...sizes.keys()];
    const elsewhere = new Set<string>();
    for (const batch of batches(digests)) {
      const found = await this.files.distinct("sha256", {
        sha256: { $in: batch },
        hostname: { $ne: hostname },
        ...LIVE,
      });
      for (const digest of found) elsewhere.add(String(digest));
    }
    let exclusive = 0;
    for (const [digest, size] of sizes) if (!elsewhere.has(digest)) exclusive += size;
    return {
      hostname,
      files,
      logical_bytes: logical,
      distinct_digests: sizes.size,
      exclusive_bytes: exclusive,
      first_report_at: first ?? "",
      last_report_at: last ?? "",
      last_complete_scan_at: lastScanSchema.parse(await this.scans.findOne({ _id: hostname }))
        ?.last_complete_scan_at ?? null,
    };
  }

  tree(hostname: string, directory: string, page: PageRequest): Promise<Page<TreeEntry>> {
    return run(async () => {
      const prefix = directoryPrefix(directory);
      const after = page.cursor === null
        ? null
        : decodeCursor("tree", page.cursor, z.tuple([bit, text]));
      const directories = new Map<string, { files: number; bytes: number }>();
      const files: FileRecord[] = [];
      const cursor = this.files.find(
        { hostname, filepath: { $gte: prefix, $lt: prefixEnd(prefix) }, ...LIVE },
        { projection: WITHOUT_HISTORY },
      );
      for await (const document of cursor) {
        const file = fileOf(document);
        const rest = file.filepath.slice(prefix.length);
        const slash = rest.indexOf("/");
        if (slash < 0) {
          files.push(file);
          continue;
        }
        const name = rest.slice(0, slash);
        const totals = directories.get(name) ?? { files: 0, bytes: 0 };
        totals.files++;
        totals.bytes += file.file_size;
        directories.set(name, totals);
      }
      const entries: TreeEntry[] = [
        ...[...directories].sort(([a], [b]) => compareText(a, b)).map(([name, totals]) => ({
          kind: "directory" as const,
          name,
          path: prefix + name,
          ...totals,
        })),
        ...files.map((file) => ({
          kind: "file" as const,
          name: file.filepath.slice(prefix.length),
          file,
        })).sort((a, b) => compareText(a.name, b.name)),
      ];
      const keyOf = (entry: TreeEntry): [0 | 1, string] => [
        entry.kind === "directory" ? 1 : 0,
        entry.name,
      ];
      const remaining = after === null ? entries : entries.filter((entry) => {
        const [dir, name] = keyOf(entry);
        return dir < after[0] || (dir === after[0] && compareText(name, after[1]) > 0);
      });
      return pageOf(
        remaining.slice(0, page.limit),
        remaining.length > page.limit,
        (entry) => encodeCursor("tree", keyOf(entry)),
      );
    });
  }

  file(hostname: string, filepath: string): Promise<FileDetail | null> {
    return run(async () => {
      const document = await this.files.findOne({ hostname, filepath });
      if (!document) return null;
      return {
        file: fileOf(document),
        deleted_at: deletedSchema.parse(document).deleted_at ?? null,
        ...versionsOf(document),
      };
    });
  }

  search(filter: SearchFilter, page: PageRequest): Promise<Page<FileRecord>> {
    return run(() => {
      const and: Filter<IdDocument>[] = [LIVE];
      if (filter.substring !== undefined) {
        and.push({ filepath: { $regex: regexLiteral(filter.substring) } });
      }
      if (filter.glob !== undefined) and.push({ filepath: { $regex: filter.glob.regex } });
      if (filter.hostname !== undefined) and.push({ hostname: filter.hostname });
      if (filter.path_prefix !== undefined) {
        and.push({
          filepath: { $gte: filter.path_prefix, $lt: prefixEnd(filter.path_prefix) },
        });
      }
      if (filter.digest !== undefined) and.push({ sha256: filter.digest });
      if (filter.min_size !== undefined) and.push({ file_size: { $gte: filter.min_size } });
      if (filter.max_size !== undefined) and.push({ file_size: { $lte: filter.max_size } });
      if (filter.mtime_from !== undefined) and.push({ file_mtime: { $gte: filter.mtime_from } });
      if (filter.mtime_to !== undefined) and.push({ file_mtime: { $lt: filter.mtime_to } });
      if (filter.reported_since !== undefined) {
        and.push({ updated_at: { $gte: new Date(filter.reported_since) } });
      }
      return this.#filePage("search", and, page);
    });
  }

  async #filePage(
    query: string,
    and: Filter<IdDocument>[],
    page: PageRequest,
  ): Promise<Page<FileRecord>> {
    if (page.cursor !== null) and.push(afterFile(decodeCursor(query, page.cursor, hostKey)));
    const documents = await this.files
      .find({ $and: and }, { projection: WITHOUT_HISTORY })
      .sort({ hostname: 1, filepath: 1 })
      .limit(page.limit + 1)
      .toArray();
    const files = documents.map(fileOf);
    return pageOf(
      files.slice(0, page.limit),
      files.length > page.limit,
      (file) => encodeCursor(query, [file.hostname, file.filepath]),
    );
  }

  locations(digest: Digest, page: PageRequest): Promise<Page<FileRecord>> {
    return run(async () => {
      const blob = await this.blobs.findOne({ _id: digest });
      const epochId = typeof blob?.epoch_file_id === "string" ? blob.epoch_file_id : null;
      const key = page.cursor === null
        ? null
        : decodeCursor("locations", page.cursor, z.tuple([bit, text, text]));
      const items: { file: FileRecord; first: 0 | 1 }[] = [];
      let epoch: FileRecord | null = null;
      if (epochId !== null && isId(epochId)) {
        const document = await this.files.findOne(
          { _id: { $in: [new ObjectId(epochId), epochId] }, sha256: digest, ...LIVE },
          { projection: WITHOUT_HISTORY },
        );
        epoch = document ? fileOf(document) : null;
      }
      if (epoch !== null && key === null) items.push({ file: epoch, first: 1 });
      const and: Filter<IdDocument>[] = [{ sha256: digest }, LIVE];
      if (key !== null && key[0] === 0) {
        const at = new Date(key[1]);
        and.push({
          $or: [{ created_at: { $gt: at } }, { created_at: at, _id: { $gt: idValue(key[2]) } }],
        });
      }
      const rest = await this.files
        .find({ $and: and }, { projection: WITHOUT_HISTORY })
        .sort({ created_at: 1, _id: 1 })
        .limit(page.limit + 2)
        .toArray();
      for (const document of rest) {
        const file = fileOf(document);
        if (epoch !== null && file.id === epoch.id) continue;
        items.push({ file, first: 0 });
      }
      const result = pageOf(
        items.slice(0, page.limit),
        items.length > page.limit,
        (item) => encodeCursor("locations", [item.first, item.file.created_at, item.file.id]),
      );
      return { items: result.items.map((item) => item.file), next_cursor: result.next_cursor };
    });
  }

  /** Per digest among the live files of a filter: its size, files and hosts. */
  async #contents(match: Filter<IdDocument>): Promise<Map<string, Content>> {
    const contents = new Map<string, Content>();
    const rows = this.files.aggregate([
      { $match: match },
      {
        $group: {
          _id: { d: "$sha256", h: "$hostname", s: "$file_size" },
          n: { $sum: 1 },
        },
      },
    ], { allowDiskUse: true });
    for await (const row of rows) {
      const parsed = groupRowSchema.parse(row);
      const content = contents.get(parsed._id.d) ??
        { size: 0, count: 0, hosts: new Set<string>() };
      content.size = Math.max(content.size, parsed._id.s);
      content.count += parsed.n;
      content.hosts.add(parsed._id.h);
      contents.set(parsed._id.d, content);
    }
    return contents;
  }

  async #duplicateGroups(filter: DuplicateFilter): Promise<DuplicateGroup[]> {
    const match: Document = { ...LIVE };
    if (filter.min_size !== undefined) match.file_size = { $gte: filter.min_size };
    if (filter.hostnames !== undefined) match.hostname = { $in: filter.hostnames };
    if (filter.path_prefix !== undefined) {
      match.filepath = { $gte: filter.path_prefix, $lt: prefixEnd(filter.path_prefix) };
    }
    const groups: DuplicateGroup[] = [];
    for (const [digest, content] of await this.#contents(match)) {
      if (content.count < 2) continue;
      groups.push({
        sha256: digest as Digest,
        file_size: content.size,
        count: content.count,
        hosts: content.hosts.size,
        reclaimable_bytes: content.size * (content.count - 1),
      });
    }
    return groups.sort((a, b) =>
      b.reclaimable_bytes - a.reclaimable_bytes || compareText(a.sha256, b.sha256)
    );
  }

  duplicates(filter: DuplicateFilter, page: PageRequest): Promise<Page<DuplicateGroup>> {
    return run(async () => {
      let groups = await this.#duplicateGroups(filter);
      if (page.cursor !== null) {
        const [reclaimable, digest] = decodeCursor(
          "duplicates",
          page.cursor,
          z.tuple([z.number().int(), text]),
        );
        groups = groups.filter((group) =>
          group.reclaimable_bytes < reclaimable ||
          (group.reclaimable_bytes === reclaimable && compareText(group.sha256, digest) > 0)
        );
      }
      return pageOf(
        groups.slice(0, page.limit),
        groups.length > page.limit,
        (group) => encodeCursor("duplicates", [group.reclaimable_bytes, group.sha256]),
      );
    });
  }

  duplicateTotals(filter: DuplicateFilter): Promise<DuplicateTotals> {
    return run(async () => {
      const groups = await this.#duplicateGroups(filter);
      return {
        groups: groups.length,
        files: groups.reduce((sum, group) => sum + group.count, 0),
        reclaimable_bytes: groups.reduce((sum, group) => sum + group.reclaimable_bytes, 0),
      };
    });
  }

  changes(filter: ChangeFilter, page: PageRequest): Promise<Page<Change>> {
    return run(async () => {
      const key = page.cursor === null
        ? null
        : decodeCursor("changes", page.cursor, z.tuple([text, text, text, text]));
      const since = key !== null && key[0] > filter.since ? key[0] : filter.since;
      const window = { $gte: new Date(since), $lt: new Date(filter.until) };
      const host = filter.hostname === undefined ? {} : { hostname: filter.hostname };
      const changes: Change[] = [];
      const inWindow = (at: string) => at >= since && at < filter.until;
      const seen = new Set<string>();
      for (
        const match of [
          { created_at: window },
          { deleted_at: window },
          { "history.replaced_at": window },
          { "absences.deleted_at": window },
          { "absences.restored_at": window },
        ]
      ) {
        for await (const document of this.files.find({ ...host, ...match })) {
          const stored = storedFileOf(document);
          if (seen.has(stored.file.id)) continue;
          seen.add(stored.file.id);
          const file = stored.file;
          const { history, absences } = versionsOf(document);
          const versions = history.reverse();
          const restoredAt = new Set(absences.map((absence) => absence.restored_at));
          // The content the file had at a time: the first one replaced after it, else the current.
          const contentAt = (at: string) =>
            versions.find((entry) => entry.replaced_at > at) ?? file;
          const base = { hostname: file.hostname, filepath: file.filepath };
          if (inWindow(file.created_at)) {
            const first = versions[0] ?? file;
            changes.push({
              at: file.created_at,
              kind: "added",
              ...base,
              sha256: first.sha256,
              file_size: first.file_size,
              previous_sha256: null,
            });
          }
          for (const absence of absences) {
            if (inWindow(absence.deleted_at)) {
              const gone = contentAt(absence.deleted_at);
              changes.push({
                at: absence.deleted_at,
                kind: "deleted",
                ...base,
                sha256: gone.sha256,
                file_size: gone.file_size,
                previous_sha256: null,
              });
            }
            if (inWindow(absence.restored_at)) {
              const back = contentAt(absence.restored_at);
              changes.push({
                at: absence.restored_at,
                kind: "added",
                ...base,
                sha256: back.sha256,
                file_size: back.file_size,
                previous_sha256: null,
              });
            }
          }
          versions.forEach((entry, index) => {
            if (!inWindow(entry.replaced_at) || restoredAt.has(entry.replaced_at)) return;
            const next = versions[index + 1] ?? file;
            changes.push({
              at: entry.replaced_at,
              kind: "modified",
              ...base,
              sha256: next.sha256,
              file_size: next.file_size,
              previous_sha256: entry.sha256,
            });
          });
          const deletedAt = deletedSchema.parse(document).deleted_at ?? null;
          if (deletedAt !== null && inWindow(deletedAt)) {
            changes.push({
              at: deletedAt,
              kind: "deleted",
              ...base,
              sha256: file.sha256,
              file_size: file.file_size,
              previous_sha256: null,
            });
          }
        }
      }
      const keyOf = (c: Change) => [c.at, c.hostname, c.filepath, c.kind];
      const ordered = changes.sort((a, b) => compareKeys(keyOf(a), keyOf(b)))
        .filter((change) => key === null || compareKeys(keyOf(change), key) > 0);
      return pageOf(
        ordered.slice(0, page.limit),
        ordered.length > page.limit,
        (change) => encodeCursor("changes", keyOf(change)),
      );
    });
  }

  atRisk(filter: AtRiskFilter, page: PageRequest): Promise<Page<FileRecord>> {
    return run(async () => {
      const base: Filter<IdDocument>[] = [LIVE, { file_size: { $gt: 0 } }];
      if (filter.hostname !== undefined) base.push({ hostname: filter.hostname });
      let after = page.cursor === null ? null : decodeCursor("at_risk", page.cursor, hostKey);
      const found: FileRecord[] = [];
      while (found.length <= page.limit) {
        const and = after === null ? base : [...base, afterFile(after)];
        const documents = await this.files
          .find({ $and: and }, { projection: WITHOUT_HISTORY })
          .sort({ hostname: 1, filepath: 1 })
          .limit(SCAN_BATCH)
          .toArray();
        if (documents.length === 0) break;
        const files = documents.map(fileOf);
        const stored = await this.#stored(files.map((file) => file.sha256));
        for (const file of files) if (!stored.has(file.sha256)) found.push(file);
        const last = files[files.length - 1];
        after = [last.hostname, last.filepath];
        if (documents.length < SCAN_BATCH) break;
      }
      return pageOf(
        found.slice(0, page.limit),
        found.length > page.limit,
        (file) => encodeCursor("at_risk", [file.hostname, file.filepath]),
      );
    });
  }

  singleHost(filter: SingleHostFilter, page: PageRequest): Promise<Page<SingleHostContent>> {
    return run(async () => {
      const match: Document = { ...LIVE, file_size: { $gte: filter.min_size ?? 0 } };
      let candidates: Omit<SingleHostContent, "stored">[] = [];
      for (const [digest, content] of await this.#contents(match)) {
        if (content.hosts.size !== 1) continue;
        const [hostname] = content.hosts;
        if (filter.hostname !== undefined && hostname !== filter.hostname) continue;
        candidates.push({
          sha256: digest as Digest,
          file_size: content.size,
          hostname,
          count: content.count,
        });
      }
      candidates.sort((a, b) => b.file_size - a.file_size || compareText(a.sha256, b.sha256));
      if (page.cursor !== null) {
        const [size, digest] = decodeCursor(
          "single_host",
          page.cursor,
          z.tuple([z.number().int(), text]),
        );
        candidates = candidates.filter((c) =>
          c.file_size < size || (c.file_size === size && compareText(c.sha256, digest) > 0)
        );
      }
      const chosen = candidates.slice(0, page.limit);
      const stored = await this.#stored(chosen.map((c) => c.sha256));
      return pageOf(
        chosen.map((c) => ({ ...c, stored: stored.has(c.sha256) })),
        candidates.length > page.limit,
        (c) => encodeCursor("single_host", [c.file_size, c.sha256]),
      );
    });
  }

  stats(hostname: string | null): Promise<InventoryStats> {
    return run(async () => {
      const match: Document = hostname === null ? { ...LIVE } : { ...LIVE, hostname };
      const contents = await this.#contents(match);
      const stored = await this.#stored([...contents.keys()] as Digest[]);
      const hosts = new Set<string>();
      const totals = {
        files: 0,
        logical_bytes: 0,
        unique_bytes: 0,
        stored_digests: 0,
        stored_bytes: 0,
        at_risk_files: 0,
        at_risk_bytes: 0,
      };
      for (const [digest, content] of contents) {
        for (const host of content.hosts) hosts.add(host);
        totals.files += content.count;
        totals.logical_bytes += content.size * content.count;
        totals.unique_bytes += content.size;
        if (stored.has(digest)) {
          totals.stored_digests++;
          totals.stored_bytes += content.size;
        } else {
          totals.at_risk_files += content.count;
          totals.at_risk_bytes += content.size * content.count;
        }
      }
      return {
        hostname,
        hosts: hosts.size,
        files: totals.files,
        distinct_digests: contents.size,
        logical_bytes: totals.logical_bytes,
        unique_bytes: totals.unique_bytes,
        dedup_saved_bytes: totals.logical_bytes - totals.unique_bytes,
        stored_digests: totals.stored_digests,
        stored_bytes: totals.stored_bytes,
        at_risk_files: totals.at_risk_files,
        at_risk_bytes: totals.at_risk_bytes,
      };
    });
  }

  snapshot(
    hostname: string,
    path: string,
    at: string | null,
    page: PageRequest,
  ): Promise<Page<SnapshotFile>> {
    return run(async () => {
      const prefix = directoryPrefix(path);
      const exact = path.replace(/\/+$/, "");
      const and: Filter<IdDocument>[] = [
        { hostname },
        { $or: [{ filepath: exact }, { filepath: { $gte: prefix, $lt: prefixEnd(prefix) } }] },
        at === null ? LIVE : { created_at: { $lte: new Date(at) } },
      ];
      if (page.cursor !== null) {
        and.push({ filepath: { $gt: decodeCursor("snapshot", page.cursor, z.tuple([text]))[0] } });
      }
      const documents = await this.files.find({ $and: and }).sort({ filepath: 1 })
        .limit(page.limit + 1).toArray();
      const versions: Omit<SnapshotFile, "stored">[] = [];
      for (const document of documents.slice(0, page.limit)) {
        const file = fileOf(document);
        const current = {
          filepath: file.filepath,
          sha256: file.sha256,
          file_size: file.file_size,
          file_mode: file.file_mode,
          file_mtime: file.file_mtime,
        };
        if (at === null) {
          versions.push(current);
          continue;
        }
        const { history, absences } = versionsOf(document);
        if (absences.some((a) => a.deleted_at <= at && a.restored_at > at)) continue;
        // The oldest digest replaced after `at` was the one of that time.
        const replaced = history.reverse().find((entry) => entry.replaced_at > at);
        if (replaced) {
          versions.push({
            ...current,
            sha256: replaced.sha256,
            file_size: replaced.file_size,
            file_mtime: replaced.file_mtime,
            file_mode: replaced.file_mode ?? current.file_mode,
          });
          continue;
        }
        const deletedAt = deletedSchema.parse(document).deleted_at ?? null;
        if (deletedAt !== null && deletedAt <= at) continue;
        versions.push(current);
      }
      const stored = await this.#stored(versions.map((v) => v.sha256));
      const last = documents[Math.min(documents.length, page.limit) - 1];
      return {
        items: versions.map((v) => ({ ...v, stored: stored.has(v.sha256) })),
        next_cursor: documents.length > page.limit && last
          ? encodeCursor("snapshot", [fileOf(last).filepath])
          : null,
      };
    });
  }

  /** Of these digests, those whose blob is stored (the empty digest always is). */
  async #stored(digests: readonly Digest[]): Promise<Set<string>> {
    const unique = [...new Set(digests)];
    const stored = new Set<string>(unique.filter((digest) => digest === EMPTY_DIGEST));
    for (const batch of batches(unique)) {
      const found = await this.blobs.find({ _id: { $in: batch } }, { projection: { _id: 1 } })
        .toArray();
      for (const document of found) stored.add(String(document._id));
    }
    return stored;
  }
}

interface Content {
  size: number;
  count: number;
  hosts: Set<string>;
}

const groupRowSchema = z.object({
  _id: z.object({ d: text, h: text, s: z.number() }),
  n: z.number(),
});

const hostKey = z.tuple([text, text]);

function afterFile([hostname, filepath]: [string, string]): Filter<IdDocument> {
  return { $or: [{ hostname: { $gt: hostname } }, { hostname, filepath: { $gt: filepath } }] };
}

function idValue(id: string): ObjectId | string {
  return isId(id) ? new ObjectId(id) : id;
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const order = compareText(a[i], b[i]);
    if (order !== 0) return order;
  }
  return 0;
}

function* batches<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += LOOKUP_BATCH) yield items.slice(i, i + LOOKUP_BATCH);
}
