/**
 * The disk's own durable write speed, the reference for upload figures: `dd` writing the
 * same amount with `conv=fdatasync` into the same temporary directory as the blob store.
 */
export async function diskWriteReference(
  options: { bytes?: number } = {},
): Promise<Record<string, number>> {
  const bytes = options.bytes ?? 4 * 1024 ** 3;
  const dir = await Deno.makeTempDir({ prefix: "dd-reference-" });
  try {
    const out = await new Deno.Command("dd", {
      args: [
        "if=/dev/zero",
        `of=${dir}/x`,
        "bs=1M",
        `count=${bytes / 1024 ** 2}`,
        "conv=fdatasync",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr);
    const seconds = Number(text.match(/, ([\d.]+) s,/)?.[1]);
    if (!out.success || !Number.isFinite(seconds)) throw new Error(`dd failed: ${text}`);
    return { dd_bytes: bytes, dd_mb_s: Math.round(bytes / 1e6 / seconds) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
