/**
 * The blob index in MongoDB: one document per stored blob, its `_id` the digest (unique by
 * construction). Recording is a plain insert: under concurrent writers exactly one insert
 * wins and the others see E11000, which means "already recorded".
 */
import type { Collection } from "mongodb";
import type { Digest } from "../../digest.ts";
import type { BlobIndex, BlobRecord } from "../mod.ts";
import { blobOf, exactTotal } from "./documents.ts";
import { isDuplicateKey, run } from "./errors.ts";

/** Digests per `$in` query of `missing()`. */
const LOOKUP_BATCH = 1000;

export interface BlobDocument {
  _id: string;
  size: number;
  stored_at: Date;
  epoch_file_id: string | null;
}

export class MongoBlobIndex implements BlobIndex {
  constructor(private readonly collection: Collection<BlobDocument>) {}

  has(digest: Digest): Promise<boolean> {
    return run(async () =>
      (await this.collection.findOne({ _id: digest }, { projection: { _id: 1 } })) !== null
    );
  }

  get(digest: Digest): Promise<BlobRecord | null> {
    return run(async () => {
      const document = await this.collection.findOne({ _id: digest });
      return document ? blobOf(document) : null;
    });
  }

  missing(digests: readonly Digest[]): Promise<Digest[]> {
    return run(async () => {
      const unique = [...new Set(digests)];
      const recorded = new Set<string>();
      for (let start = 0; start < unique.length; start += LOOKUP_BATCH) {
        const batch = unique.slice(start, start + LOOKUP_BATCH);
        const cursor = this.collection.find({ _id: { $in: batch } }, { projection: { _id: 1 } });
        for await (const document of cursor) recorded.add(document._id);
      }
      return unique.filter((digest) => !recorded.has(digest));
    });
  }

  record(blob: Omit<BlobRecord, "stored_at">, now: Date): Promise<boolean> {
    return run(async () => {
      try {
        await this.collection.insertOne({
          _id: blob.digest,
          size: blob.size,
          stored_at: now,
          epoch_file_id: blob.epoch_file_id,
        });
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    });
  }

  remove(digest: Digest): Promise<void> {
    return run(async () => {
      await this.collection.deleteOne({ _id: digest });
    });
  }

  stats(): Promise<{ blobs: number; bytes: bigint }> {
    return run(async () => {
      const [blobs, [row]] = await Promise.all([
        this.collection.countDocuments({}),
        this.collection.aggregate([{ $group: { _id: null, total: { $sum: "$size" } } }], {
          useBigInt64: true,
        }).toArray(),
      ]);
      return { blobs, bytes: exactTotal(row?.total) };
    });
  }
}
