/**
 * `ppclient restore HOST:PATH TARGET [--at WHEN]`: one file or a whole tree of a host as it
 * was at a time (now by default), from the server's inventory and blobs.
 *
 * Each file is downloaded into a temporary file beside its destination, verified against
 * its digest while written, given its mode and mtime, then renamed into place: a
 * destination is never left half written. A rerun skips files that already have the right
 * content (fixing only their mode and mtime), so an interrupted restore resumes. An
 * existing file with other content is left alone unless `--overwrite`. Files whose content
 * the server never received are reported, and make the exit code 1.
 */
import { dirname, join } from "node:path";
import { AppError } from "../../lib/errors.ts";
import type { z } from "zod";
import { BoundedQueue } from "../async/bounded_queue.ts";
import { runPool } from "../async/pool.ts";
import { EXIT } from "../cli/exit_codes.ts";
import { digestOfFile } from "../cli/local_digest.ts";
import { formatBytes, TransferProgress } from "../cli/progress.ts";
import {
  COMMON_FLAGS,
  COMMON_HELP,
  EXIT_HELP,
  parseCommandArgs,
  withQueryClient,
} from "../cli/query_command.ts";
import { parseHostPath, parseWhen } from "../cli/when.ts";
import { downloadBlob, type DownloadSink } from "../http/download.ts";
import { type QueryClient, snapshotPage } from "../http/query_client.ts";
import type { Command } from "./command.ts";

type SnapshotFile = z.infer<typeof snapshotPage>["items"][number];

/** How many listed files may wait for their restore (the listing's memory bound). */
const LISTING_AHEAD = 10_000;

const HELP = `Usage: ppclient restore HOST:PATH TARGET [--at WHEN] [--overwrite] [OPTIONS]

Restores a file, or every file under a directory, of HOST as it was at WHEN (default
now) into TARGET: content downloaded and verified, mode and mtime set, directories made.
For a directory, TARGET becomes that directory (TARGET/a/b for HOST:PATH/a/b).

A rerun skips files already restored with the right content, so an interrupted restore
resumes where it stopped. An existing file with other content is never replaced unless
--overwrite. Files whose content the server never received cannot be restored: they are
listed and the exit code is 1. Empty directories are not in the inventory.

Options:
      --at WHEN            the time to restore: 30m, 24h, 7d ago, or an ISO date or time
      --overwrite          replace existing files whose content differs
  -j, --jobs N             files in flight at once (default: from the config, as for scan)
${COMMON_HELP}

${EXIT_HELP} Exit 1 also when some file could not be restored.`;

const FLAGS = {
  at: { type: "string" },
  overwrite: { type: "boolean" },
  jobs: { type: "string", short: "j" },
} as const;

interface Tally {
  restored: number;
  bytes: number;
  unchanged: number;
  failed: number;
  missing: number;
}

