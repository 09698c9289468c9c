/**
 * Finds the test server binaries that `.ci/provision` installs, and decides whether tests
 * that need them are ignored.
 */

/** Where `.ci/provision` installs things (its default `$PUTPLACE_CI_CACHE`). */
export function provisionCacheDir(): string | null {
  const fromEnv = Deno.env.get("PUTPLACE_CI_CACHE");
  if (fromEnv) return fromEnv;
  const home = Deno.env.get("HOME");
  return home ? `${home}/.cache/putplace-ci` : null;
}

/**
 * The binary named by env `envName` if set (trusted as is, so a wrong path fails loudly), else
 * the one `.ci/provision` installed at `relativePath` under its cache dir if it exists, else null.
 */
export function provisionedBinary(envName: string, relativePath: string): string | null {
  const fromEnv = Deno.env.get(envName);
  if (fromEnv) return fromEnv;
  const cacheDir = provisionCacheDir();
  if (cacheDir === null) return null;
  const path = `${cacheDir}/${relativePath}`;
  try {
    return Deno.statSync(path).isFile ? path : null;
  } catch {
    return null;
  }
}

/**
 * The reason to ignore a test that needs `binary`, or undefined to run it.
 *
 * On CI (env `CI=true`) this is always undefined: CI must run these tests, so a missing binary
 * makes the test fail loudly when it starts the server instead of being quietly ignored.
 */
export function missingBinaryReason(binary: string | null, reason: string): string | undefined {
  if (binary !== null) return undefined;
  if (Deno.env.get("CI") === "true") return undefined;
  return reason;
}
