/** The OpenAPI description of the /v1 resumable upload routes (routes in v1_uploads.ts). */
import { z } from "zod";
import {
  appendResponseSchema,
  createUploadRequestSchema,
  uploadAlreadyStoredSchema,
  uploadOffsetHeaderSchema,
  uploadStatusSchema,
} from "../../lib/wire/v1.ts";
import { AUTH_PROBLEMS, NOT_UNICODE, type Operation, problems } from "../openapi.ts";

const offsetHeaders = {
  "Upload-Offset": { description: "Bytes durably received", schema: z.number().int() },
  "Upload-Length": { description: "The blob's size", schema: z.number().int() },
  "Upload-Expires": {
    description: "When the upload is removed unless appended to (HTTP date)",
    schema: z.string(),
  },
};

export function v1UploadOperations(expirySeconds: number): Operation[] {
  const idParameter = {
    name: "id",
    in: "path" as const,
    description: "The upload's id",
    schema: z.string(),
  };
  return [
    {
      method: "post",
      path: "/v1/uploads",
      operationId: "createUpload",
      summary: "Start a resumable upload of a large blob",
      description: `Answers 201 with Location, or 200 when the blob is already stored. ` +
        `An upload untouched for ${expirySeconds} seconds is removed.`,
      scope: "write",
      requestBody: { content: { "application/json": createUploadRequestSchema } },
      responses: {
        200: {
          description: "The blob is already stored: nothing to upload",
          content: { "application/json": uploadAlreadyStoredSchema },
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
          400: `Size 0 with a digest other than the empty blob's. ${NOT_UNICODE}`,
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
  ];
}
