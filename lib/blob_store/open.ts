/** The registry of blob stores: opens the adapter a config names (one exhaustive switch). */
import type { BlobStore, BlobStoreConfig } from "./mod.ts";
import { openFsBlobStore } from "./fs/mod.ts";

export async function openBlobStore(config: BlobStoreConfig): Promise<BlobStore> {
  switch (config.kind) {
    case "fs":
      return await openFsBlobStore(config.root);
    case "s3": {
      // Loaded only when selected: the SDK is large and the filesystem is the default.
      const { openS3BlobStore } = await import("./s3/mod.ts");
      return await openS3BlobStore(config);
    }
  }
}
