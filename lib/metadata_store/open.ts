/** The registry of metadata stores: opens the adapter a config names (one exhaustive switch). */
import type { MetadataStore, MetadataStoreConfig } from "./mod.ts";
import { openSqliteMetadataStore } from "./sqlite/mod.ts";

export async function openMetadataStore(config: MetadataStoreConfig): Promise<MetadataStore> {
  switch (config.kind) {
    case "sqlite":
      return await openSqliteMetadataStore(config.path);
    case "mongodb": {
      // Loaded only when selected: the driver is large and SQLite is the default.
      const { openMongoMetadataStore } = await import("./mongo/mod.ts");
      return await openMongoMetadataStore(config);
    }
  }
}
