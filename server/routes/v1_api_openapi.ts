/** The OpenAPI description of `GET /v1` and `GET /v1/openapi.json` (routes in v1_api.ts). */
import { z } from "zod";
import { capabilitiesSchema } from "../../lib/wire/v1.ts";
import type { Operation } from "../openapi.ts";

export function v1ApiOperations(): Operation[] {
  return [
    {
      method: "get",
      path: "/v1",
      operationId: "getCapabilities",
      summary: "What this server supports: API version, features, limits",
      description: "A client that gets 404 here falls back to the classic routes.",
      scope: null,
      responses: {
        200: { description: "Capabilities", content: { "application/json": capabilitiesSchema } },
      },
    },
    {
      method: "get",
      path: "/v1/openapi.json",
      operationId: "getOpenApi",
      summary: "This description",
      scope: null,
      responses: {
        200: {
          description: "OpenAPI 3.1 document",
          content: { "application/json": z.record(z.string(), z.unknown()) },
        },
      },
    },
  ];
}
