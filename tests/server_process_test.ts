import assert from "node:assert/strict";
import { digestOf } from "../lib/digest.ts";
import { startPpserver } from "./_servers/ppserver.ts";
import { fileAt } from "./file_fixture.ts";
import { BLOB_BATCH_CONTENT_TYPE, encodeFrames } from "../lib/wire/blob_batch.ts";

// The suite runs against a single server process and against a supervisor with 3 workers.
for (const workers of [1, 3]) {
  const named = workers === 1 ? "" : ` (${workers} workers)`;

  Deno.test(`the server process runs the full flow: register, upload, dedup from a second host, lookup${named}`, async () => {
    await using server = await startPpserver({ workers });
    const headers = { "x-api-key": server.adminKey, "content-type": "application/json" };
    const content = "the same bytes on two hosts\n";
    const digest = digestOf(content);

    const first = await fetch(`${server.url}/put_file`, {
      method: "POST",
      headers,
      body: JSON.stringify(fileAt("host-a", "/srv/a.txt", content)),
    });
    assert.equal(first.status, 201);
    const registered = await first.json();
    assert.equal(registered.upload_required, true);
    assert.equal(registered.upload_url, `/upload_file/${digest}`);

    const form = new FormData();
    form.append("file", new Blob([content]), "a.txt");
    const upload = await fetch(
      `${server.url}${registered.upload_url}?hostname=host-a&filepath=${
        encodeURIComponent("/srv/a.txt")
      }`,
      { method: "POST", headers: { "x-api-key": server.adminKey }, body: form },
    );
    assert.equal(upload.status, 200);
    assert.deepEqual((await upload.json()).status, "uploaded");

    const second = await fetch(`${server.url}/put_file`, {
      method: "POST",
      headers,
      body: JSON.stringify(fileAt("host-b", "/home/b/copy.txt", content)),
    });
    assert.equal(second.status, 201);
    const dedup = await second.json();
    assert.equal(dedup.upload_required, false);
    assert.equal(dedup.upload_url, null);
    assert.equal(dedup.has_file_content, true);

    const lookup = await fetch(`${server.url}/get_file/${digest}`, { headers });
    assert.equal(lookup.status, 200);
    const found = await lookup.json();
    assert.equal(found.hostname, "host-a", "the epoch file comes first");
    assert.equal(found.filepath, "/srv/a.txt");

    const blobPath = `${server.dataDir}/blobs/${digest.slice(0, 2)}/${digest}`;
    assert.equal(await Deno.readTextFile(blobPath), content);
  });

  Deno.test(`an upload acknowledged with 200 survives a kill of the server process${named}`, async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "ppserver-kill-" });
    try {
      const content = "durable bytes ".repeat(10_000);
      const digest = digestOf(content);
      let adminKey: string;
      {
        const server = await startPpserver({ dataDir, workers });
        adminKey = server.adminKey;
        const headers = { "x-api-key": adminKey };
        const put = await fetch(`${server.url}/put_file`, {
          method: "POST",
          headers,
          body: JSON.stringify(fileAt("h", "/d.txt", content)),
        });
        assert.equal(put.status, 201);
        await put.body?.cancel();
        const upload = await fetch(
          `${server.url}/upload_file/${digest}?hostname=h&filepath=/d.txt`,
          {
            method: "POST",
            headers: { ...headers, "content-type": "application/octet-stream" },
            body: content,
          },
        );
        assert.equal(upload.status, 200);
        await upload.body?.cancel();
        const status = await server.kill();
        assert.equal(status.signal, "SIGKILL");
      }
      await using again = await startPpserver({ dataDir, adminKey, workers });
      const lookup = await fetch(`${again.url}/get_file/${digest}`, {
        headers: { "x-api-key": adminKey },
      });
      assert.equal(lookup.status, 200);
      assert.equal((await lookup.json()).has_file_content, true);
      const blobPath = `${dataDir}/blobs/${digest.slice(0, 2)}/${digest}`;
      assert.equal(await Deno.readTextFile(blobPath), content);
      assert.doesNotMatch(
        again.output(),
        /PUTPLACE_ADMIN_KEY/,
        "the bootstrap key is never shown again",
      );
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  });

  Deno.test(`a blob batch acknowledged with 200 survives a kill of the server process${named}`, async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "ppserver-kill-batch-" });
    try {
      const blobs = Array.from({ length: 300 }, (_, i) => {
        const bytes = new TextEncoder().encode(`batch blob ${i} `.repeat(1 + (i % 40)));
        return { digest: digestOf(bytes), bytes };
      });
      let adminKey: string;
      {
        const server = await startPpserver({ dataDir, workers });
        adminKey = server.adminKey;
        const response = await fetch(`${server.url}/v1/blobs/batch`, {
          method: "POST",
          headers: { "x-api-key": adminKey, "content-type": BLOB_BATCH_CONTENT_TYPE },
          body: encodeFrames(blobs),
        });
        assert.equal(response.status, 200);
        assert.equal((await response.json()).counts.stored, blobs.length);
        assert.equal((await server.kill()).signal, "SIGKILL");
      }
      await using again = await startPpserver({ dataDir, adminKey, workers });
      for (const { digest, bytes } of blobs) {
        const got = await fetch(`${again.url}/v1/blobs/${digest}`, {
          headers: { "x-api-key": adminKey },
        });
        assert.equal(got.status, 200);
        assert.deepEqual(new Uint8Array(await got.arrayBuffer()), bytes);
      }
      const missing = await fetch(`${again.url}/v1/blobs/missing`, {
        method: "POST",
        headers: { "x-api-key": adminKey, "content-type": "application/json" },
        body: JSON.stringify({
          blobs: blobs.map((b) => ({ digest: b.digest, size: b.bytes.length })),
        }),
      });
      assert.deepEqual(await missing.json(), { missing: [] });
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  });
}
