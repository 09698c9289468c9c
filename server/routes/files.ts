/** Classic file routes: `POST /put_file` registers a file, `GET /get_file/{sha256}` finds one. */
import { Hono } from "hono";
import { fileMetadataSchema, fileWire } from "../../lib/models/file.ts";
import { firstFileWithDigest, isStored, registerFile, type Stores } from "../../lib/dedup.ts";
import { parseDigest } from "../../lib/digest.ts";
import { AppError, short } from "../../lib/errors.ts";
import { apiKeyAuth, type AuthEnv } from "../middleware/api_key_auth.ts";
import { readJson } from "../json_body.ts";
import type { Limits } from "../limits.ts";

export function fileRoutes(stores: Stores, limits: Limits): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const write = apiKeyAuth({ apiKeys: stores.metadata.apiKeys, scope: "write" });
  const read = apiKeyAuth({ apiKeys: stores.metadata.apiKeys, scope: "read" });

  app.post("/put_file", write, async (c) => {
    const metadata = await readJson(c, fileMetadataSchema, limits.maxJsonBytes, "file metadata");
    const { file, uploadRequired } = await registerFile(stores, metadata);
    return c.json({
      ...fileWire(file, !uploadRequired && await isStored(stores, file.sha256)),
      upload_required: uploadRequired,
      upload_url: uploadRequired ? `/upload_file/${file.sha256}` : null,
    }, 201);
  });

  app.get("/get_file/:sha256", read, async (c) => {
    const digest = parseDigest(c.req.param("sha256"));
    const file = await firstFileWithDigest(stores, digest);
    if (!file) throw new AppError("not_found", `No file with digest "${short(digest)}"`);
    return c.json(fileWire(file, await isStored(stores, digest)));
  });

  return app;
}
