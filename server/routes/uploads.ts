/**
 * Classic blob upload: `POST /upload_file/{sha256}?hostname=&filepath=` with multipart
 * field `file` or a raw `application/octet-stream` body. The bytes stream to the blob
 * store while hashing; nothing is buffered whole.
 */
import { Hono } from "hono";
import { z } from "zod";
import { parseDigest } from "../../lib/digest.ts";
import { storeBlob, type Stores } from "../../lib/dedup.ts";
import { AppError, short } from "../../lib/errors.ts";
import { apiKeyAuth, type AuthEnv } from "../middleware/api_key_auth.ts";
import { limitedStream } from "../limited_body.ts";
import { multipartFile } from "../multipart_file.ts";
import { validationError } from "../problem_response.ts";
import type { Limits } from "../limits.ts";

const uploadQuerySchema = z.object({
  hostname: z.string().min(1).max(255),
  filepath: z.string().min(1).max(4096),
});

export function uploadRoutes(stores: Stores, limits: Limits): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const write = apiKeyAuth({ apiKeys: stores.metadata.apiKeys, scope: "write" });

  app.post("/upload_file/:sha256", write, async (c) => {
    const digest = parseDigest(c.req.param("sha256"));
    const query = uploadQuerySchema.safeParse(c.req.query());
    if (!query.success) throw validationError(query.error, "upload query");
    const { hostname, filepath } = query.data;
    const file = await stores.metadata.files.get(hostname, filepath);
    if (!file || file.sha256 !== digest) {
      throw new AppError(
        "not_found",
        `No file "${filepath}" on host "${hostname}" is registered with digest "${short(digest)}"`,
      );
    }
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
