/**
 * The streaming walk of one scan root: an async generator that yields as it goes, so
 * a tree of any size never becomes a list in memory (one directory's listing per level
 * of the current path at most).
 *
 * Policy:
 * - Regular files are yielded. A root that is a file is yielded itself.
 * - A root given as a symbolic link is followed (as `find -H` does).
 * - Symbolic links inside the tree are skipped unless `followSymlinks`; when followed,
 *   a directory already on the current path (same device and inode) is a loop and is
 *   skipped, and a dangling link is skipped.
 * - Special files (FIFOs, sockets, devices) are skipped, never opened.
 * - Excluded paths are skipped; excluded directories are not descended into.
 * - With `oneFileSystem`, directories on another device than their root are skipped.
 * - A directory that cannot be listed is reported as unreadable and the walk goes on.
 */
import { resolve } from "node:path";
import { type ExcludeRule, isExcluded } from "./exclude.ts";

export type SkipReason =
  | "excluded"
  | "symlink"
  | "dangling_symlink"
  | "symlink_loop"
  | "special"
  | "other_filesystem";

export type WalkEvent =
  /** A regular file to process; `rootDev` is the device of its scan root. */
  | { kind: "file"; path: string; rootDev: number }
  | { kind: "directory"; path: string }
  | { kind: "skipped"; path: string; reason: SkipReason }
  | { kind: "unreadable"; path: string; message: string };

export interface WalkOptions {
  exclude: readonly ExcludeRule[];
  followSymlinks: boolean;
  oneFileSystem: boolean;
  /** Stops the walk between entries. */
  signal?: AbortSignal;
}

export async function* walk(root: string, options: WalkOptions): AsyncGenerator<WalkEvent> {
  const path = resolve(root);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    yield { kind: "unreadable", path, message: describeFsError(error) };
    return;
  }
  if (info.isFile) {
    yield { kind: "file", path, rootDev: info.dev };
  } else if (info.isDirectory) {
    yield { kind: "directory", path };
    const ancestors = new Set([identity(info)]);
    yield* walkDirectory(path, "", info.dev, ancestors, options);
  } else {
    yield { kind: "skipped", path, reason: "special" };
  }
}

async function* walkDirectory(
  directory: string,
  relative: string,
  rootDev: number,
  ancestors: Set<string>,
  options: WalkOptions,
): AsyncGenerator<WalkEvent> {
  let entries: AsyncIterable<Deno.DirEntry>;
  try {
    entries = Deno.readDir(directory);
    // readDir reports permission problems on the first step; take it here.
    const iterator = entries[Symbol.asyncIterator]();
    const first = await iterator.next();
    entries = prepend(first, iterator);
  } catch (error) {
    yield { kind: "unreadable", path: directory, message: describeFsError(error) };
    return;
  }
  for await (const entry of entries) {
    if (options.signal?.aborted) return;
    const path = directory === "/" ? `/${entry.name}` : `${directory}/${entry.name}`;
    const rel = relative === "" ? entry.name : `${relative}/${entry.name}`;

    let isDirectory = entry.isDirectory;
    let isFile = entry.isFile;
    let followed: Deno.FileInfo | null = null;
    if (entry.isSymlink) {
      if (!options.followSymlinks) {
        yield isExcluded(options.exclude, rel, false)
          ? { kind: "skipped", path, reason: "excluded" }
          : { kind: "skipped", path, reason: "symlink" };
        continue;
      }
      try {
        followed = await Deno.stat(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) {
          yield { kind: "skipped", path, reason: "dangling_symlink" };
        } else if (error instanceof Deno.errors.FilesystemLoop) {
          yield { kind: "skipped", path, reason: "symlink_loop" };
        } else {
          yield { kind: "unreadable", path, message: describeFsError(error) };
        }
        continue;
      }
      isDirectory = followed.isDirectory;
      isFile = followed.isFile;
    }

    if (isExcluded(options.exclude, rel, isDirectory)) {
      yield { kind: "skipped", path, reason: "excluded" };
      continue;
    }
    if (isFile) {
      yield { kind: "file", path, rootDev };
      continue;
    }
    if (!isDirectory) {
      yield { kind: "skipped", path, reason: "special" };
      continue;
    }

    let info: Deno.FileInfo;
    try {
      info = followed ?? await Deno.lstat(path);
    } catch (error) {
      yield { kind: "unreadable", path, message: describeFsError(error) };
      continue;
    }
    if (options.oneFileSystem && info.dev !== rootDev) {
      yield { kind: "skipped", path, reason: "other_filesystem" };
      continue;
    }
    const id = identity(info);
    if (ancestors.has(id)) {
      yield { kind: "skipped", path, reason: "symlink_loop" };
      continue;
    }
    yield { kind: "directory", path };
    ancestors.add(id);
    try {
      yield* walkDirectory(path, rel, rootDev, ancestors, options);
    } finally {
      ancestors.delete(id);
    }
  }
}

function identity(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}`;
}

async function* prepend<T>(
  first: IteratorResult<T>,
  rest: AsyncIterator<T>,
): AsyncGenerator<T> {
  if (first.done) return;
  yield first.value;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

/** A short, path-free description of a file system error. */
export function describeFsError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "does not exist";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.FilesystemLoop) return "too many levels of symbolic links";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  if (error instanceof Deno.errors.NotADirectory) return "not a directory";
  if (error instanceof Error) {
    const code = "code" in error && typeof error.code === "string" ? error.code : error.name;
    return code === "Error" ? "cannot be read" : `cannot be read (${code})`;
  }
  return "cannot be read";
}
