/**
 * One file's way to the server: hash it, register its metadata with `POST /put_file`,
 * and upload its bytes when the server answers `upload_required`.
 *
 * Expected per-file trouble is an outcome value (the scan goes on); an authentication
 * refusal or an abort is thrown (the scan stops).
 */
import type { Digest } from "../../lib/digest.ts";
import { AppError } from "../../lib/errors.ts";
import type { ClassicClient } from "../http/classic_client.ts";
import { isOutage } from "../http/outage.ts";
import { fileMetadataOf } from "./file_metadata.ts";
import { hashFile, type ReadBuffers } from "./hash.ts";
import type { InFlightUploads } from "./inflight_uploads.ts";
import type { FailReason, FileSkipReason, Phase } from "./stats.ts";
import { openVerifiedBody } from "./upload_body.ts";

export type FileOutcome =
  | { kind: "hashed"; digest: Digest; size: number }
  | {
    kind: "registered";
    digest: Digest;
    size: number;
    /** "uploaded": this file's bytes were sent; "deduplicated": the server had them. */
    upload: "uploaded" | "deduplicated";
  }
  | { kind: "skipped"; reason: FileSkipReason; message: string }
  | { kind: "failed"; reason: FailReason; message: string };

export interface ReportContext {
  /** Null in a dry run: hash only, send nothing. */
  api: ClassicClient | null;
  hostname: string;
  ip: string;
  uploads: InFlightUploads;
  /** When set, files on another device than their root's are skipped. */
  oneFileSystem: boolean;
  signal: AbortSignal;
  /** Progress: bytes read while hashing. */
  onHashBytes?: (count: number) => void;
  /** Progress: the file enters a phase. */
  onPhase?: (phase: Phase) => void;
}

export async function reportFile(
  path: string,
  rootDev: number,
  buffers: ReadBuffers,
  context: ReportContext,
): Promise<FileOutcome> {
  const { api, signal } = context;
  context.onPhase?.("hashing");
  const hashed = await hashFile(path, {
    buffers,
    signal,
    requireDevice: context.oneFileSystem ? rootDev : undefined,
    onBytes: context.onHashBytes,
  });
  if (!hashed.ok) {
    if (hashed.problem === "not_regular" || hashed.problem === "other_filesystem") {
      return { kind: "skipped", reason: hashed.problem, message: hashed.message };
    }
    return { kind: "failed", reason: hashed.problem, message: hashed.message };
  }
  const { digest, size, info } = hashed;
  if (api === null) return { kind: "hashed", digest, size };

  const described = fileMetadataOf(path, digest, size, info, context);
  if (!described.ok) return { kind: "failed", reason: "rejected", message: described.message };

  context.onPhase?.("registering");
  let uploadRequired: boolean;
  try {
    uploadRequired = (await api.putFile(described.metadata, signal)).upload_required;
  } catch (error) {
    return serverFailure(error, signal);
  }
  if (!uploadRequired) return { kind: "registered", digest, size, upload: "deduplicated" };

  context.onPhase?.("uploading");
  try {
    const result = await context.uploads.run(digest, async () => {
      await api.uploadFile(
        digest,
        { hostname: context.hostname, filepath: path },
        () => openVerifiedBody({ path, digest, size, info }),
        signal,
      );
    });
    return {
      kind: "registered",
      digest,
      size,
      upload: result === "uploaded" ? "uploaded" : "deduplicated",
    };
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    // `conflict` comes from the upload body: the file is not what was hashed any more.
    if (error instanceof AppError && error.code === "conflict") {
      return { kind: "failed", reason: "changed", message: error.message };
    }
    return serverFailure(error, signal);
  }
}

function serverFailure(error: unknown, signal: AbortSignal): FileOutcome {
  if (signal.aborted) throw signal.reason;
  if (!(error instanceof AppError)) throw error;
  // A refused key, or a server gone longer than --retry-for: not this file's failure.
  if (error.code === "unauthorized" || error.code === "forbidden" || isOutage(error)) throw error;
  return {
    kind: "failed",
    reason: error.code === "unavailable" || error.code === "rate_limited"
      ? "unavailable"
      : "rejected",
    message: error.message,
  };
}
