/**
 * Connection limits and timeouts of the real server process: it outlives running out of
 * descriptors, closes idle and slow connections, and drains on SIGTERM.
 */
import assert from "node:assert/strict";
import { digestOf } from "../lib/digest.ts";
import { startPpserver } from "./_servers/ppserver.ts";

const encoder = new TextEncoder();

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Reads until the server closes the connection (null) or `withinMs` passes ("open"). */
async function readUntilClosed(conn: Deno.Conn, withinMs: number): Promise<string | "open"> {
  const decoder = new TextDecoder();
  let text = "";
  const buffer = new Uint8Array(4096);
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = await Promise.race([
      conn.read(buffer).catch(() => null),
      new Promise<"open">((resolve) => {
        timer = setTimeout(() => resolve("open"), Math.max(1, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    if (read === "open") return "open";
    if (read === null) return text;
    text += decoder.decode(buffer.subarray(0, read), { stream: true });
  }
  return "open";
}

async function health(url: string): Promise<number> {
  const response = await fetch(`${url}/health`);
  await response.body?.cancel();
  return response.status;
}

/**
 * /health's status once the server answers: while it sheds connections it may answer 503
 * or drop one (a real client retries both), so this asks up to 50 times, 100 ms apart.
 */
async function healthAfterStorm(url: string): Promise<number> {
  let last: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const status = await health(url);
      if (status === 200) return status;
      last = status;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`The server did not answer 200 again: ${last}`);
}

Deno.test("past the open-files limit, idle connections cannot stop the server: it evicts them and keeps answering", async () => {
  // 160 descriptors: the cap is 10 connections ((160 - 128) / 3) where /proc/self/limits
  // can be read, else it starts at 256 and is lowered when descriptors run out.
  await using server = await startPpserver({ launcher: ["prlimit", "--nofile=160:160", "--"] });
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 300; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: portOf(server.url) }));
    }
    assert.equal(await healthAfterStorm(server.url), 200, "a real client still gets an answer");
    const closedByServer = await Promise.all(
      conns.slice(0, 20).map((conn) => readUntilClosed(conn, 5000)),
    );
    assert.ok(closedByServer.every((r) => r !== "open"), "the oldest idle connections were closed");
  } finally {
    for (const conn of conns) conn.close();
  }
  assert.equal(await health(server.url), 200);
  assert.equal((await server.stop()).code, 0);
});

Deno.test("accept errors (EMFILE) are survived: with the cap above the descriptor limit, the server keeps listening", async () => {
  await using server = await startPpserver({
    launcher: ["prlimit", "--nofile=160:160", "--"],
    env: { PUTPLACE_MAX_CONNECTIONS: "100000" },
  });
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 300; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: portOf(server.url) }));
    }
    // Give the server time to hit the limit while accepting.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await healthAfterStorm(server.url), 200);
  } finally {
    for (const conn of conns) conn.close();
  }
  assert.equal(await health(server.url), 200);
  assert.match(server.output(), /Too many open files/, "the accept error was logged");
  assert.equal(server.process.pid > 0, true);
  assert.equal((await server.stop()).code, 0, "the process was still running and stopped cleanly");
});

Deno.test("a connection that sends no request, or only part of a head, is closed after the headers timeout", async () => {
  await using server = await startPpserver({
    env: { PUTPLACE_HEADERS_TIMEOUT_SECONDS: "1", PUTPLACE_IDLE_TIMEOUT_SECONDS: "60" },
  });
  const silent = await Deno.connect({ hostname: "127.0.0.1", port: portOf(server.url) });
  const slow = await Deno.connect({ hostname: "127.0.0.1", port: portOf(server.url) });
  try {
    await slow.write(encoder.encode("GET /health HTTP/1.1\r\nHost: x\r\n"));
    const trickle = setInterval(
      () => slow.write(encoder.encode("X-A: b\r\n")).catch(() => {}),
      200,
    );
    const [a, b] = await Promise.all([
      readUntilClosed(silent, 10_000),
      readUntilClosed(slow, 10_000),
    ]);
    clearInterval(trickle);
    assert.equal(a, "", "closed without a response");
    assert.equal(b, "", "a head trickled a line at a time is closed too");
  } finally {
    silent.close();
    slow.close();
  }
  assert.equal(await health(server.url), 200);
});

