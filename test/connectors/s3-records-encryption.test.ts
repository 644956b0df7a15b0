/**
 * A rewrite of an SSE-KMS log object keeps its key. The log buckets are SSE-KMS with customer
 * keys, and a copy without SSE headers takes the bucket's default encryption (which may be
 * another key, or SSE-S3): the staged object and the replace must name the replaced version's
 * key and Bucket Key setting. Against the project's own S3 server, which records encryption as
 * S3 does (local/s3/encryption.ts), through a single copy, a multipart copy and the batch erasure.
 */
import { gzipSync } from 'node:zlib';
import { HeadObjectCommand, ListObjectVersionsCommand, PutBucketEncryptionCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3RecordsConnector, type S3RecordsOptions } from '../../functions/connectors/s3-records';
import type { Identity } from '../../functions/connectors/types';
import { LOG_FIELDS as F, currentTexts, sipLogStore, useLogStores } from '../support/log-store';

const fx = useLogStores('enc');
let s3: S3Client;
beforeAll(() => {
  s3 = fx.s3;
});

const OBJECT_KEY = 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-4333-8444-555555555555';
const DEFAULT_KEY = 'arn:aws:kms:us-east-1:000000000000:key/99999999-8888-4777-8666-555555555555';
const subject: Identity = { phone: ['+15145550101'] };
const BODY = ['{"from":"sip:+15145550101@pbx","n":1}', '{"from":"sip:+15145559999@pbx","n":2}'].join('\n') + '\n';
const KEY = 'sip/2026/11/01/10.jsonl.gz';

/** A bucket whose default is one key, holding an object written with another (and a Bucket Key), or with SSE-S3. */
async function seeded(objectEncryption: 'kms' | 'dsse' | 'sse-s3'): Promise<string> {
  const bucket = await fx.newBucket();
  await s3.send(
    new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: DEFAULT_KEY } }] } }),
  );
  const sse =
    objectEncryption === 'kms'
      ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: OBJECT_KEY, BucketKeyEnabled: true }
      : objectEncryption === 'dsse'
        ? { ServerSideEncryption: 'aws:kms:dsse' as const, SSEKMSKeyId: OBJECT_KEY }
        : { ServerSideEncryption: 'AES256' as const };
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: gzipSync(BODY), ...sse }));
  return bucket;
}

async function encryptionOf(bucket: string, key = KEY, versionId?: string) {
  const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return { sse: h.ServerSideEncryption, key: h.SSEKMSKeyId, bucketKey: h.BucketKeyEnabled };
}

const EXPECTED = {
  kms: { sse: 'aws:kms', key: OBJECT_KEY, bucketKey: true },
  dsse: { sse: 'aws:kms:dsse', key: OBJECT_KEY, bucketKey: undefined },
  'sse-s3': { sse: 'AES256', key: undefined, bucketKey: undefined },
} as const;

/** Every version the rewrite made (the new current one, and any staged object left), by object key, with its encryption. */
async function rewrittenVersions(bucket: string) {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  const versions = (listed.Versions ?? []).filter((v) => !(v.Key === KEY && v.IsLatest === false));
  return Promise.all(versions.map(async (v) => ({ object: v.Key, encryption: await encryptionOf(bucket, v.Key as string, v.VersionId) })));
}

describe.each<[string, S3RecordsOptions]>([
  ['a single conditional copy', {}],
  ['a multipart conditional copy', { multipartCopyThreshold: 0 }],
])('a rewrite through %s', (_name, options) => {
  test.each(['kms', 'dsse', 'sse-s3'] as const)('keeps the replaced version\'s encryption (%s), not the bucket default\'s key', async (kind) => {
    const bucket = await seeded(kind);
    expect(await encryptionOf(bucket)).toEqual(EXPECTED[kind]);
    const connector = createS3RecordsConnector(options);
    const findings = await connector.discover(sipLogStore(bucket, { fields: [F.from] }), subject, fx.context());
    expect(findings).toHaveLength(1);
    const result = await connector.apply(sipLogStore(bucket, { fields: [F.from] }), subject, findings.map((finding) => ({ finding, action: 'delete' as const })), fx.context());
    expect(result.applied).toEqual({ delete: 1 });
    expect([...(await currentTexts(s3, bucket, 'sip/')).values()]).toEqual(['{"from":"sip:+15145559999@pbx","n":2}\n']);
    expect(await encryptionOf(bucket)).toEqual(EXPECTED[kind]);
    const made = await rewrittenVersions(bucket);
    expect(made.map((v) => v.object)).toContain(KEY);
    for (const v of made) expect(v).toEqual({ object: v.object, encryption: EXPECTED[kind] });
  });
});

test("the retention sweep's batch erasure keeps the key too", async () => {
  const bucket = await seeded('kms');
  const out = await createS3RecordsConnector().eraseFromStore(sipLogStore(bucket, { fields: [F.from] }), new Map([['s', subject]]), fx.context());
  expect(out.rewritten).toBe(1);
  expect(await encryptionOf(bucket)).toEqual(EXPECTED.kms);
});
