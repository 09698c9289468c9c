/**
 * One file's way to a real ppserver (reportFile with the real API client), including
 * a file that changes between hashing and upload.
 */
import assert from "node:assert/strict";
import { ClassicClient } from "../client/http/classic_client.ts";
import { Transport } from "../client/http/transport.ts";
import { ReadBuffers } from "../client/scan/hash.ts";
import { InFlightUploads } from "../client/scan/inflight_uploads.ts";
import { type ReportContext, reportFile } from "../client/scan/report_file.ts";
import { startPpserver } from "./_servers/ppserver.ts";
import { pseudoRandom, serverBlobs, serverFiles, sha256, tempDir } from "./client_fixtures.ts";

function context(api: ClassicClient, onPhase?: ReportContext["onPhase"]): ReportContext {
  return {
    api,
    hostname: "host-r",
    ip: "10.0.0.9",
    uploads: new InFlightUploads(),
    oneFileSystem: false,
    signal: new AbortController().signal,
    onPhase,
  };
}

Deno.test("reportFile() registers the file's stat metadata and uploads its bytes once", async () => {
  await using server = await startPpserver();
  await using dir = await tempDir("ppclient-report-");
  const path = `${dir.path}/f.bin`;
  const bytes = pseudoRandom(3 * 1024 * 1024 + 5, 3);
  await Deno.writeFile(path, bytes);
  await Deno.chmod(path, 0o640);
  const info = await Deno.stat(path);
  using transport = new Transport({ baseUrl: server.url, apiKey: server.adminKey });
  const api = new ClassicClient(transport);

  const outcome = await reportFile(path, info.dev, new ReadBuffers(), context(api));
  assert.deepEqual(outcome, {
    kind: "registered",
    digest: sha256(bytes),
    size: bytes.length,
    upload: "uploaded",
  });
  const [file] = await serverFiles(server);
  assert.deepEqual(file, {
    hostname: "host-r",
    filepath: path,
    sha256: sha256(bytes),
    file_size: bytes.length,
  });
  const wire = await (await fetch(`${server.url}/get_file/${sha256(bytes)}`, {
    headers: { "x-api-key": server.adminKey },
  })).json();
  assert.equal(wire.file_mode, info.mode);
  assert.equal(wire.file_uid, info.uid);
  assert.equal(wire.ip_address, "10.0.0.9");
  assert.equal(wire.file_mtime, info.mtime!.getTime() / 1000);
  assert.deepEqual(await serverBlobs(server), [sha256(bytes)]);

  const again = await reportFile(path, info.dev, new ReadBuffers(), context(api));
  assert.equal(again.kind === "registered" && again.upload, "deduplicated");
});

Deno.test("a file rewritten between hashing and upload counts as changed and its new bytes are not stored", async () => {
  await using server = await startPpserver();
  await using dir = await tempDir("ppclient-report-");
  const path = `${dir.path}/moving.bin`;
  const original = pseudoRandom(2 * 1024 * 1024, 11);
  const rewritten = pseudoRandom(2 * 1024 * 1024, 12);
  await Deno.writeFile(path, original);
  const info = await Deno.stat(path);
  using transport = new Transport({ baseUrl: server.url, apiKey: server.adminKey });
  const api = new ClassicClient(transport);

  const outcome = await reportFile(
    path,
    info.dev,
    new ReadBuffers(),
    context(api, (phase) => {
      // Registered with the digest of the original bytes; now the file changes in place.
      if (phase === "uploading") {
        const file = Deno.openSync(path, { write: true });
        file.writeSync(rewritten);
        file.close();
      }
    }),
  );
  assert.equal(outcome.kind, "failed");
  assert.ok(outcome.kind === "failed" && outcome.reason === "changed", JSON.stringify(outcome));
  assert.deepEqual(await serverBlobs(server, [sha256(rewritten)]), []);
  // The registration made before the change names the digest the file had when hashed.
  assert.equal((await serverFiles(server))[0].sha256, sha256(original));
});

Deno.test("reportFile() rethrows a refused API key instead of counting a failure", async () => {
  await using server = await startPpserver();
  await using dir = await tempDir("ppclient-report-");
  await Deno.writeTextFile(`${dir.path}/f`, "x");
  using transport = new Transport({ baseUrl: server.url, apiKey: "0".repeat(64) });
  const api = new ClassicClient(transport);
  await assert.rejects(
    reportFile(`${dir.path}/f`, 0, new ReadBuffers(), context(api)),
    (error: Error & { code?: string }) => error.code === "unauthorized",
  );
});
