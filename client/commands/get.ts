/**
 * `ppclient get DIGEST [-o FILE] [--continue]`: downloads a blob, streaming it to FILE or
 * to stdout and verifying its digest while writing.
 */
import { createHash } from "node:crypto";
import { DirectWriter } from "../../lib/direct_writer.ts";
import { resolve } from "node:path";
import { parseDigest } from "../../lib/digest.ts";
import { AppError, short } from "../../lib/errors.ts";
import { connect, type Connection, requireApiKey } from "../cli/connect.ts";
import { parseFlags } from "../cli/args.ts";
import { loadConfig, settingsHelp } from "../cli/config.ts";
import { blobSize, downloadBlob, type DownloadSink } from "../http/download.ts";
import { EXIT } from "../cli/exit_codes.ts";
import { formatBytes, TransferProgress } from "../cli/progress.ts";
import type { Command } from "./command.ts";

const FLAGS = {
  output: { type: "string", short: "o" },
  continue: { type: "boolean" },
  url: { type: "string" },
  "api-key": { type: "string", short: "k" },
  retries: { type: "string" },
  "retry-for": { type: "string" },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  config: { type: "string", short: "c" },
  help: { type: "boolean", short: "h" },
} as const;

const HELP = `Usage: ppclient get DIGEST [-o FILE] [--continue] [OPTIONS]

Downloads the blob with this digest (GET /v1/blobs/{digest}) and verifies that its
bytes hash to the digest while writing them.

Options:
  -o, --output FILE        write to FILE (default: stdout)
      --continue           FILE holds the start of the blob (an earlier download that
                           stopped): check it and download only the rest (Range)
      --url URL            server base URL
  -k, --api-key KEY        API key (or PUTPLACE_API_KEY); read scope is enough
      --retries N          retries on 500 and 429 answers; a download that is cut off
                           goes on from the bytes already written
      --retry-for TIME     how long to wait out an unreachable server
  -q, --quiet              no message when done
  -c, --config FILE        read only this config file (it must exist)
  -h, --help               this help

Settings come from flags, environment and config files as for "scan":
${settingsHelp()}

Bytes that do not hash to the digest: the output file is removed and the exit code is 1.
Exit codes: 0 downloaded and verified; 1 failed (not on the server, mismatch, network);
2 usage or configuration error; 3 authentication refused; 130 interrupted (FILE keeps
what was written: run again with --continue).`;

