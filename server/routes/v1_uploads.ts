/**
 * /v1 resumable uploads of large blobs (tus / IETF resumable upload draft style):
 * `POST /v1/uploads` creates one for a digest and size, `HEAD` or `GET
 * /v1/uploads/{id}` tell its offset (`Upload-Offset`), `PATCH` appends at that offset,
 * `DELETE` abandons it. The append that reaches the size verifies and publishes the blob.
 */
import { type Context, Hono } from "hono";
import { AppError, isAppError } from "../../lib/errors.ts";
import { createUploadRequestSchema, uploadOffsetHeaderSchema } from "../../lib/wire/v1.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import { readJson } from "../json_body.ts";
import { requireDigestsOfHosts } from "../host_limits.ts";
import { problemResponse } from "../problem_response.ts";
import type { ResumableUploads, UploadCaller, UploadStatus } from "../resumable_uploads.ts";
import type { DocumentedRoutes } from "../openapi.ts";
import type { RouteDeps } from "./route_deps.ts";
import { v1UploadOperations } from "./v1_uploads_openapi.ts";

export function v1UploadRoutes(
  { stores, limits, guards }: RouteDeps,
  uploads: ResumableUploads,
): DocumentedRoutes {
  const routes = new Hono<AuthEnv>();

  routes.post("/v1/uploads", guards.write, async (c) => {
    const { digest, size } = await readJson(
      c,
      createUploadRequestSchema,
      limits.maxJsonBytes,
      "upload",
    );
    await requireDigestsOfHosts(stores, c.get("apiKey"), [digest]);
    const result = await uploads.create(digest, size, callerOf(c));
    if (result.kind === "already_stored") {
      return c.json({ status: "already_stored", digest, size }, 200);
    }
    const body = statusBody(result.upload);
    return c.json(body, 201, { location: body.location, ...statusHeaders(result.upload) });
  });

  routes.get("/v1/uploads/:id", guards.write, async (c) => {
    const upload = await uploads.status(c.req.param("id"), callerOf(c));
    const headers = { ...statusHeaders(upload), "cache-control": "no-store" };
    if (c.req.method === "HEAD") return new Response(null, { status: 200, headers });
    return c.json(statusBody(upload), 200, headers);
  });

  routes.patch("/v1/uploads/:id", guards.write, async (c) => {
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

  routes.delete("/v1/uploads/:id", guards.write, async (c) => {
    await uploads.abandon(c.req.param("id"), callerOf(c));
    return c.body(null, 204);
  });

  return {
    routes,
    features: ["uploads.resumable"],
    operations: v1UploadOperations(uploads.expirySeconds),
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
