/** The digest of a local file, streamed (for `where FILE` and restore's resume check). */
import { type Digest, DigestWriter } from "../../lib/digest.ts";

export async function digestOfFile(path: string): Promise<{ digest: Digest; size: number }> {
  using file = await Deno.open(path, { read: true });
  const writer = new DigestWriter();
  const buffer = new Uint8Array(1024 * 1024);
  for (;;) {
    const count = await file.read(buffer);
    if (count === null) break;
    writer.update(buffer.subarray(0, count));
  }
  return { digest: writer.digest(), size: writer.size };
}
