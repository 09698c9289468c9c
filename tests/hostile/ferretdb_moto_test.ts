/**
 * The hostile-input corpus against the scale-out stores: MongoDB (FerretDB) for metadata
 * and S3 (moto) for blobs, each a real server of its own.
 */
import assert from "node:assert/strict";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { openBlobStore } from "../../lib/blob_store/open.ts";
import { openMetadataStore } from "../../lib/metadata_store/open.ts";
import { ferretdbIgnoreReason, startFerretDB } from "../_servers/ferretdb.ts";
import { s3IgnoreReason, startS3 } from "../_servers/s3.ts";
import { appFixture } from "../app_fixture.ts";
import { runHostileCorpus } from "./run.ts";

const ignoreReason = ferretdbIgnoreReason() ?? s3IgnoreReason();
const BUCKET = "putplace-hostile";

Deno.test({
  name: "hostile corpus (FerretDB + moto): every case is a 4xx problem, none a 5xx, nothing " +
    `leaks, stored blobs intact${ignoreReason ? ` (${ignoreReason})` : ""}`,
  ignore: ignoreReason !== undefined,
  async fn() {
    await using ferretdb = await startFerretDB();
    await using s3 = await startS3();
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    try {
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    } finally {
      client.destroy();
    }
    await using metadata = await openMetadataStore({
      kind: "mongodb",
      url: ferretdb.url,
      database: "putplace",
      filesCollection: "file_metadata",
      serverSelectionTimeoutMs: 10_000,
    });
    await using blobs = await openBlobStore({
      kind: "s3",
      bucket: BUCKET,
      region: s3.region,
      prefix: "files/",
      endpoint: s3.endpoint,
      forcePathStyle: true,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      partBytes: 5 * 1024 * 1024,
      partsInFlight: 2,
    });
    await using f = await appFixture({ stores: { metadata, blobs } });
    const report = await runHostileCorpus(f);
    assert.ok(report.cases >= 300, `${report.cases} cases`);
    assert.deepEqual(report.failures, [], report.failures.join("\n"));
  },
});
