/**
 * Files in MongoDB: one document per (hostname, filepath) under a unique index, with the
 * earlier digests kept in the document's own `history` array.
 *
 * There are no multi-document transactions (FerretDB has none, and they would serialize
 * instances needlessly), so every write is a single-document atomic step that is safe
 * against other writers, in this process or another instance:
 * - a new file is inserted; when another writer inserted the same (hostname, filepath)
 *   first, the unique index answers E11000 and the file is read and compared again;
 * - a changed file is updated only if its `revision` is still the one that was read
 *   (compare-and-set); the old digest is pushed to `history` in the same update. When
 *   another writer got there first, the file is read and compared again.
 * Each retry round is won by someone, so retries end; they are never surfaced as errors.
 * A batch is one read, one unordered insert and one conditional update per changed file.
 *
 * This relies on MongoDB's single-document atomicity. FerretDB 1.24 (SQLite backend, used in
 * tests) does not apply a conditional update atomically: concurrent compare-and-set updates of
 * one document can all report a match and lose all but one change. Inserts under a unique
 * index, which every other race here rests on, are safe there too.
 */
import { type Collection, type Document, MongoBulkWriteError, type ObjectId } from "mongodb";
import type { Digest } from "../../digest.ts";
import { AppError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import {
  type FileHistoryEntry,
  type FileMetadata,
  type FileRecord,
  REPORTED_FIELDS,
  sameReport,
  type UpsertOutcome,
} from "../../models/file.ts";
import type { FileIndex, FileStats } from "../mod.ts";
import {
  exactTotal,
  fileOf,
  historyOf,
  type IdDocument,
  objectIdOf,
  type StoredFile,
  storedFileOf,
  storedIds,
} from "./documents.ts";
import { duplicateKeyIndexes, run } from "./errors.ts";

/** Fields the earlier system kept that stop being true when a file's digest changes. */
const STALE_ON_NEW_DIGEST = ["has_file_content", "file_uploaded_at", "storage_path"];

/** Rounds lost to other writers before giving up (each round is won by some writer). */
const MAX_CONTENDED_ROUNDS = 50;

/** When a scan of a host last ran to its end; `_id` is the host name. */
export interface HostScanDocument {
  _id: string;
  last_complete_scan_at: Date;
}

const WITHOUT_HISTORY = { projection: { history: 0 } } as const;
const LIVE = { deleted_at: null } as const;

type Result = { file: FileRecord; outcome: UpsertOutcome };

export class MongoFileIndex implements FileIndex {
  constructor(
    private readonly collection: Collection<IdDocument>,
    private readonly scans: Collection<HostScanDocument>,
  ) {}

  upsertMany(files: readonly FileMetadata[], now: Date): Promise<Result[]> {
    return run(async () => {
      const results: (Result | undefined)[] = new Array(files.length);
      let pending = files.map((_, index) => index);
      let contended = 0;
      while (pending.length > 0) {
        // A (hostname, filepath) given twice in one batch: its inputs apply in order, one per round.
        const seen = new Set<string>();
        const round: number[] = [];
        const later: number[] = [];
        for (const index of pending) {
          const key = keyOf(files[index]);
          (seen.has(key) ? later : round).push(index);
          seen.add(key);
        }
        const lost = await this.#round(round, files, now, results);
        if (lost.length > 0) {
          contended++;
          if (contended > MAX_CONTENDED_ROUNDS) {
            throw new AppError(
              "unavailable",
              `Cannot register ${lost.length} files: other writers kept changing them`,
            );
          }
          await backoff(contended);
        }
        pending = [...lost, ...later].sort((a, b) => a - b);
      }
      return results.map((result) => {
        if (!result) throw new AppError("internal", "A file of the batch was not registered");
        return result;
      });
    });
  }

  /** Applies one input per index; returns the indexes lost to another writer. */
  async #round(
    indexes: number[],
    files: readonly FileMetadata[],
    now: Date,
    results: (Result | undefined)[],
  ): Promise<number[]> {
    const stored = await this.#read(indexes.map((index) => files[index]));
    const inserts: { index: number; file: FileRecord; document: IdDocument }[] = [];
    const lost: number[] = [];
    const updates: Promise<void>[] = [];
    const at = now.toISOString();
    for (const index of indexes) {
      const input = files[index];
      const current = stored.get(keyOf(input));
      if (!current) {
        const file: FileRecord = {
          id: newId(now.getTime()),
          ...input,
          created_at: at,
          updated_at: at,
        };
        inserts.push({ index, file, document: newDocument(file, now) });
        continue;
      }
      const existing = storedFileOf(current);
      if (
        !existing.deleted && sameReport(existing.file, input)
      ) {
        results[index] = { file: existing.file, outcome: "unchanged" };
        continue;
      }
      const file: FileRecord = { ...existing.file, ...input, updated_at: at };
      updates.push(
        this.#compareAndSet(existing, input, now).then(
          (won) => {
            if (won) results[index] = { file, outcome: "updated" };
            else lost.push(index);
          },
        ),
      );
    }
    const inserting = inserts.length === 0 ? Promise.resolve() : this.#insert(
      inserts.map((insert) => insert.document),
    ).then((refused) => {
      inserts.forEach((insert, position) => {
        if (refused.has(position)) lost.push(insert.index);
        else results[insert.index] = { file: insert.file, outcome: "created" };
      });
    });
    // Every write of the round has ended before this returns or throws: an update that
    // failed while the insert was awaited was an unhandled rejection, which ends the process
    // (every instance with such a batch died in a replica-set failover).
    const outcomes = await Promise.allSettled([inserting, ...updates]);
    const failed = outcomes.find((outcome) => outcome.status === "rejected");
    if (failed) throw failed.reason;
    lost.sort((a, b) => a - b);
    return lost;
  }

  /** The stored documents for these files, by (hostname, filepath). */
  async #read(files: FileMetadata[]): Promise<Map<string, Document>> {
    const byHost = new Map<string, Set<string>>();
    for (const file of files) {
      const paths = byHost.get(file.hostname) ?? new Set<string>();
      paths.add(file.filepath);
      byHost.set(file.hostname, paths);
    }
    const clauses = [...byHost].map(([hostname, paths]) => ({
      hostname,
      filepath: paths.size === 1 ? [...paths][0] : { $in: [...paths] },
    }));
    const filter = clauses.length === 1 ? clauses[0] : { $or: clauses };
    const found = new Map<string, Document>();
    const cursor = this.collection.find(filter, WITHOUT_HISTORY).limit(files.length);
    for await (const document of cursor) {
      found.set(
        keyOf({ hostname: String(document.hostname), filepath: String(document.filepath) }),
        document,
      );
    }
    return found;
  }

  /** Inserts new files, unordered; returns the positions refused by the unique index. */
  async #insert(documents: IdDocument[]): Promise<Set<number>> {
    try {
      await this.collection.insertMany(documents, { ordered: false });
      return new Set();
    } catch (error) {
      if (error instanceof MongoBulkWriteError) {
        const refused = duplicateKeyIndexes(error);
        if (refused) return refused;
      }
      throw error;
    }
  }

  /** Updates a file if nobody changed it since it was read; false when somebody did. */
  async #compareAndSet(stored: StoredFile, input: FileMetadata, now: Date): Promise<boolean> {
    const existing = stored.file;
    const set: Document = { updated_at: now, deleted_at: null };
    for (const field of REPORTED_FIELDS) set[field] = input[field];
    const update: Document = { $set: set, $inc: { revision: 1 }, $unset: { status: "" } };
    const push: Document = {};
    if (existing.sha256 !== input.sha256) {
      push.history = {
        sha256: existing.sha256,
        file_size: existing.file_size,
        file_mtime: existing.file_mtime,
        file_mode: existing.file_mode,
        replaced_at: now,
      };
      for (const field of STALE_ON_NEW_DIGEST) update.$unset[field] = "";
    }
    if (stored.deletedAt !== null) {
      // Back after a deletion: the time it was away stays known (restore, changes).
      push.absences = { deleted_at: new Date(stored.deletedAt), restored_at: now };
    }
    if (Object.keys(push).length > 0) update.$push = push;
    const result = await this.collection.updateOne(
      { _id: stored.rawId, revision: stored.revision },
      update,
    );
    return result.matchedCount === 1;
  }

  get(hostname: string, filepath: string): Promise<FileRecord | null> {
    return run(async () => {
      const document = await this.collection.findOne(
        { hostname, filepath, ...LIVE },
        WITHOUT_HISTORY,
      );
      return document ? fileOf(document) : null;
    });
  }

  getById(id: string): Promise<FileRecord | null> {
    return run(async () => {
      const ids = storedIds(id);
      if (ids.length === 0) return null;
      const document = await this.collection.findOne({ _id: { $in: ids } }, WITHOUT_HISTORY);
      return document ? fileOf(document) : null;
    });
  }

  findByDigest(digest: Digest, limit: number): Promise<FileRecord[]> {
    return run(async () => {
      if (limit <= 0) return [];
      const documents = await this.collection
        .find({ sha256: digest, ...LIVE }, WITHOUT_HISTORY)
        .sort({ created_at: 1, _id: 1 })
        .limit(limit)
        .toArray();
      return documents.map(fileOf);
    });
  }

  history(hostname: string, filepath: string): Promise<FileHistoryEntry[]> {
    return run(async () => {
      const document = await this.collection.findOne(
        { hostname, filepath },
        { projection: { history: 1 } },
      );
      return document ? historyOf(document) : [];
    });
  }

  markDeleted(hostname: string, filepaths: readonly string[], now: Date): Promise<number> {
    return run(async () => {
      if (filepaths.length === 0) return 0;
      const result = await this.collection.updateMany(
        { hostname, filepath: { $in: [...new Set(filepaths)] }, ...LIVE },
        { $set: { deleted_at: now, updated_at: now }, $inc: { revision: 1 } },
      );
      return result.modifiedCount;
    });
  }

  recordCompleteScan(hostname: string, now: Date): Promise<void> {
    return run(async () => {
      await this.scans.updateOne(
        { _id: hostname },
        { $max: { last_complete_scan_at: now } },
        { upsert: true },
      );
    });
  }

  removeHost(hostname: string): Promise<number> {
    return run(async () => {
      await this.scans.deleteOne({ _id: hostname });
      return (await this.collection.deleteMany({ hostname })).deletedCount;
    });
  }

  removeDigest(digest: Digest): Promise<number> {
    return run(async () => {
      const removed = (await this.collection.deleteMany({ sha256: digest })).deletedCount;
      // History entries naming the digest: rewritten without them, under the revision read
      // (FerretDB has no $pull by condition), again when a concurrent update got there first.
      for (let attempt = 0; attempt < 5; attempt++) {
        const holders = await this.collection.find(
          { "history.sha256": digest },
          { projection: { history: 1, revision: 1 } },
        ).toArray();
        if (holders.length === 0) break;
        for (const holder of holders) {
          const history = Array.isArray(holder.history) ? holder.history : [];
          const kept = history.filter((entry: unknown) =>
            !(typeof entry === "object" && entry !== null && "sha256" in entry &&
              entry.sha256 === digest)
          );
          const revision = typeof holder.revision === "number" ? holder.revision : null;
          await this.collection.updateOne(
            { _id: holder._id, revision },
            { $set: { history: kept }, $inc: { revision: 1 } },
          );
        }
      }
      return removed;
    });
  }

  count(): Promise<number> {
    return run(() => this.collection.countDocuments(LIVE));
  }

  stats(): Promise<FileStats> {
    // One accumulator per $group: FerretDB computes later ones wrongly (as 0).
    return run(async () => {
      const match = { $match: LIVE };
      const [files, logical, distinct, unique] = await Promise.all([
        this.collection.countDocuments(LIVE),
        this.#sum([match, { $group: { _id: null, total: { $sum: "$file_size" } } }]),
        this.#total([match, { $group: { _id: "$sha256" } }, { $count: "total" }]),
        // Each distinct (digest, size) once: a digest determines its size, so this counts
        // each distinct digest's bytes once.
        this.#sum([
          match,
          { $group: { _id: { digest: "$sha256", size: "$file_size" } } },
          { $group: { _id: null, total: { $sum: "$_id.size" } } },
        ]),
      ]);
      return { files, distinct_digests: distinct, logical_bytes: logical, unique_bytes: unique };
    });
  }

  /** A sum of sizes, exactly (see exactTotal). */
  async #sum(pipeline: Document[]): Promise<bigint> {
    const [row] = await this.collection.aggregate(pipeline, {
      allowDiskUse: true,
      useBigInt64: true,
    })
      .toArray();
    return exactTotal(row?.total);
  }

  async #total(pipeline: Document[]): Promise<number> {
    const [row] = await this.collection.aggregate(pipeline, { allowDiskUse: true }).toArray();
    const total = Number(row?.total ?? 0);
    if (!Number.isFinite(total)) throw new AppError("internal", "MongoDB returned a bad total");
    return total;
  }
}

function keyOf(file: { hostname: string; filepath: string }): string {
  return JSON.stringify([file.hostname, file.filepath]);
}

function newDocument(file: FileRecord, now: Date): Document & { _id: ObjectId } {
  const { id, created_at: _created, updated_at: _updated, ...fields } = file;
  return { _id: objectIdOf(id), ...fields, created_at: now, updated_at: now };
}

/** A short random pause before retrying a lost round, growing with contention. */
function backoff(round: number): Promise<void> {
  const ms = Math.random() * Math.min(5 * round, 50);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
