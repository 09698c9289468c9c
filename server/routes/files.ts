/** Classic file routes: `POST /put_file` registers a file, `GET /get_file/{sha256}` finds one. */
import { Hono } from "hono";
import { fileMetadataSchema, type FileRecord, fileWire } from "../../lib/models/file.ts";
import { isStored, registerFile, type Stores } from "../../lib/dedup.ts";
import { type Digest, parseDigest } from "../../lib/digest.ts";
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

/**
 * The epoch file while it is live and still holds this digest, else the oldest live file
 * that does. (`filesWithDigest(stores, digest, 1)` would miss an epoch file that is not the
 * oldest; `getById` also finds deleted files, so liveness is checked by path.)
 */
async function firstFileWithDigest(stores: Stores, digest: Digest): Promise<FileRecord | null> {
  const files = stores.metadata.files;
  const epochId = (await stores.metadata.blobs.get(digest))?.epoch_file_id;
  const epoch = epochId ? await files.getById(epochId) : null;
  const live = epoch ? await files.get(epoch.hostname, epoch.filepath) : null;
  if (live && live.id === epochId && live.sha256 === digest) return live;
  const [oldest] = await files.findByDigest(digest, 1);
  return oldest ?? null;
}
