/**
 * Typed calls to the /v1 API (batch registration, deletion reports, small-blob batches,
 * streamed and resumable blob uploads), over the shared `Transport`. `discover` asks
 * `GET /v1` once: null means a server that only speaks the classic API.
 *
 * Answers are parsed with the wire contract's schemas (`lib/wire/v1.ts`), the very ones
 * the server validates with and documents.
 *
 * Request bodies are bytes in memory (a blob batch, a blob under 8 MiB, one piece of a
 * resumable upload), not streams, wherever the size allows: a streamed fetch body to a Deno
 * server that writes what it reads to disk crawls (measured here: 128 MiB in ~8 s streamed,
 * ~0.5 s as bytes; curl sending the same file is fast too), so streaming is kept for the
 * one case without a bound (a large blob to a server without resumable uploads).
 */
import { BLOB_BATCH_CONTENT_TYPE } from "../../lib/wire/blob_batch.ts";
import {
  appendResponseSchema,
  type BlobBatchResponse,
  blobBatchResponseSchema,
  blobPutResponseSchema,
  type Capabilities,
  capabilitiesSchema,
  createUploadResponseSchema,
  type DeletionResponse,
  deletionResponseSchema,
  type FileBatchResponse,
  fileBatchResponseSchema,
  type FileBatchResult,
  type WhoamiResponse,
  whoamiResponseSchema,
} from "../../lib/wire/v1.ts";
import type { Digest } from "../../lib/digest.ts";
import { AppError, short } from "../../lib/errors.ts";
import { parseJson, trackedBody, type Transport } from "./transport.ts";
import type { RetryPolicy } from "./retry.ts";
import type { StreamedBody } from "./streamed_request.ts";

export type { Capabilities };
export type FileResult = FileBatchResult;

/** What the batched scan needs of a server; without these it uses the classic routes. */
export const REQUIRED_FEATURES = ["files.batch", "blobs.put"] as const;

/** Asks `GET /v1`: the server's capabilities, or null for a classic-only server. */
export async function discover(
  transport: Transport,
  signal?: AbortSignal,
): Promise<Capabilities | null> {
  let json: unknown;
  try {
    json = await transport.send("GET /v1", () => ({ url: `${transport.baseUrl}/v1`, init: {} }), {
      signal,
      accept: async (response) => {
        try {
          return await response.json();
        } catch {
          return null;
        }
      },
    });
  } catch (error) {
    if (error instanceof AppError && error.code === "not_found") return null;
    throw error;
  }
  const parsed = capabilitiesSchema.safeParse(json);
  if (!parsed.success) return null;
  return parsed.data;
}

/**
 * `GET /v1/whoami` (feature "whoami"): the name and scope of the API key the transport
 * sends. A refused key is an `unauthorized` AppError whose detail says why (unknown,
 * revoked).
 */
export async function whoami(transport: Transport, signal?: AbortSignal): Promise<WhoamiResponse> {
  const label = "GET /v1/whoami";
  return await transport.send(label, () => ({ url: `${transport.baseUrl}/v1/whoami`, init: {} }), {
    signal,
    accept: (response) => parseJson(response, whoamiResponseSchema, label),
  });
}

/** True when the server can take the batched scan. */
export function supportsBatchedScan(capabilities: Capabilities): boolean {
  return REQUIRED_FEATURES.every((f) => capabilities.features.includes(f));
}

export class V1Client {
  readonly capabilities: Capabilities;
  #transport: Transport;

  constructor(transport: Transport, capabilities: Capabilities) {
    this.#transport = transport;
    this.capabilities = capabilities;
  }

  has(feature: string): boolean {
    return this.capabilities.features.includes(feature);
  }

