import assert from "node:assert/strict";
import {
  digestingStream,
  digestOf,
  DigestWriter,
  EMPTY_DIGEST,
  isDigest,
  parseDigest,
} from "./digest.ts";
import { AppError } from "./errors.ts";

const ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

Deno.test("digestOf() is the lowercase hex SHA-256 of text or bytes", () => {
  assert.equal(digestOf("abc"), ABC);
  assert.equal(digestOf(new TextEncoder().encode("abc")), ABC);
});

Deno.test("EMPTY_DIGEST is the digest of zero bytes", () => {
  assert.equal(digestOf(""), EMPTY_DIGEST);
  assert.equal(digestOf(new Uint8Array(0)), EMPTY_DIGEST);
});

Deno.test("parseDigest() accepts exactly 64 lowercase hex characters", () => {
  assert.equal(parseDigest(ABC), ABC);
  assert.equal(parseDigest("0".repeat(64)), "0".repeat(64));
});

Deno.test("parseDigest() rejects anything else with invalid_input quoting the value", () => {
  const bad = [
    "",
    ABC.toUpperCase(),
    ABC.slice(1),
    `${ABC}0`,
    `${ABC.slice(1)}g`,
    ` ${ABC.slice(1)}`,
    `${ABC}\n`,
    "../../etc/passwd",
    `${ABC.slice(0, 2)}/${ABC.slice(3)}`,
  ];
  for (const value of bad) {
    assert.throws(() => parseDigest(value), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "invalid_input");
      assert.match(error.message, /^Invalid digest "/);
      return true;
    }, JSON.stringify(value));
  }
});

Deno.test("parseDigest() does not echo a huge value whole", () => {
  const huge = "a".repeat(10_000);
  assert.throws(() => parseDigest(huge), (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.ok(error.message.length < 200, error.message);
    return true;
  });
});

Deno.test("isDigest() is false for non-strings", () => {
  for (const value of [undefined, null, 42, {}, [ABC]]) assert.equal(isDigest(value), false);
  assert.equal(isDigest(ABC), true);
});

Deno.test("DigestWriter hashes chunks as one stream and counts bytes", () => {
  const writer = new DigestWriter();
  for (const part of ["a", "", "b", "c"]) writer.update(new TextEncoder().encode(part));
  assert.equal(writer.size, 3);
  assert.equal(writer.digest(), ABC);
  const empty = new DigestWriter();
  assert.equal(empty.size, 0);
  assert.equal(empty.digest(), EMPTY_DIGEST);
});

Deno.test("DigestWriter hashes only the bytes a view covers", () => {
  const backing = new TextEncoder().encode("xxabcxx");
  const writer = new DigestWriter();
  writer.update(backing.subarray(2, 5));
  assert.equal(writer.digest(), ABC);
});

Deno.test("digestingStream() passes bytes through unchanged and gives the digest at the end", async () => {
  const { stream, result } = digestingStream();
  const chunks = ["a", "b", "c"].map((s) => new TextEncoder().encode(s));
  const out = await new Response(ReadableStream.from(chunks).pipeThrough(stream)).text();
  assert.equal(out, "abc");
  assert.deepEqual(result(), { digest: ABC, size: 3 });
});

Deno.test("digestingStream() refuses to give a digest before the stream ends", () => {
  const { result } = digestingStream();
  assert.throws(result, (error: unknown) => error instanceof AppError && error.code === "internal");
});
