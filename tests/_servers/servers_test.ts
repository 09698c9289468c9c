/**
 * Checks that the real test servers started by ferretdb.ts and s3.ts work, and pins down the
 * behaviour of theirs that the MongoDB metadata store and S3 blob store tests rely on.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MongoClient } from "mongodb";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { ferretdbIgnoreReason, startFerretDB } from "./ferretdb.ts";
import { s3IgnoreReason, startS3 } from "./s3.ts";

function sha256Base64(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64");
}

Deno.test({
  name: "FerretDB stores and finds a document, and keeps it across a kill and restart",
  ignore: ferretdbIgnoreReason() !== undefined,
  async fn() {
    await using ferretdb = await startFerretDB();
    assert.match(ferretdb.url, /^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    const client = new MongoClient(ferretdb.url, { serverSelectionTimeoutMS: 10_000 });
    try {
      const files = client.db("putplace_test").collection<{ _id: string; size: number }>("files");
      await files.insertOne({ _id: "host-a:/etc/hosts", size: 42 });
      assert.deepEqual(await files.findOne({ _id: "host-a:/etc/hosts" }), {
        _id: "host-a:/etc/hosts",
        size: 42,
      });

      await ferretdb.kill();
      await ferretdb.restart();
      assert.equal((await files.findOne({ _id: "host-a:/etc/hosts" }))?.size, 42);
    } finally {
      await client.close();
    }
  },
});

Deno.test({
  name: "moto serves S3: bucket, put and get with SHA-256, multipart upload",
  ignore: s3IgnoreReason() !== undefined,
  async fn(t) {
    await using s3 = await startS3();
    assert.match(s3.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const Bucket = "putplace-test";
    try {
      await client.send(new CreateBucketCommand({ Bucket }));

      await t.step("put and get an object with a SHA-256 checksum", async () => {
        const body = new TextEncoder().encode("hello putplace\n");
        const put = await client.send(
          new PutObjectCommand({ Bucket, Key: "one", Body: body, ChecksumAlgorithm: "SHA256" }),
        );
        assert.equal(put.ChecksumSHA256, sha256Base64(body));
        const got = await client.send(
          new GetObjectCommand({ Bucket, Key: "one", ChecksumMode: "ENABLED" }),
        );
        assert.equal(got.ChecksumSHA256, sha256Base64(body));
        assert.deepEqual(await got.Body!.transformToByteArray(), body);
      });

      // Real S3 rejects a wrong x-amz-checksum-sha256 with 400 BadDigest. moto (5.2.5) does
      // not check it: it stores and echoes whatever value the client sent. So tests against
      // moto cannot show that a blob store's checksum guards corruption. If a moto upgrade
      // makes this fail, moto has started validating: update this test and that note.
      await t.step("moto does not validate ChecksumSHA256 (real S3 does)", async () => {
        const body = new TextEncoder().encode("the real bytes\n");
        const wrong = sha256Base64(new TextEncoder().encode("other bytes\n"));
        const put = await client.send(
          new PutObjectCommand({
            Bucket,
            Key: "wrong-checksum",
            Body: body,
            ChecksumAlgorithm: "SHA256",
            ChecksumSHA256: wrong,
          }),
        );
        assert.equal(put.ChecksumSHA256, wrong);
      });

      await t.step("multipart upload of two 5 MiB parts", async () => {
        const Key = "multipart";
        const parts = [1, 2].map((fill) => new Uint8Array(5 * 1024 * 1024).fill(fill));
        const { UploadId } = await client.send(
          new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: "SHA256" }),
        );
        const uploaded = [];
        for (const [index, part] of parts.entries()) {
          const PartNumber = index + 1;
          const result = await client.send(
            new UploadPartCommand({
              Bucket,
              Key,
              UploadId,
              PartNumber,
              Body: part,
              ChecksumAlgorithm: "SHA256",
            }),
          );
          assert.equal(result.ChecksumSHA256, sha256Base64(part));
          uploaded.push({ PartNumber, ETag: result.ETag, ChecksumSHA256: result.ChecksumSHA256 });
        }
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId,
            MultipartUpload: { Parts: uploaded },
          }),
        );
        const got = await client.send(new GetObjectCommand({ Bucket, Key }));
        const bytes = await got.Body!.transformToByteArray();
        assert.equal(bytes.length, 10 * 1024 * 1024);
        assert.equal(
          createHash("sha256").update(bytes).digest("hex"),
          createHash("sha256").update(parts[0]).update(parts[1]).digest("hex"),
        );
      });
    } finally {
      client.destroy();
    }
  },
});
