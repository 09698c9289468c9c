import assert from "node:assert/strict";
import { type Digest, digestOf } from "../../lib/digest.ts";
import { AppError } from "../../lib/errors.ts";
import { identityOf } from "./file_cache.ts";
import { openVerifiedBody, readVerified, VerifiedPieces } from "./upload_body.ts";

async function withFile(content: string, fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "ppclient-upload-" });
  try {
    await Deno.writeTextFile(`${dir}/f`, content);
    await fn(`${dir}/f`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function hashed(path: string, digest: Digest) {
  const info = await Deno.stat(path);
  return { path, digest, size: info.size, info };
}

function isConflict(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "conflict");
    assert.match(error.message, pattern);
    return true;
  };
}

Deno.test("openVerifiedBody() streams the file in bounded chunks when it is unchanged", async () => {
  const content = "abc".repeat(100_000);
  await withFile(content, async (path) => {
    const body = await openVerifiedBody(await hashed(path, digestOf(content)), {
      chunkBytes: 4096,
    });
    let total = 0;
    let chunks = 0;
    for await (const chunk of body) {
      assert.ok(chunk.byteLength <= 4096);
      total += chunk.byteLength;
      chunks++;
    }
    assert.equal(total, content.length);
    assert.ok(chunks >= 73);
  });
});

Deno.test("openVerifiedBody() fails the stream when the bytes no longer hash to the registered digest", async () => {
  await withFile("original", async (path) => {
    const file = await hashed(path, digestOf("original"));
    const handle = await Deno.open(path, { write: true });
    await handle.write(new TextEncoder().encode("ORIGINAL"));
    handle.close();
    const body = await openVerifiedBody(file);
    await assert.rejects(
      (async () => {
        for await (const _ of body) { /* drain */ }
      })(),
      isConflict(/changed \(its bytes now hash to/),
    );
  });
});

Deno.test("openVerifiedBody() refuses a file that vanished or was replaced since hashing", async () => {
  await withFile("v", async (path) => {
    const file = await hashed(path, digestOf("v"));
    await Deno.writeTextFile(`${path}.new`, "v");
    await Deno.rename(`${path}.new`, path);
    await assert.rejects(openVerifiedBody(file), isConflict(/was replaced after it was hashed/));
    await Deno.remove(path);
    await assert.rejects(openVerifiedBody(file), isConflict(/vanished after it was hashed/));
  });
});

Deno.test("openVerifiedBody() closes the file when the consumer cancels", async () => {
  await withFile("x".repeat(100_000), async (path) => {
    const body = await openVerifiedBody(await hashed(path, digestOf("x".repeat(100_000))), {
      chunkBytes: 1000,
    });
    const reader = body.getReader();
    await reader.read();
    await reader.cancel();
    // The test's resource sanitizer fails if the file handle is still open.
  });
});

Deno.test("openVerifiedBody({ offset }) streams only the rest but verifies the whole file", async () => {
  const content = "0123456789".repeat(50_000);
  await withFile(content, async (path) => {
    const body = await openVerifiedBody(await hashed(path, digestOf(content)), {
      offset: 123_456,
      chunkBytes: 10_000,
    });
    assert.equal(await new Response(body).text(), content.slice(123_456));
  });
  await withFile(content, async (path) => {
    const file = await hashed(path, digestOf(content));
    await Deno.writeTextFile(path, "X" + content.slice(1));
    const body = await openVerifiedBody(file, { offset: 100_000 });
    await assert.rejects(new Response(body).arrayBuffer(), isConflict(/changed/));
  });
});

Deno.test("readVerified() gives a small file's bytes, or a conflict when it changed since hashing", async () => {
  await withFile("small file\n", async (path) => {
    const file = await hashed(path, digestOf("small file\n"));
    assert.equal(new TextDecoder().decode(await readVerified(file)), "small file\n");
    await Deno.writeTextFile(path, "SMALL FILE\n");
    await assert.rejects(readVerified(file), isConflict(/changed/));
    await Deno.writeTextFile(path, "small file\n and more");
    await assert.rejects(readVerified(file), isConflict(/changed size|grew/));
  });
});

Deno.test("VerifiedPieces gives a file in pieces from an offset and checks the digest with the last one", async () => {
  const content = "piece by piece\n".repeat(10_000);
  await withFile(content, async (path) => {
    const file = await hashed(path, digestOf(content));
    const buffer = new Uint8Array(40_000);
    using pieces = await VerifiedPieces.open(file, 12_345, buffer);
    let text = "";
    while (pieces.position < file.size) {
      text += new TextDecoder().decode(await pieces.next(buffer));
    }
    assert.equal(text, content.slice(12_345));
  });
  await withFile(content, async (path) => {
    const file = await hashed(path, digestOf(content));
    await Deno.writeTextFile(path, "P" + content.slice(1));
    const buffer = new Uint8Array(100_000);
    using pieces = await VerifiedPieces.open(file, 0, buffer);
    await pieces.next(buffer); // not the end yet: nothing to say
    await assert.rejects(pieces.next(buffer), isConflict(/changed \(its bytes now hash to/));
  });
});

async function withIdentity(path: string, digest: Digest) {
  const info = await Deno.stat(path);
  return { path, digest, size: info.size, info, identity: identityOf(info) };
}

Deno.test("with the identity from hashing, uploads check the file by stat instead of hashing it again", async () => {
  const content = "piece by piece\n".repeat(10_000);
  await withFile(content, async (path) => {
    const file = await withIdentity(path, digestOf(content));
    assert.ok(file.identity !== null);
    assert.equal(new TextDecoder().decode(await readVerified(file)), content);
    // A resume skips the part sent already with a seek and gives the rest.
    const buffer = new Uint8Array(40_000);
    using pieces = await VerifiedPieces.open(file, 12_345, buffer);
    let text = "";
    while (pieces.position < file.size) text += new TextDecoder().decode(await pieces.next(buffer));
    assert.equal(text, content.slice(12_345));
  });
});

Deno.test("with the identity from hashing, a file rewritten with the same size is a conflict", async () => {
  const content = "piece by piece\n".repeat(10_000);
  await withFile(content, async (path) => {
    const file = await withIdentity(path, digestOf(content));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await Deno.writeTextFile(path, "P" + content.slice(1));
    await assert.rejects(readVerified(file), isConflict(/was modified after it was hashed/));
    const buffer = new Uint8Array(100_000);
    await assert.rejects(
      VerifiedPieces.open(file, 0, buffer),
      isConflict(/was modified after it was hashed/),
    );
  });
  await withFile(content, async (path) => {
    const file = await withIdentity(path, digestOf(content));
    const buffer = new Uint8Array(100_000);
    using pieces = await VerifiedPieces.open(file, 0, buffer);
    await pieces.next(buffer);
    // Changed after the upload began: the last piece is refused.
    await new Promise((resolve) => setTimeout(resolve, 5));
    using handle = await Deno.open(path, { write: true });
    await handle.write(new TextEncoder().encode("Q"));
    await assert.rejects(pieces.next(buffer), isConflict(/was modified after it was hashed/));
  });
});
