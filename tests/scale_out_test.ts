/**
 * Scale-out: two ppserver processes sharing one MongoDB (FerretDB) and one S3 bucket (moto),
 * as several stateless instances behind a load balancer would. What one instance registers
 * or stores, the other sees; concurrent uploads of one content through both leave one blob;
 * an instance killed mid-upload leaves nothing half-visible and the other keeps serving.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MongoClient } from "mongodb";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { ferretdbIgnoreReason, startFerretDB } from "./_servers/ferretdb.ts";
import { s3IgnoreReason, startS3 } from "./_servers/s3.ts";
import { type RunningPpserver, startPpserver } from "./_servers/ppserver.ts";

const ignoreReason = ferretdbIgnoreReason() ?? s3IgnoreReason();
const ignore = ignoreReason !== undefined;
const named = (spec: string) => `scale-out: ${spec}${ignore ? ` (${ignoreReason})` : ""}`;

const BUCKET = "putplace-scale-out";
const MiB = 1024 * 1024;

/** FerretDB, moto with the bucket made, and two ppserver instances on them. */
async function cluster() {
  const stack = new AsyncDisposableStack();
  try {
    const ferretdb = stack.use(await startFerretDB());
    const s3 = stack.use(await startS3());
    const s3Client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    stack.defer(() => s3Client.destroy());
    await s3Client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const mongo = new MongoClient(ferretdb.url);
    stack.defer(() => mongo.close());
    const env = {
      PUTPLACE_METADATA_STORE: "mongodb",
      MONGODB_URL: ferretdb.url,
      MONGODB_DATABASE: "putplace",
      STORAGE_BACKEND: "s3",
      S3_BUCKET_NAME: BUCKET,
      S3_REGION_NAME: s3.region,
      S3_ENDPOINT_URL: s3.endpoint,
      S3_FORCE_PATH_STYLE: "true",
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
    const a = stack.use(await startPpserver({ env }));
    const b = stack.use(await startPpserver({ env, adminKey: a.adminKey }));
    const moved = stack.move();
    return {
      a,
      b,
      ferretdb,
      s3Client,
      db: mongo.db("putplace"),
      key: a.adminKey,
      [Symbol.asyncDispose]: () => moved.disposeAsync(),
    };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

function digestOf(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function fileBody(hostname: string, filepath: string, bytes: Uint8Array | string) {
  return {
    filepath,
    hostname,
    ip_address: "10.0.0.7",
    sha256: digestOf(bytes),
    file_size: typeof bytes === "string"
      ? new TextEncoder().encode(bytes).byteLength
      : bytes.byteLength,
    file_mode: 0o100644,
    file_uid: 1000,
    file_gid: 1000,
    file_mtime: 1_700_000_000.5,
    file_atime: 1_700_000_000.5,
    file_ctime: 1_700_000_000.5,
  };
}

async function putFile(
  server: RunningPpserver,
  key: string,
  body: ReturnType<typeof fileBody>,
): Promise<{ _id: string; upload_required: boolean; has_file_content: boolean }> {
  const response = await fetch(`${server.url}/put_file`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return await response.json();
}

function upload(
  server: RunningPpserver,
  key: string,
  file: { hostname: string; filepath: string; sha256: string },
  body: BodyInit,
): Promise<Response> {
  const query = new URLSearchParams({ hostname: file.hostname, filepath: file.filepath });
  return fetch(`${server.url}/upload_file/${file.sha256}?${query}`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/octet-stream" },
    body,
    // @ts-ignore: Deno's fetch takes `duplex` for streamed bodies.
    duplex: "half",
  });
}

async function objectKeys(client: S3Client): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (listed.Contents ?? []).map((object) => object.Key ?? "").sort();
}

function patterned(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 13 + seed + (i >> 10)) & 0xff;
  return bytes;
}

Deno.test({
  name: named("a file registered and uploaded through one instance is visible through the other"),
  ignore,
  async fn() {
    await using c = await cluster();
    const content = "registered through A, read through B\n";
    const file = fileBody("host-a", "/srv/shared.txt", content);
    const registered = await putFile(c.a, c.key, file);
    assert.equal(registered.upload_required, true);

    const seen = await fetch(`${c.b.url}/get_file/${file.sha256}`, {
      headers: { "x-api-key": c.key },
    });
    assert.equal(seen.status, 200);
    const found = await seen.json();
    assert.equal(found._id, registered._id);
    assert.equal(found.has_file_content, false);

    const uploaded = await upload(c.b, c.key, file, content);
    assert.equal(uploaded.status, 200, await uploaded.clone().text());
    await uploaded.body?.cancel();

    const again = await putFile(c.a, c.key, fileBody("host-b", "/copy.txt", content));
    assert.equal(again.upload_required, false, "A knows the blob B stored");
    assert.equal(again.has_file_content, true);
    const object = await c.s3Client.send(
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: `files/${file.sha256.slice(0, 2)}/${file.sha256}`,
      }),
    );
    assert.equal(await object.Body?.transformToString(), content);

    // A key made through B works on A.
    const made = await fetch(`${c.b.url}/api_keys`, {
      method: "POST",
      headers: { "x-api-key": c.key, "content-type": "application/json" },
      body: JSON.stringify({ name: "made-on-b", scope: "read" }),
    });
    assert.equal(made.status, 201);
    const { api_key: readKey } = await made.json();
    const withNewKey = await fetch(`${c.a.url}/get_file/${file.sha256}`, {
      headers: { "x-api-key": readKey },
    });
    assert.equal(withNewKey.status, 200);
    await withNewKey.body?.cancel();
  },
});

