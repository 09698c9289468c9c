/** Where a blob lives inside a store: `<prefix><first two hex>/<digest>`. */
import type { Digest } from "../digest.ts";

export function blobKey(digest: Digest, prefix = ""): string {
  return `${prefix}${digest.slice(0, 2)}/${digest}`;
}
