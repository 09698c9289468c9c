/**
 * The sync that makes SQLite commits durable: an fdatasync of the database's WAL, where
 * every commit's frames are (the database file itself is synced by SQLite at checkpoints).
 * The WAL is opened for each sync rather than held, so a WAL that another process
 * truncated or recreated is still the one synced.
 */
export function walSync(path: string): () => Promise<void> {
  if (path === ":memory:") return () => Promise.resolve();
  const wal = `${path}-wal`;
  return async () => {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(wal, { read: true });
    } catch (error) {
      // No WAL: every commit was checkpointed into the database file, which SQLite synced.
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    try {
      await file.syncData();
    } finally {
      file.close();
    }
  };
}
