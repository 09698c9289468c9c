/** Classic file routes: `POST /put_file` registers a file, `GET /get_file/{sha256}` finds one. */
import { Hono } from "hono";
import { firstFileWithDigest, isStored, registerFile } from "../../lib/dedup.ts";
import { parseDigest } from "../../lib/digest.ts";
import { AppError, short } from "../../lib/errors.ts";
import { fileWire, putFileRequestSchema } from "../../lib/wire/classic.ts";
import type { AuthEnv } from "../middleware/api_key_auth.ts";
import { readJson } from "../json_body.ts";
import { requireHosts } from "../host_limits.ts";
import type { RouteDeps } from "./route_deps.ts";

export function fileRoutes({ stores, limits, guards }: RouteDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  app.post("/put_file", guards.write, async (c) => {
    const metadata = await readJson(c, putFileRequestSchema, limits.maxJsonBytes, "file metadata");
    requireHosts(c.get("apiKey"), [metadata.hostname]);
    const { file, uploadRequired } = await registerFile(stores, metadata);
    return c.json({
      ...fileWire(file, !uploadRequired && await isStored(stores, file.sha256)),
      upload_required: uploadRequired,
      upload_url: uploadRequired ? `/upload_file/${file.sha256}` : null,
    }, 201);
  });

  app.get("/get_file/:sha256", guards.read, async (c) => {
    const digest = parseDigest(c.req.param("sha256"));
    const file = await firstFileWithDigest(stores, digest);
    if (!file) throw new AppError("not_found", `No file with digest "${short(digest)}"`);
    return c.json(fileWire(file, await isStored(stores, digest)));
  });

  return app;
}
