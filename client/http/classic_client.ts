/**
 * Typed calls to the classic PutPlace API (`GET /health`, `POST /put_file`,
 * `POST /upload_file/{sha256}`, `GET /get_file/{sha256}`) over a `Transport`.
 */
import type { Digest } from "../../lib/digest.ts";
import { AppError, short } from "../../lib/errors.ts";
import type { FileMetadata } from "../../lib/models/file.ts";
import {
  type FileWire,
  fileWireSchema,
  type PutFileAnswer,
  putFileAnswerSchema,
  type UploadAnswer,
  uploadAnswerSchema,
} from "../../lib/wire/classic.ts";
import { parseJson, trackedBody, type Transport } from "./transport.ts";

export class ClassicClient {
  #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** `GET /health`: resolves when the server is up and its stores answer. */
  async health(signal?: AbortSignal): Promise<void> {
    await this.#transport.send(
      "GET /health",
      () => ({ url: `${this.#transport.baseUrl}/health`, init: {} }),
      {
        signal,
        accept: async (response) => {
          await response.body?.cancel();
        },
      },
    );
  }

  /** `POST /put_file`: registers one file; says whether its bytes must be uploaded. */
  async putFile(file: FileMetadata, signal?: AbortSignal): Promise<PutFileAnswer> {
    const body = JSON.stringify(file);
    const answer = await this.#transport.send("POST /put_file", () => ({
      url: `${this.#transport.baseUrl}/put_file`,
      init: { method: "POST", headers: { "content-type": "application/json" }, body },
    }), {
      signal,
      accept: (response) => parseJson(response, putFileAnswerSchema, "POST /put_file"),
    });
    if (answer.sha256 !== file.sha256) {
      throw new AppError(
        "internal",
        `The server registered digest "${short(answer.sha256)}" for "${file.filepath}", ` +
          `not "${short(file.sha256)}"`,
      );
    }
    return answer;
  }

  /**
   * `POST /upload_file/{sha256}?hostname=&filepath=` with a raw octet-stream body.
   * `openBody` is called once per attempt and must give a fresh stream of the bytes.
   */
  async uploadFile(
    digest: Digest,
    target: { hostname: string; filepath: string },
    openBody: () => Promise<ReadableStream<Uint8Array>>,
    signal?: AbortSignal,
  ): Promise<UploadAnswer> {
    const query = new URLSearchParams({ hostname: target.hostname, filepath: target.filepath });
    const label = `POST /upload_file/${short(digest)}`;
    const answer = await this.#transport.send(label, async (touch) => {
      const tracked = trackedBody(await openBody(), touch);
      return {
        url: `${this.#transport.baseUrl}/upload_file/${digest}?${query}`,
        init: {
          method: "POST",
          headers: { "content-type": "application/octet-stream" },
          body: tracked.body,
        },
        bodyFailure: tracked.failure,
        release: tracked.release,
      };
    }, { signal, accept: (response) => parseJson(response, uploadAnswerSchema, label) });
    if (answer.sha256 !== digest) {
      throw new AppError(
        "internal",
        `The server stored digest "${short(answer.sha256)}" for an upload of "${short(digest)}"`,
      );
    }
    return answer;
  }

  /** `GET /get_file/{sha256}`: a file with that digest (the epoch file first), or null. */
  async getFile(digest: Digest, signal?: AbortSignal): Promise<FileWire | null> {
    const label = `GET /get_file/${short(digest)}`;
    try {
      return await this.#transport.send(
        label,
        () => ({ url: `${this.#transport.baseUrl}/get_file/${digest}`, init: {} }),
        {
          signal,
          accept: (response) => parseJson(response, fileWireSchema, label),
        },
      );
    } catch (error) {
      if (error instanceof AppError && error.code === "not_found") return null;
      throw error;
    }
  }
}
