/**
 * Files gone since the last scan: paths the scan cache holds under a root scanned this
 * time that the walk did not see. They are reported with `POST /v1/files/deleted` (a soft
 * delete the server keeps as history), under strict conditions:
 *
 * - only for roots scanned this time, and only when the walk of the root ran to its end
 *   (not interrupted) and the root itself could be read;
 * - never for a path under a directory that could not be read;
 * - only for paths that really no longer exist (`lstat` says so). A path that still exists
 *   but was not walked (now excluded, now a link, on another file system) is not a
 *   deletion: it is dropped from the cache and left alone on the server.
 *
 * A classic server cannot be told: the gone files are counted, stay in the cache (a later
 * scan against a /v1 server reports them), and verbose output says so.
 */
import { AppError } from "../../lib/errors.ts";
import { type RootWalk, ScanRun } from "./run.ts";
import type { V1Client } from "../http/v1_client.ts";

const PAGE = 500;

/** Reports the deletions of every clean root; answers false when a report failed. */
export async function reportDeletions(run: ScanRun, v1: V1Client | null): Promise<boolean> {
  const { cache, reporter } = run;
  if (cache === null) return true;
  let ok = true;
  for (const root of run.roots) {
    if (run.stop.aborted) break;
    if (!root.complete || root.unclean) {
      reporter.detail(`not looking for deleted files under ${root.path}: it could not be read`);
      continue;
    }
    try {
      await deletionsUnder(run, root, v1);
    } catch (error) {
      if (run.stop.aborted) break;
      if (ScanRun.isFatal(error) || !(error instanceof AppError)) throw error;
      reporter.problem(root.path, `cannot report deleted files: ${error.message}`);
      ok = false;
    }
  }
  cache.flush();
  return ok;
}

async function deletionsUnder(run: ScanRun, root: RootWalk, v1: V1Client | null): Promise<void> {
  const cache = run.cache!;
  const { stats, reporter, config } = run;
  const page = v1 ? Math.max(1, Math.min(PAGE, v1.capabilities.limits.batch_items)) : PAGE;
  let after: string | null = null;
  let unreported = 0;
  for (;;) {
    const rows = cache.unseenUnder(root.path, after, page);
    if (rows.length === 0) break;
    after = rows[rows.length - 1].path;
    const gone: string[] = [];
    const stillThere: string[] = [];
    for (const { path } of rows) {
      if (root.unreadable.some((dir) => path === dir || path.startsWith(`${dir}/`))) continue;
      try {
        Deno.lstatSync(path);
        stillThere.push(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
          gone.push(path);
        }
        // Anything else: cannot tell; keep the row and decide next time.
      }
    }
    cache.forget(stillThere);
    if (gone.length === 0) continue;
    if (v1 === null) {
      unreported += gone.length;
      stats.goneUnreported += gone.length;
      continue;
    }
    const answer = await v1.reportDeleted(config.hostname, gone, run.stop);
    stats.deleted += answer.deleted;
    cache.forget(gone);
    for (const path of gone) reporter.detail(`deleted ${path}`);
  }
  if (unreported > 0) {
    reporter.detail(
      `${unreported} files under ${root.path} are gone since the last scan; the server speaks ` +
        `only the classic API, which cannot be told of deletions`,
    );
  }
}
