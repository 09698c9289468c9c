/** The OpenAPI description of the /v1 file routes (routes in v1_files.ts). */
import {
  deletionRequestSchema,
  deletionResponseSchema,
  fileBatchRequestSchema,
  fileBatchResponseSchema,
} from "../../lib/wire/v1.ts";
import type { Limits } from "../limits.ts";
import { AUTH_PROBLEMS, NOT_UNICODE, type Operation, problems } from "../openapi.ts";

export function v1FileOperations(limits: Limits): Operation[] {
  return [
    {
      method: "post",
      path: "/v1/files/batch",
      operationId: "registerFileBatch",
      summary: "Register many files in one transaction",
      description:
        `Registers up to ${limits.maxBatchFiles} files (body up to ${limits.maxBatchBytes} ` +
        "bytes) in one store transaction. Each file is answered in order; files that fail " +
        "validation are answered `invalid` and the others are still registered. `missing` " +
        "lists the digests whose blobs the server still needs, each once.",
      scope: "write",
      requestBody: {
        content: { "application/json": fileBatchRequestSchema(limits.maxBatchFiles) },
      },
      responses: {
        200: {
          description: "Per-file results",
          content: { "application/json": fileBatchResponseSchema },
        },
        ...problems({
          400: NOT_UNICODE,
          ...AUTH_PROBLEMS,
          413: "Body over the byte cap or more files than the cap",
          422: "Malformed JSON or an envelope that is not `{files: [...]}`",
        }),
      },
    },
    {
      method: "post",
      path: "/v1/files/deleted",
      operationId: "reportDeletedFiles",
      summary: "Report files gone from a host (soft delete)",
      description: `Marks up to ${limits.maxBatchItems} files of one host deleted. They stay ` +
        "on the server as history but are no longer listed; registering one again brings it back.",
      scope: "write",
      requestBody: {
        content: { "application/json": deletionRequestSchema(limits.maxBatchItems) },
      },
      responses: {
        200: {
          description: "How many files were marked",
          content: { "application/json": deletionResponseSchema },
        },
        ...problems({
          400: NOT_UNICODE,
          ...AUTH_PROBLEMS,
          413: "Body over the byte cap or more paths than the cap",
          422: "Invalid report",
        }),
      },
    },
  ];
}