export const restoreCommand: Command = {
  name: "restore",
  summary: "restore a file or tree of a host as it was at a time",
  help: HELP,
  flags: { ...COMMON_FLAGS, ...FLAGS },
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(args, FLAGS);
    if (positionals.length !== 2) {
      throw new AppError("invalid_input", "Give HOST:PATH and a TARGET to restore into");
    }
    const { hostname, path } = parseHostPath(positionals[0]);
    const target = positionals[1];
    const at = values.at === undefined
      ? undefined
      : parseWhen(values.at, new Date(), "--at").toISOString();
    const { terminal, interrupt } = context;
    return await withQueryClient("restore", values, context, async ({ client, config }) => {
      const tally: Tally = { restored: 0, bytes: 0, unchanged: 0, failed: 0, missing: 0 };
      const prefix = path === "/" ? "/" : `${path.replace(/\/+$/, "")}/`;
      const pages = client.pages(client.hostPath(hostname, "snapshot"), { path, at }, snapshotPage);
      // The live line: bytes and files done of those listed so far, and the totals once the
      // listing has ended. The listing runs up to LISTING_AHEAD files ahead of the restore,
      // so a tree of fewer files has its totals at once and memory stays bounded.
      const progress = new TransferProgress(terminal);
      const listed = { done: 0, known: 0, complete: false };
      progress.files = listed;
      const ahead = new BoundedQueue<SnapshotFile>(LISTING_AHEAD);
      const listing = (async () => {
        let bytes = 0;
        try {
          for await (const file of pages) {
            listed.known++;
            bytes += file.file_size;
            if (!await ahead.push(file)) return;
          }
          listed.complete = true;
          progress.total = bytes;
        } finally {
          ahead.close();
        }
      })();
      listing.catch(() => {}); // awaited below; handled here in case the restore fails first
      const files = ahead[Symbol.asyncIterator]();
      if (!config.quiet) progress.start();
      /** A line of its own, above the live line. */
      const say = (text: string) => {
        progress.finish();
        terminal.err(text);
        if (!config.quiet) progress.start();
      };
      let seen = 0;
      const destinationOf = async (file: SnapshotFile): Promise<string> => {
        if (file.filepath === path.replace(/\/+$/, "") || file.filepath === path) {
          // One file: TARGET is the file, or a directory to put it in.
          const info = await Deno.stat(target).catch(() => null);
          return info?.isDirectory ? join(target, baseName(file.filepath)) : target;
        }
        return join(target, ...safeParts(file.filepath.slice(prefix.length), file.filepath));
      };
      try {
        await runPool(files, config.jobs, async (file) => {
          seen++;
          const counted = { bytes: 0 };
          try {
            const destination = await destinationOf(file);
            await restoreOne(client, file, destination, values.overwrite === true, tally, {
              signal: interrupt,
              say,
              onBytes: (count) => {
                counted.bytes += count;
                progress.done += count;
              },
            });
          } catch (error) {
            if (interrupt.aborted) throw error;
            if (error instanceof AppError && ["unauthorized", "forbidden"].includes(error.code)) {
              throw error;
            }
            tally.failed++;
            say(`ppclient: ${file.filepath}: ${messageOf(error)}\n`);
          } finally {
            // A file skipped, refused or restored counts whole, so the line ends at 100%.
            progress.done += Math.max(0, file.file_size - counted.bytes);
            listed.done++;
          }
        }, interrupt);
      } finally {
        progress.finish();
        ahead.discard();
      }
      await listing;
      if (interrupt.aborted) {
        terminal.err("ppclient: interrupted; run the same command again to resume\n");
        return EXIT.interrupted;
      }
      if (seen === 0) {
        throw new AppError(
          "not_found",
          `Nothing at "${path}" on host "${hostname}"${at ? ` at ${at}` : ""}`,
        );
      }
      if (!config.quiet) {
        terminal.err(
          `ppclient: restored ${tally.restored} files (${
            formatBytes(tally.bytes)
          }), ${tally.unchanged} already correct, ${tally.missing} never received by the server, ${tally.failed} failed\n`,
        );
      }
      return tally.failed + tally.missing === 0 ? EXIT.ok : EXIT.failed;
    }, { jobs: values.jobs });

    async function restoreOne(
      client: QueryClient,
      file: SnapshotFile,
      destination: string,
      overwrite: boolean,
      tally: Tally,
      { signal, onBytes, say }: {
        signal: AbortSignal;
        onBytes: (count: number) => void;
        say: (text: string) => void;
      },
    ): Promise<void> {
      const existing = await Deno.lstat(destination).catch((error) => {
        if (error instanceof Deno.errors.NotFound) return null;
        throw error;
      });
      if (existing !== null) {
        if (existing.isFile && existing.size === file.file_size) {
          const { digest } = await digestOfFile(destination);
          if (digest === file.sha256) {
            await setMetadata(destination, file);
            tally.unchanged++;
            return;
          }
        }
        if (!overwrite) {
          throw new AppError(
            "conflict",
            `"${destination}" exists with other content; not replaced (use --overwrite)`,
          );
        }
        if (!existing.isFile) {
          throw new AppError("conflict", `"${destination}" exists and is not a regular file`);
        }
      }
      if (!file.stored) {
        tally.missing++;
        say(
          `ppclient: ${file.filepath}: its content (${file.sha256}) was never received by the server; not restored\n`,
        );
        return;
      }
      await Deno.mkdir(dirname(destination), { recursive: true });
      const temporary = join(dirname(destination), `.${baseName(destination)}.ppclient-restore`);
      const output = await Deno.open(temporary, {
        write: true,
        create: true,
        truncate: true,
        mode: 0o600,
      });
      try {
        if (file.file_size > 0) {
          await downloadBlob(client.transport, file.sha256, sinkOf(output, onBytes), {
            size: file.file_size,
            signal,
          });
        }
        await output.sync();
      } catch (error) {
        output.close();
        await Deno.remove(temporary).catch(() => {});
        throw error;
      }
      output.close();
      await setMetadata(temporary, file);
      await Deno.rename(temporary, destination);
      tally.restored++;
      tally.bytes += file.file_size;
    }
  },
};

async function setMetadata(path: string, file: SnapshotFile): Promise<void> {
  await Deno.chmod(path, file.file_mode & 0o7777 || 0o644);
  await Deno.utime(path, file.file_mtime, file.file_mtime);
}

function sinkOf(output: Deno.FsFile, onBytes: (count: number) => void): DownloadSink {
  let written = 0;
  return {
    async write(bytes) {
      let offset = 0;
      while (offset < bytes.byteLength) offset += await output.write(bytes.subarray(offset));
      written += bytes.byteLength;
      onBytes(bytes.byteLength);
    },
    async restart() {
      onBytes(-written);
      written = 0;
      await output.truncate(0);
      await output.seek(0, Deno.SeekMode.Start);
    },
  };
}

function baseName(path: string): string {
  return path.replace(/\/+$/, "").split("/").at(-1) || path;
}

/** The parts of a relative path from the server, refusing any that would leave TARGET. */
function safeParts(relative: string, filepath: string): string[] {
  const parts = relative.split("/").filter((part) => part !== "");
  if (parts.length === 0 || parts.some((part) => part === "." || part === "..")) {
    throw new AppError("invalid_input", `Refusing to restore "${filepath}": unsafe path`);
  }
  return parts;
}

function messageOf(error: unknown): string {
  if (error instanceof AppError) return error.message;
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
