/** API keys on SQLite, found by the SHA-256 of the key only. */
import { AppError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { ApiKeyRecord } from "../../models/api_key.ts";
import type { ApiKeyStore, NewApiKey } from "../mod.ts";
import { isUniqueViolation, run } from "./errors.ts";
import { apiKeyOf, integer } from "./rows.ts";
import type { GroupCommit } from "./group_commit.ts";
import type { Statements } from "./statements.ts";

export class SqliteApiKeyStore implements ApiKeyStore {
  constructor(private readonly sql: Statements, private readonly commits: GroupCommit) {}

  create(
    key: NewApiKey,
    now: Date,
  ): Promise<ApiKeyRecord> {
    return this.commits.run(() => {
      const record: ApiKeyRecord = {
        id: newId(now.getTime()),
        name: key.name,
        description: key.description,
        scope: key.scope,
        key_hash: key.key_hash,
        created_at: now.toISOString(),
        last_used_at: null,
        revoked_at: null,
        hosts: key.hosts ? [...key.hosts] : null,
      };
      try {
        this.sql.get(
          `INSERT INTO api_keys (id, key_hash, name, description, scope, created_at, hosts)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          record.id,
          record.key_hash,
          record.name,
          record.description,
          record.scope,
          record.created_at,
          record.hosts === null ? null : JSON.stringify(record.hosts),
        );
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new AppError("conflict", "An API key with this hash already exists", {
            cause: error,
          });
        }
        throw error;
      }
      return record;
    });
  }

  findByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    return run(() => {
      const row = this.sql.get("SELECT * FROM api_keys WHERE key_hash = ?").get(keyHash);
      return row ? apiKeyOf(row) : null;
    });
  }

  get(id: string): Promise<ApiKeyRecord | null> {
    return run(() => {
      const row = this.sql.get("SELECT * FROM api_keys WHERE id = ?").get(id);
      return row ? apiKeyOf(row) : null;
    });
  }

  list(): Promise<ApiKeyRecord[]> {
    return run(() =>
      this.sql.get("SELECT * FROM api_keys ORDER BY created_at, id").all()
        .map(apiKeyOf)
    );
  }

  revoke(id: string, now: Date): Promise<boolean> {
    return this.commits.run(() => {
      const result = this.sql.get(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
      ).run(now.toISOString(), id);
      return Number(result.changes) === 1;
    });
  }

  delete(id: string): Promise<boolean> {
    return this.commits.run(() =>
      Number(this.sql.get("DELETE FROM api_keys WHERE id = ?").run(id).changes) === 1
    );
  }

  touch(id: string, now: Date): Promise<void> {
    return this.commits.run(() => {
      this.sql.get("UPDATE api_keys SET last_used_at = ? WHERE id = ?").run(now.toISOString(), id);
    });
  }

  count(): Promise<number> {
    return run(() => integer(this.sql.get("SELECT count(*) AS n FROM api_keys").get() ?? {}, "n"));
  }
}
