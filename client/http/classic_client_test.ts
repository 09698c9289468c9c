import assert from "node:assert/strict";
import { digestOf } from "../../lib/digest.ts";
import { AppError } from "../../lib/errors.ts";
import type { FileMetadata } from "../../lib/models/file.ts";
import { ClassicClient } from "./classic_client.ts";
import { type RetryEvent, Transport } from "./transport.ts";

/** A stand-in server on a real socket whose answers each test scripts. */
async function withServer(
  handler: (request: Request, attempt: number) => Response | Promise<Response>,
  fn: (url: string, attempts: () => number) => Promise<void>,
) {
  let attempts = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => handler(request, ++attempts),
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, () => attempts);
  } finally {
    await server.shutdown();
  }
}

const file: FileMetadata = {
  filepath: "/srv/a.txt",
  hostname: "host-a",
  ip_address: "10.0.0.1",
  sha256: digestOf("a"),
  file_size: 1,
  file_mode: 0o100644,
  file_uid: 0,
  file_gid: 0,
  file_mtime: 1,
  file_atime: 1,
  file_ctime: 1,
};

function registered(uploadRequired: boolean): Response {
  return Response.json({
    ...file,
    _id: "f1",
    created_at: "2025-01-01T00:00:00Z",
    updated_at: "2025-01-01T00:00:00Z",
    has_file_content: !uploadRequired,
    upload_required: uploadRequired,
    upload_url: uploadRequired ? `/upload_file/${file.sha256}` : null,
  }, { status: 201 });
}

function problem(status: number, detail: string, code?: string): Response {
  return new Response(
    JSON.stringify({ type: "about:blank", title: "t", status, detail, ...(code ? { code } : {}) }),
    { status, headers: { "content-type": "application/problem+json" } },
  );
}

const fast = { retries: 3, baseDelayMs: 1, maxDelayMs: 5 };

Deno.test("putFile() retries 5xx answers with backoff, then succeeds", async () => {
  await withServer(
    (_, attempt) => attempt <= 2 ? problem(503, "Store unreachable") : registered(true),
    async (url, attempts) => {
      const retries: RetryEvent[] = [];
      using transport = new Transport({
        baseUrl: url,
        apiKey: "k",
        retry: fast,
        onRetry: (e) => retries.push(e),
      });
      const api = new ClassicClient(transport);
      const answer = await api.putFile(file);
      assert.equal(answer.upload_required, true);
      assert.equal(attempts(), 3);
      assert.deepEqual(retries.map((r) => r.retry), [1, 2]);
      assert.match(retries[0].reason, /503/);
    },
  );
});

Deno.test("putFile() retries 429 and honours Retry-After", async () => {
  await withServer(
    (_, attempt) =>
      attempt === 1
        ? new Response("slow down", { status: 429, headers: { "retry-after": "0" } })
        : registered(false),
    async (url, attempts) => {
      using transport = new Transport({ baseUrl: url, apiKey: "k", retry: fast });
      const api = new ClassicClient(transport);
      assert.equal((await api.putFile(file)).upload_required, false);
      assert.equal(attempts(), 2);
    },
  );
});

Deno.test("putFile() never retries a 4xx and turns its problem body into an AppError", async () => {
  await withServer(
    () => problem(422, 'Invalid file metadata at "sha256"', "invalid_input"),
    async (url, attempts) => {
      using transport = new Transport({ baseUrl: url, apiKey: "k", retry: fast });
      const api = new ClassicClient(transport);
      await assert.rejects(api.putFile(file), (error) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, "invalid_input");
        assert.equal(error.status, 422);
        assert.match(error.message, /POST \/put_file failed with 422: Invalid file metadata/);
        return true;
      });
      assert.equal(attempts(), 1);
    },
  );
});

Deno.test("a classic 401 body with only `detail` becomes an unauthorized AppError", async () => {
  await withServer(
    (request) => {
      assert.equal(request.headers.get("x-api-key"), "wrong");
      return Response.json({ detail: "Invalid API key" }, { status: 401 });
    },
    async (url, attempts) => {
      using transport = new Transport({ baseUrl: url, apiKey: "wrong", retry: fast });
      const api = new ClassicClient(transport);
      await assert.rejects(api.putFile(file), (error) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, "unauthorized");
        assert.match(error.message, /401: Invalid API key/);
        return true;
      });
      assert.equal(attempts(), 1);
    },
  );
});

Deno.test("a bounded number of attempts is made, then the last failure is thrown", async () => {
  await withServer(() => problem(500, "Internal error"), async (url, attempts) => {
    using transport = new Transport({ baseUrl: url, apiKey: "k", retry: { ...fast, retries: 2 } });
    const api = new ClassicClient(transport);
    await assert.rejects(api.putFile(file), /500: Internal error \(after 3 attempts\)/);
    assert.equal(attempts(), 3);
  });
});

Deno.test("network errors are retried, then reported as unavailable", async () => {
  // A port that was just free: connections are refused.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const retries: RetryEvent[] = [];
  using transport = new Transport({
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey: "k",
    retry: { ...fast, retries: 2 },
    onRetry: (e) => retries.push(e),
  });
  const api = new ClassicClient(transport);
  await assert.rejects(api.health(), (error) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "unavailable");
    assert.match(error.message, /GET \/health failed: .*\(after 3 attempts\)/);
    return true;
  });
  assert.equal(retries.length, 2);
});

