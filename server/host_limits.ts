/**
 * Keys bound to hosts (`ApiKeyRecord.hosts`): such a write key may register, report
 * deleted and upload only for the hosts its patterns allow, so a compromised laptop's key
 * cannot touch the records of other hosts. An upload by digest alone names no host: it is
 * allowed when one of the key's hosts registered a file with that digest.
 */
import { registeredOnHost, type Stores } from "../lib/dedup.ts";
import type { Digest } from "../lib/digest.ts";
import { AppError, short } from "../lib/errors.ts";
import type { ApiKeyRecord } from "../lib/models/api_key.ts";
import { hostAllowed } from "../lib/models/host_pattern.ts";

/** 403 unless `key` may write files of every host named. */
export function requireHosts(key: ApiKeyRecord, hostnames: Iterable<string>): void {
  if (key.hosts === null) return;
  for (const hostname of hostnames) {
    if (!hostAllowed(key.hosts, hostname)) {
      throw new AppError(
        "forbidden",
        `This API key may write files of ${limitsText(key)} only, not of host "${
          short(hostname, 100)
        }"`,
      );
    }
  }
}

/** 403 unless, for each digest, one of the key's hosts registered a file with it. */
export async function requireDigestsOfHosts(
  stores: Stores,
  key: ApiKeyRecord,
  digests: Iterable<Digest>,
): Promise<void> {
  const hosts = key.hosts;
  if (hosts === null) return;
  for (const digest of new Set(digests)) {
    if (!await registeredOnHost(stores, digest, (hostname) => hostAllowed(hosts, hostname))) {
      throw new AppError(
        "forbidden",
        `This API key uploads blobs of ${limitsText(key)} only; none of them registered a ` +
          `file with digest "${short(digest)}"`,
      );
    }
  }
}

function limitsText(key: ApiKeyRecord): string {
  const hosts = key.hosts ?? [];
  const shown = hosts.slice(0, 5).map((h) => `"${short(h, 60)}"`).join(", ");
  return `host${hosts.length === 1 ? "" : "s"} ${shown}${hosts.length > 5 ? ", ..." : ""}`;
}
