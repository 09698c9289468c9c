/**
 * A large blob sent through a /v1 resumable upload: `POST /v1/uploads`, then one `PATCH`
 * that streams the rest of the file from the server's offset (over node:http, see
 * `streamed_request.ts`; `buffer` is cut in a few slots that are read while the others
 * are being sent, so memory stays fixed). Where bodies cannot be streamed that way
 * (https, an injected fetch), one `PATCH` per piece of `buffer`'s size instead. When an append fails (the connection dropped,
 * a 5xx, a timeout), the client asks the server how much it holds (`HEAD`, with the usual
 * retries) and continues from there. Failures without progress are bounded by the retry
 * policy; any progress resets the count.
 *
 * The bytes are verified as they are read (`VerifiedPieces`: when resuming, the part
 * already sent is read and hashed again, not sent), and the last piece goes out only if
 * the whole file still hashes to the digest: a file that changed fails with a `conflict`
 * AppError and the upload is abandoned. The server verifies the digest too before the
 * blob becomes visible.
 */
import type { Digest } from "../../lib/digest.ts";
import { AppError, short } from "../../lib/errors.ts";
import { backoffDelay, type RetryPolicy, sleep } from "../http/retry.ts";
import { type HashedFile, VerifiedPieces } from "./upload_body.ts";
import type { StreamedBody } from "../http/streamed_request.ts";
import type { V1Client } from "../http/v1_client.ts";

/** Pieces of the buffer in flight at once. */
const SLOTS = 4;

export interface ResumableOptions {
  /** The piece buffer: each append sends at most this many bytes. */
  buffer: Uint8Array<ArrayBuffer>;
  retry: RetryPolicy;
  signal?: AbortSignal;
  /** An append failed and the upload goes on from `offset`. */
  onResume?: (event: { digest: Digest; offset: number; reason: string }) => void;
  /** Progress: bytes handed to the connection (a resumed part may be counted again). */
  onSent?: (bytes: number) => void;
  /** Where unfinished uploads are remembered across runs (the scan cache). */
  ledger?: UploadLedger;
}

/**
 * Unfinished resumable uploads, by digest, kept across runs: an upload cut short (the
 * network, an outage, Ctrl-C) stays on the server and here, and the next run continues
 * it from the server's offset instead of sending its bytes again.
 */
export interface UploadLedger {
  findUpload(digest: Digest, size: number): { location: string; offset: number } | null;
  saveUpload(digest: Digest, size: number, location: string, offset: number): void;
  forgetUpload(digest: Digest): void;
}

/** Failures of the file itself (not the network's): its upload is abandoned. */
function isFileFailure(error: unknown): boolean {
  return error instanceof AppError &&
    (error.code === "conflict" || error.code === "digest_mismatch" ||
      error.code === "payload_too_large");
}