Deno.test({
  name: named("concurrent uploads of one content through both instances: all succeed, one blob"),
  ignore,
  async fn() {
    await using c = await cluster();
    const bytes = patterned(11 * MiB, 5); // more than one 8 MiB part: the multipart path
    const digest = digestOf(bytes);
    const files = Array.from(
      { length: 6 },
      (_, i) => fileBody(`host-${i}`, `/data/${i}.bin`, bytes),
    );
    await Promise.all(files.map((file, i) => putFile(i % 2 === 0 ? c.a : c.b, c.key, file)));

    const responses = await Promise.all(
      files.map((file, i) => upload(i % 2 === 0 ? c.b : c.a, c.key, file, bytes)),
    );
    for (const response of responses) {
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal((await response.json()).size, bytes.byteLength);
    }
    assert.deepEqual(await objectKeys(c.s3Client), [`files/${digest.slice(0, 2)}/${digest}`]);
    assert.equal(await c.db.collection("blobs").countDocuments({}), 1);
    const object = await c.s3Client.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: `files/${digest.slice(0, 2)}/${digest}` }),
    );
    assert.equal(digestOf(await object.Body!.transformToByteArray()), digest);
    for (const server of [c.a, c.b]) {
      const lookup = await fetch(`${server.url}/get_file/${digest}`, {
        headers: { "x-api-key": c.key },
      });
      assert.equal((await lookup.json()).has_file_content, true);
    }
  },
});

Deno.test({
  name: named("killing an instance mid-upload leaves nothing visible and the other keeps serving"),
  ignore,
  async fn() {
    await using c = await cluster();
    const total = 40 * MiB;
    const bytes = patterned(total, 9);
    const file = fileBody("host-k", "/big.bin", bytes);
    await putFile(c.a, c.key, file);

    // Stream the first 20 MiB (two parts go up to S3), then hold the connection open.
    const halfway = Promise.withResolvers<void>();
    const never = Promise.withResolvers<void>();
    const body = ReadableStream.from((async function* () {
      for (let offset = 0; offset < total; offset += MiB) {
        if (offset === 20 * MiB) {
          halfway.resolve();
          await never.promise;
        }
        yield bytes.slice(offset, offset + MiB);
      }
    })());
    const killed = upload(c.a, c.key, file, body).then(
      (response) => response.status,
      () => "connection lost",
    );
    await halfway.promise;
    // Give A a moment to push the bytes it has into S3 parts.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const status = await c.a.kill();
    assert.equal(status.signal, "SIGKILL");
    never.resolve();
    assert.equal(await killed, "connection lost");

    assert.deepEqual(await objectKeys(c.s3Client), [], "no object: the upload never completed");
    assert.equal(await c.db.collection("blobs").countDocuments({}), 0);

    const health = await fetch(`${c.b.url}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const lookup = await fetch(`${c.b.url}/get_file/${file.sha256}`, {
      headers: { "x-api-key": c.key },
    });
    assert.equal((await lookup.json()).has_file_content, false);
    const registered = await putFile(c.b, c.key, fileBody("host-k", "/other.bin", "still serving"));
    assert.equal(registered.upload_required, true);

    const retried = await upload(c.b, c.key, file, bytes);
    assert.equal(retried.status, 200, await retried.clone().text());
    await retried.body?.cancel();
    const object = await c.s3Client.send(
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: `files/${file.sha256.slice(0, 2)}/${file.sha256}`,
      }),
    );
    assert.equal(digestOf(await object.Body!.transformToByteArray()), file.sha256);
  },
});
