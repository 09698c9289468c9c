/**
 * /v1 resumable uploads of large blobs (tus / IETF resumable upload draft style):
 * `POST /v1/uploads` creates one for a digest and size, `HEAD` or `GET
 * /v1/uploads/{id}` tell its offset (`Upload-Offset`), `PATCH` appends at that offset,
 * `DELETE` abandons it. The append that reaches the size verifies and publishes the blob.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { Stores } from "../../lib/dedup.ts";
import { AppError, isAppError } from "../../lib/errors.ts";
import { digestSchema } from "../../lib/models/file.ts";
import { apiKeyAuth, type AuthEnv } from "../middleware/api_key_auth.ts";
import { readJson } from "../json_body.ts";
import type { Limits } from "../limits.ts";
import { problemResponse } from "../problem_response.ts";
import type { ResumableUploads, UploadCaller, UploadStatus } from "../resumable_uploads.ts";
import { AUTH_PROBLEMS, type DocumentedRoutes, problems } from "../openapi.ts";

const digestText = z.string().regex(/^[0-9a-f]{64}$/);
const byteCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const createUploadSchema = z.object({ digest: digestSchema, size: byteCount });

/** `Upload-Offset` as a client sends it. */
export const uploadOffsetHeaderSchema = z.string().regex(/^\d{1,16}$/, {
  message: "Expected a non-negative integer",
}).transform(Number);

export const uploadStatusSchema = z.object({
  id: z.string(),
  location: z.string().meta({ description: "The upload's URL path" }),
  digest: digestText,
  size: byteCount,
  offset: byteCount.meta({ description: "Bytes durably received" }),
  created_at: z.string(),
  expires_at: z.string().meta({ description: "Removed then unless appended to before" }),
});

export const alreadyStoredSchema = z.object({
  status: z.literal("already_stored"),
  digest: digestText,
  size: byteCount,
});

export const appendResponseSchema = z.discriminatedUnion("complete", [
  uploadStatusSchema.extend({ complete: z.literal(false) }),
  z.object({
    complete: z.literal(true),
    digest: digestText,
    size: byteCount,
    offset: byteCount,
    status: z.enum(["stored", "already_stored"]),
  }),
]);

const offsetHeaders = {
  "Upload-Offset": { description: "Bytes durably received", schema: z.number().int() },
  "Upload-Length": { description: "The blob's size", schema: z.number().int() },
  "Upload-Expires": {
    description: "When the upload is removed unless appended to (HTTP date)",
    schema: z.string(),
  },
};

