/** API key material: generation, hashing for storage, constant-time comparison. */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { DIGEST_PATTERN } from "./digest.ts";
import type { ApiKeyRecord } from "./models/api_key.ts";
import type { ApiKeyStore, NewApiKey } from "./metadata_store/mod.ts";

/** A new API key: 64 lowercase hex characters (256 random bits). */
export function generateApiKey(): string {
  return randomBytes(32).toString("hex");
}

/** What the metadata store keeps instead of the key. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  if (left.byteLength !== right.byteLength) return false;
  return timingSafeEqual(left, right);
}

/** A key has a digest's shape (64 lowercase hex characters), so it shares its pattern. */
export function looksLikeApiKey(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}

/** Creates a key; the returned `key` is the only place it ever exists in clear. */
export async function issueApiKey(
  apiKeys: ApiKeyStore,
  input: Omit<NewApiKey, "key_hash">,
  now = new Date(),
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = generateApiKey();
  const record = await apiKeys.create({ ...input, key_hash: hashApiKey(key) }, now);
  return { key, record };
}
