import assert from "node:assert/strict";
import { digestOf } from "../../lib/digest.ts";
import { InFlightUploads } from "./inflight_uploads.ts";

Deno.test("run() lets a second upload of a running digest join it instead of sending again", async () => {
  const uploads = new InFlightUploads();
  const digest = digestOf("same");
  const gate = Promise.withResolvers<void>();
  let sent = 0;
  const upload = async () => {
    sent++;
    await gate.promise;
  };
  const first = uploads.run(digest, upload);
  const second = uploads.run(digest, upload);
  gate.resolve();
  assert.deepEqual(await Promise.all([first, second]), ["uploaded", "joined"]);
  assert.equal(sent, 1);
  assert.equal(uploads.size, 0, "finished uploads are forgotten");
});

Deno.test("run() uploads again when the running upload it waited for failed", async () => {
  const uploads = new InFlightUploads();
  const digest = digestOf("flaky");
  const gate = Promise.withResolvers<void>();
  let sent = 0;
  const first = uploads.run(digest, async () => {
    sent++;
    await gate.promise;
    throw new Error("network");
  });
  const second = uploads.run(digest, () => {
    sent++;
    return Promise.resolve();
  });
  gate.resolve();
  await assert.rejects(first, /network/);
  assert.equal(await second, "uploaded");
  assert.equal(sent, 2);
});

Deno.test("run() does not upload a digest again that was uploaded moments ago in this scan", async () => {
  const uploads = new InFlightUploads();
  const digest = digestOf("twice");
  let sent = 0;
  const upload = () => {
    sent++;
    return Promise.resolve();
  };
  assert.equal(await uploads.run(digest, upload), "uploaded");
  assert.equal(await uploads.run(digest, upload), "joined");
  assert.equal(sent, 1);
});