  /** `POST /v1/files/batch` with a body already serialized (`{"files":[...]}`). */
  async registerFiles(
    body: string,
    files: number,
    signal?: AbortSignal,
  ): Promise<FileBatchResponse> {
    const label = "POST /v1/files/batch";
    const answer = await this.#transport.send(label, () => ({
      url: `${this.#transport.baseUrl}/v1/files/batch`,
      init: { method: "POST", headers: { "content-type": "application/json" }, body },
    }), { signal, accept: (response) => parseJson(response, fileBatchResponseSchema, label) });
    if (answer.results.length !== files || answer.results.some((r, i) => r.index !== i)) {
      throw new AppError(
        "internal",
        `The server's answer to ${label} has ${answer.results.length} results for ${files} files`,
      );
    }
    return answer;
  }

  /** `POST /v1/files/deleted`: marks files of this host deleted. */
  async reportDeleted(
    hostname: string,
    filepaths: string[],
    signal?: AbortSignal,
  ): Promise<DeletionResponse> {
    const label = "POST /v1/files/deleted";
    const body = JSON.stringify({ hostname, filepaths });
    return await this.#transport.send(label, () => ({
      url: `${this.#transport.baseUrl}/v1/files/deleted`,
      init: { method: "POST", headers: { "content-type": "application/json" }, body },
    }), { signal, accept: (response) => parseJson(response, deletionResponseSchema, label) });
  }

  /** `POST /v1/hosts/{hostname}/complete-scan`: a scan of this host ran to its end. */
  async reportCompleteScan(hostname: string, signal?: AbortSignal): Promise<void> {
    const label = "POST /v1/hosts/{hostname}/complete-scan";
    await this.#transport.send(label, () => ({
      url: `${this.#transport.baseUrl}/v1/hosts/${encodeURIComponent(hostname)}/complete-scan`,
      init: { method: "POST" },
    }), { signal, accept: async (response) => void await response.body?.cancel() });
  }

  /** `POST /v1/blobs/batch` with a body already in the blob-batch framing. */
  async uploadBlobBatch(
    body: Uint8Array<ArrayBuffer>,
    blobs: number,
    signal?: AbortSignal,
  ): Promise<BlobBatchResponse> {
    const label = "POST /v1/blobs/batch";
    const answer = await this.#transport.send(label, () => ({
      url: `${this.#transport.baseUrl}/v1/blobs/batch`,
      init: { method: "POST", headers: { "content-type": BLOB_BATCH_CONTENT_TYPE }, body },
    }), { signal, accept: (response) => parseJson(response, blobBatchResponseSchema, label) });
    if (answer.results.length !== blobs || answer.results.some((r, i) => r.index !== i)) {
      throw new AppError(
        "internal",
        `The server's answer to ${label} has ${answer.results.length} results for ${blobs} blobs`,
      );
    }
    return answer;
  }

  /**
   * `PUT /v1/blobs/{digest}` with the verified bytes, or streamed: `openBody` then gives a
   * fresh stream per attempt, and a failure of the stream itself (the file changed) is
   * rethrown as the body raised it.
   */
  async putBlob(
    digest: Digest,
    body: Uint8Array<ArrayBuffer> | (() => Promise<ReadableStream<Uint8Array>>),
    signal?: AbortSignal,
  ): Promise<"stored" | "already_stored"> {
    const label = `PUT /v1/blobs/${short(digest)}`;
    const answer = await this.#transport.send(label, async (touch) => {
      if (body instanceof Uint8Array) {
        return {
          url: `${this.#transport.baseUrl}/v1/blobs/${digest}`,
          init: { method: "PUT", headers: { "content-type": "application/octet-stream" }, body },
        };
      }
      const tracked = trackedBody(await body(), touch);
      return {
        url: `${this.#transport.baseUrl}/v1/blobs/${digest}`,
        init: {
          method: "PUT",
          headers: { "content-type": "application/octet-stream" },
          body: tracked.body,
        },
        bodyFailure: tracked.failure,
        release: tracked.release,
      };
    }, { signal, accept: (response) => parseJson(response, blobPutResponseSchema, label) });
    if (answer.digest !== digest) {
      throw new AppError(
        "internal",
        `The server stored digest "${short(answer.digest)}" for an upload of "${short(digest)}"`,
      );
    }
    return answer.status;
  }

  /** `POST /v1/uploads`: where to send the bytes, or null when the blob is already stored. */
  async createUpload(
    digest: Digest,
    size: number,
    signal?: AbortSignal,
  ): Promise<{ location: string; offset: number } | null> {
    const label = `POST /v1/uploads (${short(digest)})`;
    const body = JSON.stringify({ digest, size });
    const answer = await this.#transport.send(label, () => ({
      url: `${this.#transport.baseUrl}/v1/uploads`,
      init: { method: "POST", headers: { "content-type": "application/json" }, body },
    }), { signal, accept: (response) => parseJson(response, createUploadResponseSchema, label) });
    return "location" in answer ? answer : null;
  }

  /** `HEAD /v1/uploads/{id}`: the bytes the server holds durably. */
  async uploadOffset(location: string, signal?: AbortSignal): Promise<number> {
    const label = `HEAD ${location}`;
    return await this.#transport.send(label, () => ({
      url: `${this.#transport.baseUrl}${location}`,
      init: { method: "HEAD" },
    }), {
      signal,
      accept: (response) => {
        const offset = Number(response.headers.get("upload-offset"));
        if (!Number.isSafeInteger(offset) || offset < 0) {
          return Promise.reject(
            new AppError("internal", `The server's answer to ${label} has no Upload-Offset`),
          );
        }
        return Promise.resolve(offset);
      },
    });
  }

  /**
   * `PATCH /v1/uploads/{id}`: appends the body's bytes at `offset`, in one attempt (the
   * caller resumes from the server's offset after a failure).
   */
  async appendUpload(
    location: string,
    offset: number,
    body: Uint8Array<ArrayBuffer>,
    signal?: AbortSignal,
  ): Promise<{ complete: boolean; offset: number }> {
    const label = `PATCH ${location}`;
    return await this.#transport.send(label, () => ({
      url: `${this.#transport.baseUrl}${location}`,
      init: {
        method: "PATCH",
        headers: appendHeaders(offset),
        body,
      },
    }), {
      signal,
      retries: 0,
      accept: (response) => parseJson(response, appendResponseSchema, label),
    });
  }

  /** The transport's retry policy (a resumable upload bounds its resumes with it). */
  get retry(): RetryPolicy {
    return this.#transport.retry;
  }

  /** Whether `appendStreamed` streams its body (see `Transport.streamsBodies`). */
  get streamsBodies(): boolean {
    return this.#transport.streamsBodies;
  }

  /**
   * `PATCH /v1/uploads/{id}` with a body written from reused buffers (see
   * `StreamedBody`), in one attempt; `bodyFailure` tells the body's own failure (the file
   * changed) from the network's.
   */
  async appendStreamed(
    location: string,
    offset: number,
    body: StreamedBody,
    bodyFailure: () => unknown,
    signal?: AbortSignal,
  ): Promise<{ complete: boolean; offset: number }> {
    const label = `PATCH ${location}`;
    return await this.#transport.send(label, (touch) => ({
      url: `${this.#transport.baseUrl}${location}`,
      init: {
        method: "PATCH",
        headers: appendHeaders(offset),
      },
      stream: {
        length: body.length,
        write: (send) =>
          body.write((chunk) => {
            touch();
            return send(chunk);
          }),
      },
      bodyFailure,
    }), {
      signal,
      retries: 0,
      accept: (response) => parseJson(response, appendResponseSchema, label),
    });
  }

  /** `DELETE /v1/uploads/{id}`, best effort. */
  async abandonUpload(location: string, signal?: AbortSignal): Promise<void> {
    await this.#transport.send(`DELETE ${location}`, () => ({
      url: `${this.#transport.baseUrl}${location}`,
      init: { method: "DELETE" },
    }), {
      signal,
      retries: 0,
      accept: async (response) => {
        await response.body?.cancel();
      },
    }).catch(() => {});
  }
}

/** The headers of an append to a resumable upload at `offset`. */
function appendHeaders(offset: number): Record<string, string> {
  return { "content-type": "application/offset+octet-stream", "upload-offset": String(offset) };
}
