/**
 * /v1 blob routes: the missing-blob query (`POST /v1/blobs/missing`), raw single-blob
 * upload (`PUT /v1/blobs/{digest}`, streamed) and downloads (`GET` / `HEAD
 * /v1/blobs/{digest}`, streamed, with `Range`, a strong `ETag` of the digest and
 * `If-None-Match`).
 */
import { Hono } from "hono";
import { z } from "zod";
import { parseDigest } from "../../lib/digest.ts";
import { missingBlobs, readBlob, storeBlobByDigest, storedSize } from "../../lib/dedup.ts";
import { AppError, short } from "../../lib/errors.ts";
import { missingRequestSchema } from "../../lib/wire/v1.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import { readJson } from "../json_body.ts";
import { limitedStream } from "../limited_body.ts";
import { problemResponse } from "../problem_response.ts";
import { chooseRange, ifNoneMatchHits, ifRangeAllows, type RangeChoice } from "../http_range.ts";
import type { DocumentedRoutes } from "../openapi.ts";
import { parseBatch } from "./v1_batch_body.ts";
import { requireDigestsOfHosts } from "../host_limits.ts";
import type { RouteDeps } from "./route_deps.ts";
import { v1BlobOperations } from "./v1_blobs_openapi.ts";

export function v1BlobRoutes({ stores, limits, guards }: RouteDeps): DocumentedRoutes {
  const missingSchema = missingRequestSchema(limits.maxBatchItems);
  const routes = new Hono<AuthEnv>();

  routes.post("/v1/blobs/missing", guards.read, async (c) => {
    const value = await readJson(c, z.unknown(), limits.maxBatchBytes, "missing-blob query");
    const { blobs } = parseBatch(missingSchema, value, "missing-blob query");
    const missing = await missingBlobs(stores, blobs.map((b) => b.digest));
    return c.json({ missing });
  });

  routes.put("/v1/blobs/:digest", guards.write, async (c) => {
    const digest = parseDigest(c.req.param("digest"));
    await requireDigestsOfHosts(stores, c.get("apiKey"), [digest]);
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

  routes.get("/v1/blobs/:digest", guards.read, async (c) => {
    const digest = parseDigest(c.req.param("digest"));
    const size = await storedSize(stores, digest);
    if (size === null) throw notStored(digest);
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
    const blob = await readBlob(stores, digest, { start, end });
    if (!blob) throw notStored(digest);
    return new Response(blob.body, { status, headers });
  });

  return {
    routes,
    features: ["blobs.missing", "blobs.put", "blobs.get"],
    operations: v1BlobOperations(limits),
  };
}

function notStored(digest: string): AppError {
  return new AppError("not_found", `The server does not hold blob "${short(digest)}"`);
}
