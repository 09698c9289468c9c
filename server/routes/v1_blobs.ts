/**
 * /v1 blob routes: the missing-blob query (`POST /v1/blobs/missing`), raw single-blob
 * upload (`PUT /v1/blobs/{digest}`, streamed) and downloads (`GET` / `HEAD
 * /v1/blobs/{digest}`, streamed, with `Range`, a strong `ETag` of the digest and
 * `If-None-Match`).
 */
import { Hono } from "hono";
import { z } from "zod";
import { EMPTY_DIGEST, parseDigest } from "../../lib/digest.ts";
import { missingBlobs, storeBlobByDigest, type Stores } from "../../lib/dedup.ts";
import { AppError, short } from "../../lib/errors.ts";
import { digestSchema } from "../../lib/models/file.ts";
import { PROBLEM_CONTENT_TYPE, problemSchema } from "../../lib/models/problem.ts";
import { apiKeyAuth, type AuthEnv } from "../middleware/api_key_auth.ts";
import { readJson } from "../json_body.ts";
import { limitedStream } from "../limited_body.ts";
import type { Limits } from "../limits.ts";
import { problemResponse } from "../problem_response.ts";
import { chooseRange, ifNoneMatchHits, ifRangeAllows, type RangeChoice } from "../http_range.ts";
import { AUTH_PROBLEMS, type DocumentedRoutes, problems } from "../openapi.ts";
import { parseBatch } from "./v1_batch_body.ts";

const digestText = z.string().regex(/^[0-9a-f]{64}$/);
const blobSize = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export function missingRequestSchema(limits: Limits) {
  return z.object({
    blobs: z.array(z.object({ digest: digestSchema, size: blobSize })).max(limits.maxBatchItems),
  });
}

export const missingResponseSchema = z.object({
  missing: z.array(digestText).meta({
    description: "The digests asked about that the server does not hold, each once, in order",
  }),
});

export const blobPutResponseSchema = z.object({
  digest: digestText,
  size: blobSize,
  status: z.enum(["stored", "already_stored"]),
});

const digestParameter = {
  name: "digest",
  in: "path" as const,
  description: "The blob's digest: lowercase hex SHA-256",
  schema: digestSchema,
};