/** Answers "stored", or "already_stored" when the server had the blob before. */
export async function resumableUpload(
  v1: V1Client,
  file: HashedFile,
  options: ResumableOptions,
): Promise<"stored" | "already_stored"> {
  const { signal, buffer, ledger } = options;
  let location: string | null = null;
  let offset = 0;
  const earlier = ledger?.findUpload(file.digest, file.size);
  if (earlier) {
    try {
      offset = await v1.uploadOffset(earlier.location, signal);
      location = earlier.location;
      options.onResume?.({
        digest: file.digest,
        offset,
        reason: "left unfinished by an earlier run",
      });
    } catch (error) {
      if (!(error instanceof AppError && error.code === "not_found")) throw error;
      ledger?.forgetUpload(file.digest); // the server no longer has it: start over
    }
  }
  if (location === null) {
    const created = await v1.createUpload(file.digest, file.size, signal);
    if (created === null) return "already_stored";
    location = created.location;
    offset = created.offset;
  }
  ledger?.saveUpload(file.digest, file.size, location, offset);
  let failures = 0;
  let failure: unknown;
  let done = false;
  let pieces: VerifiedPieces | null = null;
  const slots = slotsOf(buffer);
  try {
    for (;;) {
      if (pieces === null || pieces.position !== offset) {
        pieces?.[Symbol.dispose]();
        pieces = null;
        pieces = await VerifiedPieces.open(file, offset, buffer);
      }
      const sending = pieces;
      let bodyFailed = false;
      let bodyFailure: unknown;
      const body: StreamedBody = {
        length: file.size - offset,
        write: (send) =>
          pump(sending, slots, async (chunk) => {
            await send(chunk);
            options.onSent?.(chunk.byteLength);
          }, (error) => {
            bodyFailed = true;
            bodyFailure = error;
          }),
      };
      let reason: string;
      // Without streamed bodies (https, an injected fetch): one piece of `buffer` per PATCH,
      // read and verified before it is sent.
      const piece = v1.streamsBodies ? null : await pieces.next(buffer);
      try {
        const answer = piece === null
          ? await v1.appendStreamed(
            location,
            offset,
            body,
            () => bodyFailed ? bodyFailure : undefined,
            signal,
          )
          : await v1.appendUpload(location, offset, piece, signal);
        if (piece !== null) options.onSent?.(piece.byteLength);
        if (answer.complete) {
          done = true;
          return "stored";
        }
        if (answer.offset > offset) failures = 0;
        offset = answer.offset;
        ledger?.saveUpload(file.digest, file.size, location, offset);
        continue;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (bodyFailed) throw error;
        if (
          error instanceof AppError &&
          (error.code === "unauthorized" || error.code === "forbidden" ||
            error.code === "digest_mismatch" || error.code === "payload_too_large")
        ) throw error;
        if (++failures > options.retry.retries) throw error;
        reason = error instanceof Error ? error.message : String(error);
      }
      await sleep(backoffDelay(failures, options.retry), signal);
      const previous = offset;
      try {
        offset = await v1.uploadOffset(location, signal);
      } catch (error) {
        if (error instanceof AppError && error.code === "not_found") {
          ledger?.forgetUpload(file.digest);
          throw new AppError(
            "unavailable",
            `Upload of blob "${short(file.digest)}" was lost by the server (${reason})`,
            { cause: error },
          );
        }
        throw error;
      }
      if (offset > previous) failures = 0;
      ledger?.saveUpload(file.digest, file.size, location, offset);
      options.onResume?.({ digest: file.digest, offset, reason });
    }
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    pieces?.[Symbol.dispose]();
    if (done) {
      ledger?.forgetUpload(file.digest);
    } else if (ledger === undefined || isFileFailure(failure)) {
      // The file changed (or nothing remembers the upload): free the server's partial
      // bytes now rather than at expiry. Otherwise the upload stays, on the server and in
      // the ledger, for the next run to continue.
      ledger?.forgetUpload(file.digest);
      await v1.abandonUpload(location, AbortSignal.timeout(2_000));
    }
  }
}

/** The buffer cut in a few slots: one is read while the others are on their way. */
function slotsOf(buffer: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer>[] {
  const count = buffer.byteLength >= SLOTS * 64 * 1024 ? SLOTS : 1;
  const size = Math.floor(buffer.byteLength / count);
  return Array.from({ length: count }, (_, i) => buffer.subarray(i * size, (i + 1) * size));
}

/**
 * Sends the rest of the file, each slot reused once its previous piece was handed to the
 * connection. The last piece is sent only after the whole file verified (`next`);
 * `onFailure` hears the file's own failures (changed), not the network's.
 */
async function pump(
  pieces: VerifiedPieces,
  slots: Uint8Array<ArrayBuffer>[],
  send: (chunk: Uint8Array) => Promise<void>,
  onFailure: (error: unknown) => void,
): Promise<void> {
  const pending: Promise<void>[] = [];
  let slot = 0;
  do {
    await pending[slot];
    let piece: Uint8Array;
    try {
      piece = await pieces.next(slots[slot]);
    } catch (error) {
      onFailure(error);
      throw error;
    }
    if (piece.byteLength > 0) {
      const sent = send(piece);
      sent.catch(() => {}); // awaited before the slot is reused, or below
      pending[slot] = sent;
    }
    slot = (slot + 1) % slots.length;
  } while (pieces.position < pieces.file.size);
  await Promise.all(pending);
}
