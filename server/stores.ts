/** Opens both stores a config names; closes the first when the second fails. */
import { openBlobStore } from "../lib/blob_store/open.ts";
import { openMetadataStore } from "../lib/metadata_store/open.ts";
import type { Stores } from "../lib/dedup.ts";
import type { ServerConfig } from "./config.ts";

export async function openStores(config: ServerConfig): Promise<Stores & AsyncDisposable> {
  const metadata = await openMetadataStore(config.metadata);
  try {
    const blobs = await openBlobStore(config.blobs);
    return {
      metadata,
      blobs,
      async [Symbol.asyncDispose]() {
        await blobs[Symbol.asyncDispose]();
        await metadata[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await metadata[Symbol.asyncDispose]();
    throw error;
  }
}
