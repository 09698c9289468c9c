/**
 * The disk's own durable write speed, the reference for upload figures: `dd` copying a
 * file of random bytes (written first, untimed; zeros can be optimised away by the storage
 * layer) with `conv=fdatasync` into the same temporary directory as the blob store, once
 * through the page cache and once with `oflag=direct` (as the server writes upload parts).
 */
export async function diskWriteReference(
  options: { bytes?: number } = {},
): Promise<Record<string, number>> {
  const bytes = options.bytes ?? 4 * 1024 ** 3;
  const dir = await Deno.makeTempDir({ prefix: "dd-reference-" });
  try {
    const dd = async (args: string[]) => {
      const out = await new Deno.Command("dd", { args, stdout: "piped", stderr: "piped" })
        .output();
      const text = new TextDecoder().decode(out.stderr);
      if (!out.success) throw new Error(`dd failed: ${text}`);
      return text;
    };
    const count = `count=${bytes / 1024 ** 2}`;
    await dd(["if=/dev/urandom", `of=${dir}/source`, "bs=1M", count]);
    const mbPerS = async (...flags: string[]) => {
      const text = await dd([`if=${dir}/source`, `of=${dir}/copy`, "bs=1M", count, ...flags]);
      const seconds = Number(text.match(/, ([\d.]+) s,/)?.[1]);
      if (!Number.isFinite(seconds)) throw new Error(`dd printed no time: ${text}`);
      await Deno.remove(`${dir}/copy`);
      return Math.round(bytes / 1e6 / seconds);
    };
    return {
      dd_bytes: bytes,
      dd_mb_s: await mbPerS("conv=fdatasync"),
      dd_direct_mb_s: await mbPerS("conv=fdatasync", "oflag=direct"),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
