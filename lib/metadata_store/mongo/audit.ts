/** The audit log in MongoDB (`audit_log`): one document per removal, listed newest first. */
import type { Collection } from "mongodb";
import { newId } from "../../ids.ts";
import type { AuditRecord, NewAuditRecord } from "../../models/audit.ts";
import type { AuditLog } from "../mod.ts";
import { auditOf, type IdDocument, objectIdOf } from "./documents.ts";
import { run } from "./errors.ts";

export class MongoAuditLog implements AuditLog {
  constructor(private readonly collection: Collection<IdDocument>) {}

  record(entry: NewAuditRecord, now: Date): Promise<AuditRecord> {
    return run(async () => {
      const record: AuditRecord = { id: newId(now.getTime()), at: now.toISOString(), ...entry };
      await this.collection.insertOne({ _id: objectIdOf(record.id), ...entry, at: now });
      return record;
    });
  }

  list(limit: number): Promise<AuditRecord[]> {
    return run(async () =>
      (await this.collection.find({}).sort({ at: -1, _id: -1 }).limit(limit).toArray())
        .map(auditOf)
    );
  }
}
