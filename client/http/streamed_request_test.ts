import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type StreamedBody, streamedRequest, streamOf } from "./streamed_request.ts";

/** A real server that answers each request with its body's length and SHA-256. */
function digestServer() {
  const received: { length: number | null; complete: boolean }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const hash = createHash("sha256");
    let length = 0;
    try {
      for await (const chunk of request.body ?? []) {
        hash.update(chunk);
        length += chunk.byteLength;
      }
    } catch {
      received.push({ length, complete: false });
      return new Response("cut", { status: 400 });
    }
    received.push({ length, complete: true });
    return Response.json({
      length,
      declared: request.headers.get("content-length"),
      digest: hash.digest("hex"),
      key: request.headers.get("x-api-key"),
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/upload`,
    received,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** `count` chunks of `size` bytes from ONE buffer, refilled once each send resolved. */
function reusedBufferBody(count: number, size: number): { body: StreamedBody; digest: string } {
  const hash = createHash("sha256");
  for (let i = 0; i < count; i++) hash.update(new Uint8Array(size).fill(i + 1));
  const buffer = new Uint8Array(size);
  return {
    digest: hash.digest("hex"),
    body: {
      length: count * size,
      async write(send) {
        for (let i = 0; i < count; i++) {
          buffer.fill(i + 1);
          await send(buffer);
        }
      },
    },
  };
}

const init = (headers: Record<string, string> = {}) => ({
  method: "PUT",
  headers: new Headers(headers),
  signal: new AbortController().signal,
});

Deno.test("streamedRequest() sends every chunk (a buffer reused once send resolves) with its Content-Length and headers", async () => {
  await using server = digestServer();
  const { body, digest } = reusedBufferBody(40, 256 * 1024 + 3);
  const response = await streamedRequest(server.url, init({ "x-api-key": "k" }), body);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    length: body.length,
    declared: String(body.length),
    digest,
    key: "k",
  });
});

Deno.test("streamedRequest() aborts the request when its body fails and rejects with that failure", async () => {
  await using server = digestServer();
  const failure = new Error("the file changed");
  const body: StreamedBody = {
    length: 10 * 1024 * 1024,
    async write(send) {
      await send(new Uint8Array(1024 * 1024));
      throw failure;
    },
  };
  await assert.rejects(streamedRequest(server.url, init(), body), (error) => error === failure);
  for (let i = 0; i < 500 && server.received.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(server.received.length, 1);
  assert.equal(server.received[0].complete, false, "the server never saw a whole body");
});

Deno.test("streamOf() gives the same bytes as a stream, for an injected fetch", async () => {
  await using server = digestServer();
  const { body, digest } = reusedBufferBody(9, 100_000);
  const response = await fetch(server.url, { method: "PUT", body: streamOf(body) });
  const answer = await response.json();
  assert.equal(answer.length, body.length);
  assert.equal(answer.digest, digest);
});
