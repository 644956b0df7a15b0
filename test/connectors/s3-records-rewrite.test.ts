/**
 * What an s3-records rewrite (stage, verify, conditional replace) keeps of the object besides
 * its other records: tags, user metadata, content type, content encoding, cache control,
 * content disposition and language, and storage class, through a single copy, a multipart copy
 * and the retention sweep's batch erasure. Against the project's own S3 server.
 */
import { gzipSync } from 'node:zlib';
import {
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3RecordsConnector, type S3RecordsOptions } from '../../functions/connectors/s3-records';
import type { ConnectorContext, Identity } from '../../functions/connectors/types';

import { type S3RecordsStore } from '../../functions/core/datamap';
import { LOG_FIELDS as F, sipLogStore, useLogStores } from '../support/log-store';

const fx = useLogStores('rw');
let s3: S3Client;
beforeAll(() => {
  s3 = fx.s3;
});

const context = (): ConnectorContext => fx.context();

function store(bucket: string): S3RecordsStore {
  return sipLogStore(bucket, { fields: [F.from] });
}

const subject: Identity = { phone: ['+15145550101'] };
const BODY = ['{"from":"sip:+15145550101@pbx","n":1}', '{"from":"sip:+15145559999@pbx","n":2}', '{"from":"sip:+15145558888@pbx","n":3}'].join('\n') + '\n';
const TAGS = [
  { Key: 'retention', Value: 'logs 12m' },
  { Key: 'owner', Value: 'ops/pbx=7&8' },
  { Key: 'cost-centre', Value: 'é-42' },
];

async function seeded(): Promise<{ bucket: string; key: string }> {
  const bucket = await fx.newBucket();
  const key = 'sip/2026/11/01/10.jsonl.gz';
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: gzipSync(BODY),
      ContentType: 'application/x-ndjson',
      ContentEncoding: 'identity',
      CacheControl: 'private, max-age=60',
      ContentDisposition: 'attachment; filename="10.jsonl.gz"',
      ContentLanguage: 'en-CA',
      Metadata: { source: 'pbx-7', 'rotated-by': 'logrotate' },
      StorageClass: 'STANDARD_IA',
      Tagging: TAGS.map((t) => `${encodeURIComponent(t.Key)}=${encodeURIComponent(t.Value)}`).join('&'),
    }),
  );
  return { bucket, key };
}

async function attributes(bucket: string, key: string) {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return {
    contentType: head.ContentType,
    contentEncoding: head.ContentEncoding,
    cacheControl: head.CacheControl,
    contentDisposition: head.ContentDisposition,
    contentLanguage: head.ContentLanguage,
    metadata: head.Metadata,
    storageClass: head.StorageClass,
    tags: tags.TagSet,
  };
}

const EXPECTED = {
  contentType: 'application/x-ndjson',
  contentEncoding: 'identity',
  cacheControl: 'private, max-age=60',
  contentDisposition: 'attachment; filename="10.jsonl.gz"',
  contentLanguage: 'en-CA',
  metadata: { source: 'pbx-7', 'rotated-by': 'logrotate' },
  storageClass: 'STANDARD_IA',
  tags: TAGS,
};

describe.each<[string, S3RecordsOptions]>([
  ['a single conditional copy', {}],
  ['a multipart conditional copy', { multipartCopyThreshold: 0 }],
])('a rewrite through %s', (_name, options) => {
  test('keeps tags, user metadata, content headers and storage class', async () => {
    const { bucket, key } = await seeded();
    expect(await attributes(bucket, key)).toEqual(EXPECTED);
    const connector = createS3RecordsConnector(options);
    const findings = await connector.discover(store(bucket), subject, context());
    expect(findings).toHaveLength(1);
    const result = await connector.apply(store(bucket), subject, findings.map((finding) => ({ finding, action: 'delete' as const })), context());
    expect(result.applied).toEqual({ delete: 1 });
    expect(await connector.discover(store(bucket), subject, context())).toEqual([]);
    expect(await attributes(bucket, key)).toEqual(EXPECTED);
  });
});

test("the retention sweep's batch erasure keeps them too", async () => {
  const { bucket, key } = await seeded();
  const connector = createS3RecordsConnector();
  const out = await connector.eraseFromStore(store(bucket), new Map([['s', subject]]), context());
  expect(out.rewritten).toBe(1);
  expect(await attributes(bucket, key)).toEqual(EXPECTED);
});
