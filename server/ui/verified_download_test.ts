import assert from "node:assert/strict";
import { digestOf } from "../../lib/digest.ts";
import { contentDisposition, downloadName, verifiedBlobStream } from "./verified_download.ts";

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(chunks.map((c) => new TextEncoder().encode(c)));
}

async function readAll(stream: ReadableStream<Uint8Array>) {
  const received: string[] = [];
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) received.push(decoder.decode(chunk));
    return { received, error: null };
  } catch (error) {
    return { received, error };
  }
}

Deno.test("verifiedBlobStream passes the blob's bytes through unchanged", async () => {
  const digest = digestOf("hello fleet");
  const { received, error } = await readAll(
    verifiedBlobStream(streamOf("hello ", "fle", "et"), digest, 11),
  );
  assert.equal(error, null);
  assert.equal(received.join(""), "hello fleet");
});

Deno.test("verifiedBlobStream holds back the last piece of bytes that are not the blob", async () => {
  const digest = digestOf("hello fleet");
  const { received, error } = await readAll(
    verifiedBlobStream(streamOf("hello ", "fle", "ex"), digest, 11),
  );
  assert.match(String(error), /bytes hash to/);
  assert.equal(received.join(""), "hello fle", "the download ends short, never complete");
});

Deno.test("verifiedBlobStream fails bytes of another length", async () => {
  const { error } = await readAll(
    verifiedBlobStream(streamOf("hello"), digestOf("hello fleet"), 11),
  );
  assert.match(String(error), /5 bytes arrived, 11 declared/);
});

Deno.test("downloadName keeps the file's name and drops what a header cannot carry", () => {
  const digest = digestOf("x");
  assert.equal(downloadName("/srv/www/index.html", digest), "index.html");
  assert.equal(downloadName('/tmp/a"b\\c\n.txt', digest), "a_b_c_.txt");
  assert.equal(downloadName("/tmp/", digest), digest);
  assert.equal(downloadName("..", digest), digest);
  assert.equal(downloadName(undefined, digest), digest);
  assert.equal(
    contentDisposition("résumé.pdf"),
    "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
  );
});