Deno.test("an attempt with no progress is abandoned after the idle timeout and retried", async () => {
  const release = Promise.withResolvers<void>();
  await withServer(async (_, attempt) => {
    if (attempt === 1) {
      await release.promise;
      return new Response("late");
    }
    return new Response("ok");
  }, async (url, attempts) => {
    using transport = new Transport({ baseUrl: url, apiKey: "k", retry: fast, idleTimeoutMs: 100 });
    const api = new ClassicClient(transport);
    await api.health();
    assert.equal(attempts(), 2);
    release.resolve();
  });
});

Deno.test("an answer that does not match the schema is an internal error, not retried", async () => {
  await withServer(() => Response.json({ hello: "world" }, { status: 201 }), async (url, n) => {
    using transport = new Transport({ baseUrl: url, apiKey: "k", retry: fast });
    const api = new ClassicClient(transport);
    await assert.rejects(api.putFile(file), (error) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "internal");
      assert.match(error.message, /not understood/);
      return true;
    });
    assert.equal(n(), 1);
  });
});

Deno.test("uploadFile() streams an octet-stream body with hostname and filepath in the query", async () => {
  const content = "x".repeat(300_000);
  await withServer(async (request) => {
    const url = new URL(request.url);
    assert.equal(url.pathname, `/upload_file/${digestOf(content)}`);
    assert.equal(url.searchParams.get("hostname"), "host-a");
    assert.equal(url.searchParams.get("filepath"), "/srv/a b.txt");
    assert.equal(request.headers.get("content-type"), "application/octet-stream");
    const received = await request.text();
    return Response.json({ sha256: digestOf(received), size: received.length, status: "uploaded" });
  }, async (url) => {
    using transport = new Transport({ baseUrl: url, apiKey: "k", retry: fast });
    const api = new ClassicClient(transport);
    const answer = await api.uploadFile(
      digestOf(content),
      { hostname: "host-a", filepath: "/srv/a b.txt" },
      () => Promise.resolve(new Blob([content]).stream()),
    );
    assert.equal(answer.size, 300_000);
  });
});

Deno.test("uploadFile() does not retry when its own body fails, and rethrows that failure", async () => {
  await withServer(async (request) => {
    await request.arrayBuffer().catch(() => {});
    return problem(503, "never reached for real");
  }, async (url) => {
    let opened = 0;
    const failure = new AppError("conflict", "changed after it was hashed");
    using transport = new Transport({ baseUrl: url, apiKey: "k", retry: fast });
    const api = new ClassicClient(transport);
    await assert.rejects(
      api.uploadFile(digestOf("a"), { hostname: "h", filepath: "/f" }, () => {
        opened++;
        let sent = false;
        return Promise.resolve(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              if (!sent) {
                sent = true;
                controller.enqueue(new Uint8Array(1000));
              } else {
                controller.error(failure);
              }
            },
          }),
        );
      }),
      (error) => error === failure,
    );
    assert.equal(opened, 1);
  });
});

Deno.test("getFile() answers null for 404 and the file for 200", async () => {
  await withServer((request) => {
    if (request.url.endsWith(file.sha256)) {
      const { upload_required: _, upload_url: __, ...wire } = {
        ...file,
        _id: "f1",
        created_at: "c",
        updated_at: "u",
        has_file_content: true,
        upload_required: false,
        upload_url: null,
      };
      return Response.json(wire);
    }
    return problem(404, "No file", "not_found");
  }, async (url) => {
    using transport = new Transport({ baseUrl: url, apiKey: "k", retry: fast });
    const api = new ClassicClient(transport);
    assert.equal((await api.getFile(file.sha256))?.filepath, "/srv/a.txt");
    assert.equal(await api.getFile(digestOf("other")), null);
  });
});

Deno.test("an injected fetch is used for every request", async () => {
  const seen: string[] = [];
  using transport = new Transport({
    baseUrl: "http://example.invalid",
    apiKey: "secret",
    retry: fast,
    fetch: (input, init) => {
      seen.push(`${init?.method ?? "GET"} ${input} ${new Headers(init?.headers).get("x-api-key")}`);
      return Promise.resolve(registered(false));
    },
  });
  const api = new ClassicClient(transport);
  await api.putFile(file);
  assert.deepEqual(seen, ["POST http://example.invalid/put_file secret"]);
});

Deno.test("sequential requests reuse one keep-alive connection", async () => {
  const ports = new Set<number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (_, info) => {
    ports.add(info.remoteAddr.port);
    return registered(false);
  });
  try {
    using transport = new Transport({
      baseUrl: `http://127.0.0.1:${server.addr.port}`,
      apiKey: "k",
    });
    const api = new ClassicClient(transport);
    for (let i = 0; i < 20; i++) await api.putFile(file);
    assert.equal(ports.size, 1, `connections from ports ${[...ports].join(", ")}`);
  } finally {
    await server.shutdown();
  }
});
