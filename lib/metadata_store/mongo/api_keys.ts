/**
 * API keys in MongoDB (the earlier system's `api_keys` collection): found by `key_hash`
 * under a unique index. New keys also carry `is_active`, as the earlier system's did.
 */
import type { Collection, Document } from "mongodb";
import { AppError } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { ApiKeyRecord } from "../../models/api_key.ts";
import type { ApiKeyStore, NewApiKey } from "../mod.ts";
import { apiKeyOf, type IdDocument, objectIdOf, storedIds } from "./documents.ts";
import { isDuplicateKey, run } from "./errors.ts";

export class MongoApiKeyStore implements ApiKeyStore {
  constructor(private readonly collection: Collection<IdDocument>) {}

  create(
    key: NewApiKey,
    now: Date,
  ): Promise<ApiKeyRecord> {
    return run(async () => {
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
        await this.collection.insertOne({
          _id: objectIdOf(record.id),
          key_hash: record.key_hash,
          name: record.name,
          description: record.description,
          scope: record.scope,
          created_at: now,
          last_used_at: null,
          revoked_at: null,
          is_active: true,
          ...(record.hosts === null ? {} : { hosts: record.hosts }),
        });
      } catch (error) {
        if (isDuplicateKey(error)) {
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
    return run(async () => {
      const document = await this.collection.findOne({ key_hash: keyHash });
      return document ? apiKeyOf(document) : null;
    });
  }

  get(id: string): Promise<ApiKeyRecord | null> {
    return run(async () => {
      const document = await this.#byId(id);
      return document ? apiKeyOf(document) : null;
    });
  }

  list(): Promise<ApiKeyRecord[]> {
    return run(async () => {
      const documents = await this.collection.find({}).sort({ created_at: 1, _id: 1 }).toArray();
      return documents.map(apiKeyOf);
    });
  }

  revoke(id: string, now: Date): Promise<boolean> {
    return run(async () => {
      const ids = storedIds(id);
      if (ids.length === 0) return false;
      // Only a key not revoked yet gets a time, so the first revocation's time stays.
      const result = await this.collection.updateOne(
        { _id: { $in: ids }, revoked_at: null, is_active: { $ne: false } },
        { $set: { revoked_at: now, is_active: false } },
      );
      return result.matchedCount === 1 || (await this.#byId(id)) !== null;
    });
  }

  delete(id: string): Promise<boolean> {
    return run(async () => {
      const ids = storedIds(id);
      if (ids.length === 0) return false;
      return (await this.collection.deleteOne({ _id: { $in: ids } })).deletedCount === 1;
    });
  }

  touch(id: string, now: Date): Promise<void> {
    return run(async () => {
      const ids = storedIds(id);
      if (ids.length > 0) {
        await this.collection.updateOne({ _id: { $in: ids } }, { $set: { last_used_at: now } });
      }
    });
  }

  count(): Promise<number> {
    return run(() => this.collection.countDocuments({}));
  }

  #byId(id: string): Promise<Document | null> {
    const ids = storedIds(id);
    return ids.length === 0
      ? Promise.resolve(null)
      : this.collection.findOne({ _id: { $in: ids } });
  }
}
