/** The blob index on SQLite: which digests are stored, their size and epoch file. */
import type { Digest } from "../../digest.ts";
import type { BlobIndex, BlobRecord } from "../mod.ts";
import { run } from "./errors.ts";
import { bigInteger, blobOf, integer } from "./rows.ts";
import type { GroupCommit } from "./group_commit.ts";
import { bigInts, type Statements } from "./statements.ts";

export class SqliteBlobIndex implements BlobIndex {
  constructor(private readonly sql: Statements, private readonly commits: GroupCommit) {}

  has(digest: Digest): Promise<boolean> {
    return run(() =>
      this.sql.get("SELECT 1 FROM blobs WHERE digest = ?").get(digest) !== undefined
    );
  }

  get(digest: Digest): Promise<BlobRecord | null> {
    return run(() => {
      const row = this.sql.get("SELECT * FROM blobs WHERE digest = ?").get(digest);
      return row ? blobOf(row) : null;
    });
  }

  missing(digests: readonly Digest[]): Promise<Digest[]> {
    return run(() => {
      const lookup = this.sql.get("SELECT 1 FROM blobs WHERE digest = ?");
      const seen = new Set<Digest>();
      const missing: Digest[] = [];
      for (const digest of digests) {
        if (seen.has(digest)) continue;
        seen.add(digest);
        if (lookup.get(digest) === undefined) missing.push(digest);
      }
      return missing;
    });
  }

  record(blob: Omit<BlobRecord, "stored_at">, now: Date): Promise<boolean> {
    return this.commits.run(() => {
      const result = this.sql.get(
        `INSERT INTO blobs (digest, size, stored_at, epoch_file_id) VALUES (?, ?, ?, ?)
         ON CONFLICT (digest) DO NOTHING`,
      ).run(blob.digest, blob.size, now.toISOString(), blob.epoch_file_id);
      return Number(result.changes) === 1;
    });
  }

  remove(digest: Digest): Promise<void> {
    return this.commits.run(() => {
      this.sql.get("DELETE FROM blobs WHERE digest = ?").run(digest);
    });
  }

  stats(): Promise<{ blobs: number; bytes: bigint }> {
    return run(() => {
      const row = bigInts(this.sql.get(
        "SELECT count(*) AS blobs, coalesce(sum(size), 0) AS bytes FROM blobs",
      )).get() ?? {};
      return { blobs: integer(row, "blobs"), bytes: bigInteger(row, "bytes") };
    });
  }
}