export function v1UploadRoutes(
  stores: Stores,
  limits: Limits,
  uploads: ResumableUploads,
): DocumentedRoutes {
  const write = apiKeyAuth({ apiKeys: stores.metadata.apiKeys, scope: "write" });
  const routes = new Hono<AuthEnv>();

  routes.post("/v1/uploads", write, async (c) => {
    const { digest, size } = await readJson(c, createUploadSchema, limits.maxJsonBytes, "upload");
    const result = await uploads.create(digest, size, callerOf(c));
    if (result.kind === "already_stored") {
      return c.json({ status: "already_stored", digest, size }, 200);
    }
    const body = statusBody(result.upload);
    return c.json(body, 201, { location: body.location, ...statusHeaders(result.upload) });
  });

  routes.get("/v1/uploads/:id", write, async (c) => {
    const upload = await uploads.status(c.req.param("id"), callerOf(c));
    const headers = { ...statusHeaders(upload), "cache-control": "no-store" };
    if (c.req.method === "HEAD") return new Response(null, { status: 200, headers });
    return c.json(statusBody(upload), 200, headers);
  });

  routes.patch("/v1/uploads/:id", write, async (c) => {
    const id = c.req.param("id");
    const offset = uploadOffsetHeaderSchema.safeParse(c.req.header("upload-offset") ?? "");
    if (!offset.success) {
      await c.req.raw.body?.cancel().catch(() => {});
      throw new AppError(
        "invalid_input",
        "An append needs an Upload-Offset header with the upload's current offset",
      );
    }
    const declared = c.req.header("content-length");
    const body = c.req.raw.body ?? new ReadableStream<Uint8Array>({ start: (s) => s.close() });
    let result;
    try {
      result = await uploads.append(
        id,
        callerOf(c),
        offset.data,
        body,
        declared === undefined ? undefined : Number(declared),
      );
    } catch (error) {
      if (isAppError(error) && error.code === "conflict") {
        const current = await uploads.status(id, callerOf(c)).catch(() => null);
        return problemResponse(
          error,
          current ? { "upload-offset": String(current.offset), "cache-control": "no-store" } : {},
        );
      }
      throw error;
    }
    if (result.kind === "complete") {
      return c.json(
        {
          complete: true,
          digest: result.digest,
          size: result.size,
          offset: result.size,
          status: result.created ? "stored" : "already_stored",
        },
        200,
        { "upload-offset": String(result.size) },
      );
    }
    const headers = statusHeaders(result.upload);
    if (result.interrupted) {
      return problemResponse(
        new AppError(
          "invalid_input",
          `The body ended early; upload "${id}" kept ${result.upload.offset} bytes, resume from there`,
        ),
        headers,
      );
    }
    return c.json({ ...statusBody(result.upload), complete: false }, 200, headers);
  });

  routes.delete("/v1/uploads/:id", write, async (c) => {
    await uploads.abandon(c.req.param("id"), callerOf(c));
    return c.body(null, 204);
  });

  const idParameter = {
    name: "id",
    in: "path" as const,
    description: "The upload's id",
    schema: z.string(),
  };
  return {
    routes,
    features: ["uploads.resumable"],
    operations: [
      {
        method: "post",
        path: "/v1/uploads",
        operationId: "createUpload",
        summary: "Start a resumable upload of a large blob",
        description: `Answers 201 with Location, or 200 when the blob is already stored. ` +
          `An upload untouched for ${uploads.expirySeconds} seconds is removed.`,
        scope: "write",
        requestBody: { content: { "application/json": createUploadSchema } },
        responses: {
          200: {
            description: "The blob is already stored: nothing to upload",
            content: { "application/json": alreadyStoredSchema },
          },
          201: {
            description: "Upload created at offset 0",
            headers: {
              Location: { description: "The upload's URL path", schema: z.string() },
              ...offsetHeaders,
            },
            content: { "application/json": uploadStatusSchema },
          },
          ...problems({
            400: "Size 0 with a digest other than the empty blob's",
            ...AUTH_PROBLEMS,
            413: "Larger than the upload cap",
            422: "Invalid request",
          }),
        },
      },
      {
        method: "get",
        path: "/v1/uploads/{id}",
        operationId: "getUpload",
        summary: "Where an upload stands (JSON; HEAD gives the headers only)",
        scope: "write",
        parameters: [idParameter],
        responses: {
          200: {
            description: "The upload",
            headers: offsetHeaders,
            content: { "application/json": uploadStatusSchema },
          },
          ...problems({ ...AUTH_PROBLEMS, 404: "No such upload (or it expired or completed)" }),
        },
      },
      {
        method: "head",
        path: "/v1/uploads/{id}",
        operationId: "headUpload",
        summary: "An upload's offset in `Upload-Offset`",
        scope: "write",
        parameters: [idParameter],
        responses: {
          200: { description: "The upload", headers: offsetHeaders },
          401: { description: "Missing or invalid API key" },
          404: { description: "No such upload" },
        },
      },
      {
        method: "patch",
        path: "/v1/uploads/{id}",
        operationId: "appendUpload",
        summary: "Append bytes at the upload's offset",
        description: "Upload-Offset must equal the server's offset (else 409 with the real " +
          "one in Upload-Offset). The bytes are durable before the answer; a body cut off " +
          "keeps what arrived. The append that reaches the size verifies the digest and " +
          "publishes the blob (a mismatch is 400 and discards the upload). One append at a " +
          "time per upload (409 otherwise).",
        scope: "write",
        parameters: [idParameter, {
          name: "Upload-Offset",
          in: "header",
          required: true,
          description: "The offset the bytes start at",
          schema: uploadOffsetHeaderSchema,
        }],
        requestBody: {
          content: {
            "application/offset+octet-stream": { binary: "The next bytes of the blob" },
            "application/octet-stream": { binary: "The next bytes of the blob" },
          },
        },
        responses: {
          200: {
            description: "Appended; `complete` says whether the blob is now stored",
            headers: { "Upload-Offset": offsetHeaders["Upload-Offset"] },
            content: { "application/json": appendResponseSchema },
          },
          ...problems({
            400: "Missing Upload-Offset, more bytes than the size, a body that ended early " +
              "(Upload-Offset says what was kept) or bytes that do not hash to the digest",
            ...AUTH_PROBLEMS,
            404: "No such upload",
            409: "Wrong offset, or another append is running (Upload-Offset has the offset)",
          }),
        },
      },
      {
        method: "delete",
        path: "/v1/uploads/{id}",
        operationId: "abandonUpload",
        summary: "Abandon an upload and drop its bytes",
        scope: "write",
        parameters: [idParameter],
        responses: {
          204: { description: "Removed" },
          ...problems({ ...AUTH_PROBLEMS, 404: "No such upload", 409: "An append is running" }),
        },
      },
    ],
  };
}

function statusBody(upload: UploadStatus) {
  return { ...upload, location: `/v1/uploads/${upload.id}` };
}

function statusHeaders(upload: UploadStatus): Record<string, string> {
  return {
    "upload-offset": String(upload.offset),
    "upload-length": String(upload.size),
    "upload-expires": new Date(upload.expires_at).toUTCString(),
  };
}

/** The API key asking: uploads belong to the key that created them. */
function callerOf(c: Context<AuthEnv>): UploadCaller {
  const key = c.get("apiKey");
  return { keyId: key.id, admin: key.scope === "admin" };
}
