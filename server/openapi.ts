/**
 * The OpenAPI 3.1 description of the /v1 API, generated from the very zod schemas the
 * routes validate with (`lib/wire/`): each /v1 resource module returns its routes together
 * with the `Operation`s that describe them, written beside it in `<resource>_openapi.ts`.
 */
import { z } from "zod";
import type { Hono } from "hono";
import { PROBLEM_CONTENT_TYPE, problemSchema } from "../lib/models/problem.ts";
import type { Scope } from "../lib/models/api_key.ts";
import type { AuthEnv } from "./middleware/api_key_auth.ts";

/** A body that is raw bytes (documented, never validated as JSON). */
export interface BinaryContent {
  binary: string;
}

export type Content = Record<string, z.ZodType | BinaryContent>;

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  description: string;
  schema: z.ZodType;
}

export interface ResponseDoc {
  description: string;
  headers?: Record<string, { description: string; schema: z.ZodType }>;
  content?: Content;
}

export interface Operation {
  method: "get" | "head" | "post" | "put" | "patch" | "delete";
  /** OpenAPI path template, e.g. `/v1/blobs/{digest}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** The least API key scope needed; null for routes open to anyone. */
  scope: Scope | null;
  parameters?: Parameter[];
  requestBody?: { description?: string; required?: boolean; content: Content };
  responses: Record<string, ResponseDoc>;
}

/** What each /v1 resource module gives the app: routes, their description, feature names. */
export interface DocumentedRoutes {
  routes: Hono<AuthEnv>;
  operations: Operation[];
  /** Names announced in `GET /v1` so clients can discover what the server supports. */
  features: string[];
}

/** The problem+json responses an operation can give, by status. */
export function problems(statuses: Record<number, string>): Record<string, ResponseDoc> {
  return Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [
      status,
      { description, content: { [PROBLEM_CONTENT_TYPE]: problemSchema } },
    ]),
  );
}

/** The 400 of every operation with a JSON body (see lib/wire/text.ts). */
export const NOT_UNICODE =
  "A string that is not valid Unicode (a lone surrogate), naming its field";

/** The responses of every authenticated operation. */
export const AUTH_PROBLEMS = {
  401: "Missing or invalid API key",
  403: "The API key's scope is too small, or its host limits exclude the host or blob",
};

export function openApiDocument(
  operations: readonly Operation[],
  info: { version: string; description: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    const item = paths[operation.path] ??= {};
    item[operation.method] = operationObject(operation);
  }
  return {
    openapi: "3.1.0",
    info: { title: "PutPlace API", version: info.version, description: info.description },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    components: {
      securitySchemes: {
        ApiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
    },
    paths,
  };
}

function operationObject(operation: Operation): Record<string, unknown> {
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    security: operation.scope === null ? [] : [{ ApiKey: [] }],
    ...(operation.scope === null ? {} : { "x-putplace-scope": operation.scope }),
    ...(operation.parameters
      ? {
        parameters: operation.parameters.map((p) => ({
          name: p.name,
          in: p.in,
          required: p.in === "path" ? true : p.required ?? false,
          description: p.description,
          schema: jsonSchema(p.schema, "input"),
        })),
      }
      : {}),
    ...(operation.requestBody
      ? {
        requestBody: {
          required: operation.requestBody.required ?? true,
          ...(operation.requestBody.description
            ? { description: operation.requestBody.description }
            : {}),
          content: contentObject(operation.requestBody.content, "input"),
        },
      }
      : {}),
    responses: Object.fromEntries(
      Object.entries(operation.responses).map(([status, response]) => [
        status,
        {
          description: response.description,
          ...(response.headers
            ? {
              headers: Object.fromEntries(
                Object.entries(response.headers).map(([name, header]) => [
                  name,
                  { description: header.description, schema: jsonSchema(header.schema, "output") },
                ]),
              ),
            }
            : {}),
          ...(response.content ? { content: contentObject(response.content, "output") } : {}),
        },
      ]),
    ),
  };
}

function contentObject(content: Content, io: "input" | "output"): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(content).map(([type, body]) => [
      type,
      {
        schema: "binary" in body
          ? { type: "string", contentMediaType: type, description: body.binary }
          : jsonSchema(body, io),
      },
    ]),
  );
}

/** JSON Schema 2020-12 (the OpenAPI 3.1 dialect) of a zod schema. */
export function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
  });
  return rest;
}
