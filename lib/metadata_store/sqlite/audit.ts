/** The audit log on SQLite: one row per removal, listed newest first. */
import { newId } from "../../ids.ts";
import type { AuditRecord, NewAuditRecord } from "../../models/audit.ts";
import type { AuditLog } from "../mod.ts";
import { run } from "./errors.ts";
import { auditOf } from "./rows.ts";
import type { GroupCommit } from "./group_commit.ts";
import type { Statements } from "./statements.ts";

export class SqliteAuditLog implements AuditLog {
  constructor(private readonly sql: Statements, private readonly commits: GroupCommit) {}

  record(entry: NewAuditRecord, now: Date): Promise<AuditRecord> {
    // Through the group commit: the record is durable when it resolves.
    return this.commits.run(() => {
      const record: AuditRecord = { id: newId(now.getTime()), at: now.toISOString(), ...entry };
      this.sql.get(
        `INSERT INTO audit_log (id, at, action, subject, key_id, key_name, files_removed, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        record.id,
        record.at,
        record.action,
        record.subject,
        record.key_id,
        record.key_name,
        record.files_removed,
        record.detail,
      );
      return record;
    });
  }

  list(limit: number): Promise<AuditRecord[]> {
    return run(() =>
      this.sql.get("SELECT * FROM audit_log ORDER BY at DESC, id DESC LIMIT ?").all(limit)
        .map(auditOf)
    );
  }
}
