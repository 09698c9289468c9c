/** The OpenAPI description of the /v1 blob routes (routes in v1_blobs.ts). */
import { z } from "zod";
import { digestSchema } from "../../lib/digest.ts";
import { PROBLEM_CONTENT_TYPE, problemSchema } from "../../lib/models/problem.ts";
import {
  blobPutResponseSchema,
  missingRequestSchema,
  missingResponseSchema,
} from "../../lib/wire/v1.ts";
import type { Limits } from "../limits.ts";
import { AUTH_PROBLEMS, NOT_UNICODE, type Operation, problems } from "../openapi.ts";

const digestParameter = {
  name: "digest",
  in: "path" as const,
  description: "The blob's digest: lowercase hex SHA-256",
  schema: digestSchema,
};

export function v1BlobOperations(limits: Limits): Operation[] {
  const blobHeaders = {
    ETag: { description: 'The digest in quotes: `"<digest>"`', schema: z.string() },
    "Accept-Ranges": { description: "Always `bytes`", schema: z.literal("bytes") },
    "Content-Length": { description: "Bytes in this response", schema: z.number().int() },
  };
  return [
    {
      method: "post",
      path: "/v1/blobs/missing",
      operationId: "findMissingBlobs",
      summary: "Ask which blobs the server does not hold",
      description: `Up to ${limits.maxBatchItems} digests with their sizes. The empty blob is ` +
        "always held.",
      scope: "read",
      requestBody: {
        content: { "application/json": missingRequestSchema(limits.maxBatchItems) },
      },
      responses: {
        200: {
          description: "The missing digests",
          content: { "application/json": missingResponseSchema },
        },
        ...problems({
          400: NOT_UNICODE,
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
  ];
}