export function v1BlobRoutes(stores: Stores, limits: Limits): DocumentedRoutes {
  const missingSchema = missingRequestSchema(limits);
  const read = apiKeyAuth({ apiKeys: stores.metadata.apiKeys, scope: "read" });
  const write = apiKeyAuth({ apiKeys: stores.metadata.apiKeys, scope: "write" });
  const routes = new Hono<AuthEnv>();

  routes.post("/v1/blobs/missing", read, async (c) => {
    const value = await readJson(c, z.unknown(), limits.maxBatchBytes, "missing-blob query");
    const { blobs } = parseBatch(missingSchema, value, "missing-blob query");
    const missing = await missingBlobs(stores, blobs.map((b) => b.digest));
    return c.json({ missing });
  });

  routes.put("/v1/blobs/:digest", write, async (c) => {
    const digest = parseDigest(c.req.param("digest"));
    const declared = c.req.header("content-length");
    const body = limitedStream(c.req.raw, limits.maxUploadBytes);
    const result = await storeBlobByDigest(stores, digest, body, {
      size: declared === undefined ? undefined : Number(declared),
    });
    return c.json(
      { digest, size: result.size, status: result.created ? "stored" : "already_stored" },
      result.created ? 201 : 200,
    );
  });

  routes.get("/v1/blobs/:digest", read, async (c) => {
    const digest = parseDigest(c.req.param("digest"));
    const size = digest === EMPTY_DIGEST ? 0 : (await stores.metadata.blobs.get(digest))?.size;
    if (size === undefined) throw notStored(digest);
    const etag = `"${digest}"`;
    const headers = new Headers({
      etag,
      "accept-ranges": "bytes",
      "cache-control": "private, max-age=31536000, immutable",
    });
    if (ifNoneMatchHits(c.req.header("if-none-match"), etag)) {
      return new Response(null, { status: 304, headers });
    }
    const choice: RangeChoice = ifRangeAllows(c.req.header("if-range"), etag)
      ? chooseRange(c.req.header("range"), size)
      : { kind: "whole" };
    if (choice.kind === "unsatisfiable") {
      headers.set("content-range", `bytes */${size}`);
      return problemResponse(
        new AppError(
          "invalid_input",
          `Range "${short(c.req.header("range") ?? "", 40)}" selects no byte of blob ` +
            `"${short(digest)}" (${size} bytes)`,
          { status: 416 },
        ),
        headers,
      );
    }
    const start = choice.kind === "partial" ? choice.start : 0;
    const end = choice.kind === "partial" ? choice.end : size - 1;
    const status = choice.kind === "partial" ? 206 : 200;
    headers.set("content-type", "application/octet-stream");
    headers.set("content-length", String(end - start + 1));
    if (choice.kind === "partial") headers.set("content-range", `bytes ${start}-${end}/${size}`);
    if (c.req.method === "HEAD") return new Response(null, { status, headers });
    if (size === 0) return new Response(null, { status, headers });
    const blob = await stores.blobs.get(digest, { start, end });
    if (!blob) throw notStored(digest);
    return new Response(blob.body, { status, headers });
  });

  const blobHeaders = {
    ETag: { description: 'The digest in quotes: `"<digest>"`', schema: z.string() },
    "Accept-Ranges": { description: "Always `bytes`", schema: z.literal("bytes") },
    "Content-Length": { description: "Bytes in this response", schema: z.number().int() },
  };
  return {
    routes,
    features: ["blobs.missing", "blobs.put", "blobs.get"],
    operations: [
      {
        method: "post",
        path: "/v1/blobs/missing",
        operationId: "findMissingBlobs",
        summary: "Ask which blobs the server does not hold",
        description: `Up to ${limits.maxBatchItems} digests with their sizes. The empty blob is ` +
          "always held.",
        scope: "read",
        requestBody: { content: { "application/json": missingSchema } },
        responses: {
          200: {
            description: "The missing digests",
            content: { "application/json": missingResponseSchema },
          },
          ...problems({
            ...AUTH_PROBLEMS,
            413: "Body over the byte cap or more digests than the cap",
            422: "Invalid query",
          }),
        },
      },
      {
        method: "put",
        path: "/v1/blobs/{digest}",
        operationId: "putBlob",
        summary: "Upload one blob's bytes (streamed)",
        description: "The bytes are hashed while they stream to the blob store and become " +
          "visible only if they hash to the digest. Content-Length is optional; when given, " +
          "exactly that many bytes must arrive. No registered file is needed.",
        scope: "write",
        parameters: [digestParameter],
        requestBody: {
          content: { "application/octet-stream": { binary: "The blob's bytes" } },
        },
        responses: {
          200: {
            description: "The blob was already stored (the bytes were still verified)",
            content: { "application/json": blobPutResponseSchema },
          },
          201: {
            description: "The blob is stored",
            content: { "application/json": blobPutResponseSchema },
          },
          ...problems({
            400: "Malformed digest, bytes that do not hash to it, or a short body",
            ...AUTH_PROBLEMS,
            413: "Body larger than the upload cap",
          }),
        },
      },
      {
        method: "get",
        path: "/v1/blobs/{digest}",
        operationId: "getBlob",
        summary: "Download a blob (streamed; Range, ETag, If-None-Match)",
        description: "`Range: bytes=a-b`, `bytes=a-` and `bytes=-n` give 206 with " +
          "Content-Range; several ranges or a malformed header are ignored (200). `If-Range` " +
          "with the ETag is honoured. HEAD answers the same headers without a body.",
        scope: "read",
        parameters: [
          digestParameter,
          {
            name: "Range",
            in: "header",
            description: "One byte range",
            schema: z.string(),
          },
          {
            name: "If-None-Match",
            in: "header",
            description: "ETags the client holds; a match gives 304",
            schema: z.string(),
          },
          {
            name: "If-Range",
            in: "header",
            description: "Honour Range only if the blob still has this ETag",
            schema: z.string(),
          },
        ],
        responses: {
          200: {
            description: "The whole blob",
            headers: blobHeaders,
            content: { "application/octet-stream": { binary: "The blob's bytes" } },
          },
          206: {
            description: "The range asked for",
            headers: {
              ...blobHeaders,
              "Content-Range": { description: "`bytes a-b/size`", schema: z.string() },
            },
            content: { "application/octet-stream": { binary: "The bytes of the range" } },
          },
          304: { description: "If-None-Match matched", headers: { ETag: blobHeaders.ETag } },
          ...problems({
            400: "Malformed digest",
            ...AUTH_PROBLEMS,
            404: "The server does not hold this blob",
          }),
          416: {
            description: "The range selects no byte; Content-Range is `bytes */size`",
            headers: { "Content-Range": { description: "`bytes */size`", schema: z.string() } },
            content: { [PROBLEM_CONTENT_TYPE]: problemSchema },
          },
        },
      },
      {
        method: "head",
        path: "/v1/blobs/{digest}",
        operationId: "headBlob",
        summary: "A blob's headers (size, ETag) without its bytes",
        scope: "read",
        parameters: [digestParameter],
        responses: {
          200: { description: "The blob is held", headers: blobHeaders },
          206: { description: "The range asked for is satisfiable", headers: blobHeaders },
          304: { description: "If-None-Match matched" },
          400: { description: "Malformed digest" },
          401: { description: "Missing or invalid API key" },
          404: { description: "The server does not hold this blob" },
          416: { description: "The range selects no byte" },
        },
      },
    ],
  };
}

function notStored(digest: string): AppError {
  return new AppError("not_found", `The server does not hold blob "${short(digest)}"`);
}
