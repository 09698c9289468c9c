/** The OpenAPI description of `GET /v1/whoami` (route in v1_whoami.ts). */
import { whoamiResponseSchema } from "../../lib/wire/v1.ts";
import { type Operation, problems } from "../openapi.ts";

export function v1WhoamiOperations(): Operation[] {
  return [{
    method: "get",
    path: "/v1/whoami",
    operationId: "getWhoami",
    summary: "The presented API key's id, name and scope",
    description: "A refused key gets 401 saying whether the key is unknown or revoked.",
    scope: "read",
    responses: {
      200: { description: "The key", content: { "application/json": whoamiResponseSchema } },
      ...problems({ 401: "Missing, unknown or revoked API key" }),
    },
  }];
}