export const getCommand: Command = {
  name: "get",
  summary: "download a blob by digest, verified (to a file or stdout)",
  help: HELP,
  flags: FLAGS,
  async run(args, context) {
    const { values, positionals } = parseFlags(args, FLAGS);
    if (positionals.length !== 1) {
      throw new AppError("invalid_input", "Give exactly one DIGEST to download");
    }
    const digest = parseDigest(positionals[0]);
    if (values.continue && values.output === undefined) {
      throw new AppError("invalid_input", "--continue needs --output FILE");
    }
    const config = loadConfig(
      {
        url: values.url,
        "api-key": values["api-key"],
        retries: values.retries,
        "retry-for": values["retry-for"],
        quiet: values.quiet,
        verbose: values.verbose,
        config: values.config,
      },
      [],
      context.sources,
    );
    const { terminal, interrupt } = context;
    requireApiKey(config.apiKey);
    let server: Connection;
    try {
      server = await connect({
        config,
        scope: "read",
        command: "get",
        fetch: context.fetch,
        signal: interrupt,
        notice: (line) => {
          if (!config.quiet) terminal.err(`ppclient: ${line}\n`);
        },
        onRetry: (e) => {
          if (config.verbose) {
            terminal.err(
              `ppclient: retry ${e.retry} of ${e.request} in ${e.delayMs} ms: ${e.reason}\n`,
            );
          }
        },
      });
    } catch (error) {
      if (!interrupt.aborted) throw error;
      terminal.err("ppclient: interrupted\n");
      return EXIT.interrupted;
    }
    using _server = server;
    const { transport } = server;

    // Relative to the user's directory (also under `deno task`, see `userDirectory`).
    const progress = new TransferProgress(terminal);
    const output = values.output === undefined
      ? undefined
      : resolve(context.sources.cwd, values.output);
    const hash = createHash("sha256");
    let offset = 0;
    let known: number | undefined;
    let file: Deno.FsFile | null = null;
    let writer: { current: DirectWriter } | null = null;
    try {
      if (output !== undefined) {
        file = await openOutput(output, values.continue === true);
        if (values.continue) {
          offset = await hashExisting(file, hash);
          known = await blobSize(transport, digest, interrupt);
          if (offset > known) {
            throw new AppError(
              "invalid_input",
              `"${output}" has ${offset} bytes, more than the ${known} of blob "${short(digest)}"`,
            );
          }
        }
      }
      // A regular file is written past the page cache; a device or pipe as before.
      if (output !== undefined && file !== null && (await file.stat()).isFile) {
        writer = { current: await openWriter(output, offset) };
      }
      const sink: DownloadSink = writer !== null && output !== undefined
        ? directSink(output, writer)
        : file !== null
        ? fileSink(file)
        : stdoutSink();
      progress.done = offset;
      progress.total = known ?? null;
      // Not over the bytes themselves when they go to this very terminal.
      if (!config.quiet && (output !== undefined || !Deno.stdout.isTerminal())) progress.start();
      const size = await downloadBlob(transport, digest, sink, {
        offset,
        hash,
        size: known,
        signal: interrupt,
        onSize: (total) => {
          progress.total = total;
        },
        onBytes: (count) => {
          progress.done += count;
        },
      });
      progress.finish();
      // Durable when it is a regular file; a device or a pipe has nothing to sync (EINVAL).
      await writer?.current.finish();
      if (!config.quiet) {
        terminal.err(
          `ppclient: ${output ?? "stdout"}: ${
            formatBytes(size)
          } (${size} bytes), digest verified\n`,
        );
      }
      return EXIT.ok;
    } catch (error) {
      if (interrupt.aborted) {
        await writer?.current.finish().catch(() => {});
        terminal.err(
          `ppclient: interrupted${output ? `; "${output}" keeps what was written` : ""}\n`,
        );
        return EXIT.interrupted;
      }
      if (error instanceof AppError && error.code === "digest_mismatch" && output !== undefined) {
        await writer?.current.close();
        file?.close();
        file = null;
        await Deno.remove(output).catch(() => {});
        throw new AppError(error.code, `${error.message}; "${output}" was removed`, {
          cause: error,
        });
      }
      throw error;
    } finally {
      progress.finish();
      await writer?.current.close();
      file?.close();
    }
  },
};

async function openOutput(path: string, keep: boolean): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true, write: true, create: true, truncate: !keep });
  } catch (error) {
    throw new AppError("invalid_input", `Cannot write "${path}"`, { cause: error });
  }
}

/** Hashes what the file holds and leaves it positioned at its end; answers its length. */
async function hashExisting(
  file: Deno.FsFile,
  hash: ReturnType<typeof createHash>,
): Promise<number> {
  const buffer = new Uint8Array(1024 * 1024);
  let total = 0;
  for (;;) {
    const count = await file.read(buffer);
    if (count === null) return total;
    hash.update(buffer.subarray(0, count));
    total += count;
  }
}

async function openWriter(path: string, position: number): Promise<DirectWriter> {
  try {
    return await DirectWriter.open(path, position);
  } catch (error) {
    throw new AppError("invalid_input", `Cannot write "${path}"`, { cause: error });
  }
}

function fileSink(file: Deno.FsFile): DownloadSink {
  return {
    async write(bytes) {
      let offset = 0;
      while (offset < bytes.byteLength) offset += await file.write(bytes.subarray(offset));
    },
    async restart() {
      await file.truncate(0);
      await file.seek(0, Deno.SeekMode.Start);
    },
  };
}

/** The output file, written past the page cache (see `DirectWriter`). */
function directSink(path: string, writer: { current: DirectWriter }): DownloadSink {
  return {
    write: (bytes) => writer.current.write(bytes),
    async restart() {
      await writer.current.close();
      await Deno.truncate(path, 0);
      writer.current = await openWriter(path, 0);
    },
  };
}

function stdoutSink(): DownloadSink {
  let written = 0;
  return {
    async write(bytes) {
      let offset = 0;
      while (offset < bytes.byteLength) offset += await Deno.stdout.write(bytes.subarray(offset));
      written += bytes.byteLength;
    },
    restart() {
      if (written === 0) return Promise.resolve();
      return Promise.reject(
        new AppError("unavailable", "The server restarted a download already written to stdout"),
      );
    },
  };
}
