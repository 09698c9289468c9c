/**
 * What the stores and the core announce for metrics, over `node:diagnostics_channel`: a
 * publisher pays nothing while no one subscribes, and the stores need not know who listens
 * (the server's metrics do, `server/metrics.ts`).
 */
import { channel } from "node:diagnostics_channel";

/** One group commit: how many writes shared one transaction or one pack append. */
export interface GroupCommitMessage {
  /** `sqlite` (metadata writes) or `packs` (small blobs appended with one fsync). */
  store: "sqlite" | "packs";
  size: number;
}

/** One blob upload's outcome: written anew, or already held (deduplicated). */
export interface BlobOutcomeMessage {
  outcome: "stored" | "deduplicated";
  bytes: number;
}

export const groupCommits = channel("putplace:group-commit");
export const blobOutcomes = channel("putplace:blob-outcome");

export function publishGroupCommit(message: GroupCommitMessage): void {
  if (groupCommits.hasSubscribers) groupCommits.publish(message);
}

export function publishBlobOutcome(message: BlobOutcomeMessage): void {
  if (blobOutcomes.hasSubscribers) blobOutcomes.publish(message);
}
