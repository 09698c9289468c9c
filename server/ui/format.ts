/** How the web UI writes numbers, sizes and times: one way on every page. */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 1536 -> "1.5 KiB"; exact bytes below 1 KiB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes))} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${
    UNITS[unit]
  }`;
}

const COUNT = new Intl.NumberFormat("en-US");

/** 1234567 -> "1,234,567". */
export function formatCount(count: number): string {
  return COUNT.format(count);
}

/** An ISO time (or Unix seconds) as "2026-11-30 00:21 UTC"; `absent` for null. */
export function formatTime(time: string | number | null | undefined, absent = "never"): string {
  if (time === null || time === undefined) return absent;
  const date = typeof time === "number" ? new Date(time * 1000) : new Date(time);
  if (Number.isNaN(date.getTime())) return String(time);
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "45%" of a part in a whole; "0%" when the whole is empty. */
export function formatShare(part: number, whole: number): string {
  if (whole <= 0) return "0%";
  const share = (part / whole) * 100;
  return `${share >= 10 || share === 0 ? share.toFixed(0) : share.toFixed(1)}%`;
}

/** The first and last characters of a digest, for tables: "3f2a9c…e81b". */
export function shortDigest(digest: string): string {
  return digest.length > 16 ? `${digest.slice(0, 10)}…${digest.slice(-4)}` : digest;
}