Deno.test("a keep-alive connection is closed after the idle timeout, not while it is used", async () => {
  await using server = await startPpserver({ env: { PUTPLACE_IDLE_TIMEOUT_SECONDS: "1" } });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(server.url) });
  try {
    // Busy for 2.5 s with requests 0.3 s apart: longer than the idle timeout in total.
    const buffer = new Uint8Array(4096);
    for (let i = 0; i < 8; i++) {
      await conn.write(encoder.encode("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
      const n = await conn.read(buffer);
      assert.ok(n !== null, `request ${i} was answered on the same connection`);
      assert.match(new TextDecoder().decode(buffer.subarray(0, n)), /^HTTP\/1\.1 200 /);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.equal(await readUntilClosed(conn, 10_000), "", "then closed once idle");
  } finally {
    conn.close();
  }
});

Deno.test("a request body that stops arriving fails with 408 after the body timeout, and the connection closes", async () => {
  await using server = await startPpserver({ env: { PUTPLACE_BODY_TIMEOUT_SECONDS: "1" } });
  const content = "x".repeat(1000);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(server.url) });
  try {
    await conn.write(encoder.encode(
      `PUT /v1/blobs/${
        digestOf(content)
      } HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.adminKey}\r\n` +
        `Content-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n${
          content.slice(0, 10)
        }`,
    ));
    const answer = await readUntilClosed(conn, 15_000);
    assert.notEqual(answer, "open");
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /stopped arriving/);
  } finally {
    conn.close();
  }
  const got = await fetch(`${server.url}/v1/blobs/${digestOf(content)}`, {
    headers: { "x-api-key": server.adminKey },
  });
  await got.body?.cancel();
  assert.equal(got.status, 404, "nothing was stored");
});

// With several workers the supervisor forwards SIGTERM and every worker drains.
for (const workers of [1, 3]) {
  const named = workers === 1 ? "" : ` (${workers} workers)`;
  Deno.test(`SIGTERM drains: an upload in flight completes, new connections are refused, exit 0${named}`, async () => {
    await using server = await startPpserver({ workers });
    const chunk = new Uint8Array(1024 * 1024).fill(7);
    const chunks = 48;
    const whole = new Uint8Array(chunk.length * chunks);
    for (let i = 0; i < chunks; i++) whole.set(chunk, i * chunk.length);
    const digest = digestOf(whole);
    let sent = 0;
    const halfway = Promise.withResolvers<void>();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === chunks) return controller.close();
        if (sent === chunks / 2) halfway.resolve();
        if (sent >= chunks / 2) await new Promise((resolve) => setTimeout(resolve, 40));
        controller.enqueue(chunk);
        sent++;
      },
    });
    const upload = fetch(`${server.url}/v1/blobs/${digest}`, {
      method: "PUT",
      headers: { "x-api-key": server.adminKey, "content-type": "application/octet-stream" },
      body,
    });
    await halfway.promise;
    server.process.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 200));
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port: portOf(server.url) }).then((c) => c.close()),
      "the listener is closed at once",
    );
    const response = await upload;
    assert.ok(response.ok, `the upload in flight finished: ${response.status}`);
    await response.body?.cancel();
    assert.ok(sent === chunks, "every byte was sent after SIGTERM");
    const status = await server.stop();
    assert.equal(status.code, 0);
    assert.match(server.output(), /every request in flight finished/);
    const stored = await Deno.readFile(`${server.dataDir}/blobs/${digest.slice(0, 2)}/${digest}`);
    assert.equal(digestOf(stored), digest);
  });
}
