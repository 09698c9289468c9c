/** The OpenAPI description of the admin removal routes (routes in v1_admin.ts). */
import { z } from "zod";
import { digestSchema } from "../../lib/digest.ts";
import { auditListResponseSchema, auditQuerySchema, auditRecordSchema } from "../../lib/wire/v1.ts";
import { AUTH_PROBLEMS, type Operation, problems } from "../openapi.ts";

export function v1AdminOperations(): Operation[] {
  return [
    {
      method: "delete",
      path: "/v1/hosts/{hostname}",
      operationId: "removeHost",
      summary: "Remove a decommissioned host's records (audited)",
      description: "Removes every file record of the host, live or deleted, with its history. " +
        "Blobs stay: other hosts may hold them. Answers the audit record written.",
      scope: "admin",
      parameters: [{
        name: "hostname",
        in: "path",
        description: "The host name, as its files report it",
        schema: z.string(),
      }],
      responses: {
        200: { description: "Removed", content: { "application/json": auditRecordSchema } },
        ...problems({ ...AUTH_PROBLEMS, 422: "Not a host name" }),
      },
    },
    {
      method: "delete",
      path: "/v1/blobs/{digest}",
      operationId: "purgeBlob",
      summary: "Purge a content: its blob and every record of it (audited)",
      description: "For a leaked secret: the blob leaves the index and the blob store, and " +
        "every file record with the digest and the history naming it are removed. Bytes " +
        "inside a pack file are reclaimed when packs are compacted. Answers the audit record.",
      scope: "admin",
      parameters: [{
        name: "digest",
        in: "path",
        description: "The blob's digest",
        schema: digestSchema,
      }],
      responses: {
        200: { description: "Purged", content: { "application/json": auditRecordSchema } },
        ...problems({ 400: "Malformed digest", ...AUTH_PROBLEMS }),
      },
    },
    {
      method: "get",
      path: "/v1/audit",
      operationId: "listAudit",
      summary: "The audit records of removals, newest first",
      scope: "admin",
      parameters: [{
        name: "limit",
        in: "query",
        description: "Most records (1 to 1000, default 100)",
        schema: auditQuerySchema.shape.limit,
      }],
      responses: {
        200: { description: "Records", content: { "application/json": auditListResponseSchema } },
        ...problems({ ...AUTH_PROBLEMS, 422: "Bad limit" }),
      },
    },
  ];
}
