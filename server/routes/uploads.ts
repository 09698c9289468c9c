/**
 * Classic blob upload: `POST /upload_file/{sha256}?hostname=&filepath=` with multipart
 * field `file` or a raw `application/octet-stream` body. The bytes stream to the blob
 * store while hashing; nothing is buffered whole.
 */
import { Hono } from "hono";
import { parseDigest } from "../../lib/digest.ts";
import { storeBlob, uploadTarget } from "../../lib/dedup.ts";
import { uploadQuerySchema } from "../../lib/wire/classic.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import { limitedStream } from "../limited_body.ts";
import { multipartFile } from "../multipart_file.ts";
import { validationError } from "../problem_response.ts";
import { requireHosts } from "../host_limits.ts";
import type { RouteDeps } from "./route_deps.ts";

export function uploadRoutes({ stores, limits, guards }: RouteDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  app.post("/upload_file/:sha256", guards.write, async (c) => {
    const digest = parseDigest(c.req.param("sha256"));
    const query = uploadQuerySchema.safeParse(c.req.query());
    if (!query.success) throw validationError(query.error, "upload query");
    const { hostname, filepath } = query.data;
    requireHosts(c.get("apiKey"), [hostname]);
    const file = await uploadTarget(stores, { hostname, filepath, digest });
    const body = limitedStream(c.req.raw, limits.maxUploadBytes);
    const contentType = c.req.header("content-type") ?? "application/octet-stream";
    const bytes = /^multipart\/form-data\b/i.test(contentType)
      ? await multipartFile(body, contentType, "file")
      : body;
    // The registered size bounds the upload: extra bytes are refused as they arrive.
    const { size } = await storeBlob(stores, digest, bytes, {
      size: file.file_size,
      epochFile: file,
    });
    return c.json({
      message: "File uploaded successfully",
      sha256: digest,
      size,
      hostname,
      filepath,
      status: "uploaded",
    });
  });

  return app;
}
