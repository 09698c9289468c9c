/**
 * The indexes the MongoDB metadata store needs, made at start-up. Creating an index that
 * exists is a no-op, so several instances starting together are fine. An index the earlier
 * Python system made on the same keys but without uniqueness (its `hostname_1_filepath_1`)
 * stops start-up with a message saying what to do, never silently.
 */
import type { Collection, Document } from "mongodb";
import { MongoServerError } from "mongodb";
import { AppError } from "../../errors.ts";
import { DUPLICATE_KEY } from "./errors.ts";

export interface IndexSpec {
  key: Record<string, 1>;
  unique: boolean;
  /** What the index is for, for messages. */
  purpose: string;
}

export const FILE_INDEXES: IndexSpec[] = [
  { key: { hostname: 1, filepath: 1 }, unique: true, purpose: "one file per (hostname, filepath)" },
  { key: { sha256: 1, created_at: 1, _id: 1 }, unique: false, purpose: "files by digest" },
  { key: { created_at: 1 }, unique: false, purpose: "changes: files added" },
  { key: { deleted_at: 1 }, unique: false, purpose: "changes: files deleted" },
  { key: { "history.replaced_at": 1 }, unique: false, purpose: "changes: files modified" },
  { key: { "absences.deleted_at": 1 }, unique: false, purpose: "changes: deletions undone" },
  { key: { "absences.restored_at": 1 }, unique: false, purpose: "changes: files back" },
];

export const API_KEY_INDEXES: IndexSpec[] = [
  { key: { key_hash: 1 }, unique: true, purpose: "API keys by hash" },
];

/** See README, "Switching from the earlier PutPlace". */
const MIGRATION_HINT = 'see "Switching from the earlier PutPlace" in the README';

export async function ensureIndexes(
  collection: Collection<Document>,
  specs: IndexSpec[],
): Promise<void> {
  const existing = await listIndexes(collection);
  for (const spec of specs) {
    const same = existing.find((index) => sameKey(index.key, spec.key));
    if (same) {
      if (Boolean(same.unique) === spec.unique) continue;
      throw new AppError(
        "unavailable",
        `MongoDB collection "${collection.namespace}" has an index "${String(same.name)}" on (${
          keyText(spec.key)
        }) that is ${spec.unique ? "not unique" : "unique"}; ppserver needs it ${
          spec.unique ? "unique" : "not unique"
        } (${spec.purpose}). Drop it${
          spec.unique ? " after merging duplicate documents" : ""
        } and start again (${MIGRATION_HINT})`,
      );
    }
    try {
      await collection.createIndex(spec.key, { unique: spec.unique });
    } catch (error) {
      if (isDuplicateKeyOnBuild(error)) {
        throw new AppError(
          "unavailable",
          `MongoDB collection "${collection.namespace}" holds several documents with the same (${
            keyText(spec.key)
          }), so ppserver cannot make that index unique; merge them first (${MIGRATION_HINT})`,
          { cause: error },
        );
      }
      throw error;
    }
  }
}

/** E11000 from MongoDB; FerretDB (SQLite) answers code 1 with SQLite's unique constraint text. */
function isDuplicateKeyOnBuild(error: unknown): boolean {
  if (!(error instanceof MongoServerError)) return false;
  return error.code === DUPLICATE_KEY ||
    (error.code === 1 && /UNIQUE constraint failed/.test(error.message));
}

async function listIndexes(collection: Collection<Document>): Promise<Document[]> {
  try {
    return await collection.listIndexes().toArray();
  } catch (error) {
    // A collection that does not exist yet has no indexes.
    if (error instanceof MongoServerError && error.code === 26) return [];
    throw error;
  }
}

function sameKey(actual: unknown, wanted: Record<string, 1>): boolean {
  if (typeof actual !== "object" || actual === null) return false;
  const actualEntries = Object.entries(actual).map(([k, v]) => `${k}:${Number(v)}`);
  const wantedEntries = Object.entries(wanted).map(([k, v]) => `${k}:${v}`);
  return actualEntries.join(",") === wantedEntries.join(",");
}

function keyText(key: Record<string, 1>): string {
  return Object.keys(key).join(", ");
}
