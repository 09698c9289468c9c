/**
 * Online backup and restore of a ppserver data directory (SQLite metadata, fs blob store).
 *
 * The metadata (`metadata.sqlite`) and the pack index (`blobs/packs/index.db`) are copied
 * with SQLite's `VACUUM INTO`, a consistent snapshot taken in one read transaction, safe
 * while the server writes (WAL mode). Blobs are copied after both snapshots: a loose blob
 * file never changes once published and packs are append-only, so every blob that either
 * snapshot names is in the copy (the copy may hold more, which is harmless). The pack
 * index is snapshotted after the metadata, so a blob the metadata calls stored is in it.
 */
import { DatabaseSync } from "node:sqlite";
import { basename, dirname, join } from "node:path";
import { AppError } from "../lib/errors.ts";
import { syncDirectory } from "../lib/sync_directory.ts";
import type { ServerConfig } from "./config.ts";

export interface BackupReport {
  dest: string;
  metadata: string;
  packIndex: string | null;
  /** Blob files copied (loose blobs and packs), when blobs were included. */
  blobFiles: number | null;
}

const MANIFEST = "putplace-backup.json";

/** Where this configuration keeps what a backup copies; refuses stores it cannot copy. */
function paths(config: ServerConfig) {
  if (config.metadata.kind !== "sqlite") {
    throw new AppError(
      "invalid_input",
      "ppserver backup copies a SQLite metadata store; back up MongoDB with mongodump or " +
        "your deployment's snapshots (see the README)",
    );
  }
  const blobRoot = config.blobs.kind === "fs" ? config.blobs.root : null;
  return {
    metadata: config.metadata.path,
    blobRoot,
    packIndex: blobRoot && join(blobRoot, "packs", "index.db"),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function syncFile(path: string): Promise<void> {
  using file = await Deno.open(path, { read: true, write: true });
  await file.syncData();
}

function snapshot(source: string, target: string): void {
  const db = new DatabaseSync(source, { readOnly: true });
  try {
    db.prepare("VACUUM INTO ?").run(target);
  } finally {
    db.close();
  }
}

/** Copies a directory tree, each file and directory made durable (fsync) as it is written. */
async function copyTree(
  from: string,
  to: string,
  skip: (name: string) => boolean,
): Promise<number> {
  let copied = 0;
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (skip(entry.name)) continue;
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory) {
      copied += await copyTree(source, target, skip);
    } else if (entry.isFile) {
      await Deno.copyFile(source, target);
      await syncFile(target);
      copied++;
    }
  }
  await syncDirectory(to);
  return copied;
}

/** Temporary upload files and the pack index (snapshotted instead) are not copied. */
function notABlob(name: string): boolean {
  return name.startsWith(".tmp") || name.endsWith(".tmp") ||
    /^index\.db(-wal|-shm|-journal)?$/.test(name);
}

export async function backup(
  config: ServerConfig,
  dest: string,
  options: { blobs: boolean },
): Promise<BackupReport> {
  const where = paths(config);
  if (!(await exists(where.metadata))) {
    throw new AppError("invalid_input", `No metadata store at ${where.metadata} to back up`);
  }
  if (await exists(join(dest, MANIFEST)) || await exists(join(dest, "metadata.sqlite"))) {
    throw new AppError("conflict", `${dest} already holds a backup: choose a new directory`);
  }
  await Deno.mkdir(dest, { recursive: true });
  const metadata = join(dest, "metadata.sqlite");
  snapshot(where.metadata, metadata);
  let packIndex: string | null = null;
  if (where.packIndex && await exists(where.packIndex)) {
    packIndex = join(dest, "packs-index.db");
    snapshot(where.packIndex, packIndex);
  }
  let blobFiles: number | null = null;
  if (options.blobs && where.blobRoot) {
    blobFiles = await copyTree(where.blobRoot, join(dest, "blobs"), notABlob);
  }
  await Deno.writeTextFile(
    join(dest, MANIFEST),
    JSON.stringify(
      {
        format: 1,
        created_at: new Date().toISOString(),
        pack_index: packIndex !== null,
        blobs: blobFiles !== null,
      },
      null,
      2,
    ) + "\n",
  );
  return { dest, metadata, packIndex, blobFiles };
}

/**
 * Puts a backup in place of this configuration's stores. The server must be stopped, and
 * the target must hold no metadata yet (a restore never overwrites a store).
 */
export async function restore(config: ServerConfig, source: string): Promise<BackupReport> {
  const where = paths(config);
  if (!(await exists(join(source, MANIFEST)))) {
    throw new AppError("invalid_input", `${source} is not a ppserver backup (no ${MANIFEST})`);
  }
  if (await exists(where.metadata)) {
    throw new AppError(
      "conflict",
      `A metadata store already exists at ${where.metadata}: restore into a new data directory`,
    );
  }
  await Deno.mkdir(dirname(where.metadata), { recursive: true });
  let blobFiles: number | null = null;
  if (where.blobRoot && await exists(join(source, "blobs"))) {
    blobFiles = await copyTree(join(source, "blobs"), where.blobRoot, () => false);
  }
  let packIndex: string | null = null;
  if (where.packIndex && await exists(join(source, "packs-index.db"))) {
    await Deno.mkdir(dirname(where.packIndex), { recursive: true });
    await Deno.copyFile(join(source, "packs-index.db"), where.packIndex);
    await syncFile(where.packIndex);
    await syncDirectory(dirname(where.packIndex));
    packIndex = where.packIndex;
  }
  // The metadata last: a store that exists is a store that is complete.
  const partial = join(dirname(where.metadata), `.${basename(where.metadata)}.restoring`);
  await Deno.copyFile(join(source, "metadata.sqlite"), partial);
  await syncFile(partial);
  await Deno.rename(partial, where.metadata);
  await syncDirectory(dirname(where.metadata));
  return { dest: where.metadata, metadata: where.metadata, packIndex, blobFiles };
}
