/**
 * What an s3-records rewrite (stage, verify, conditional replace) keeps of the object besides
 * its other records: tags, user metadata, content type, content encoding, cache control,
 * content disposition and language, and storage class, through a single copy, a multipart copy
 * and the retention sweep's batch erasure. Against the project's own S3 server.
 */
import { gzipSync } from 'node:zlib';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3RecordsConnector, type S3RecordsOptions } from '../../functions/connectors/s3-records';
import type { ConnectorContext, Identity } from '../../functions/connectors/types';

import { parseDataMap, type S3RecordsStore } from '../../functions/core/datamap';
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

describe("the rewritten object's gzip level", () => {
  // A body that compresses differently at levels 1 and 6 (the three lines above compress the same at both).
  const LINES = Array.from({ length: 4000 }, (_, i) => `{"from":"sip:+1514555${String(1000 + (i % 97)).padStart(4, '0')}@pbx","n":${i},"ua":"Yealink SIP-T4${i % 7}G 66.86.0.${i % 13}","cseq":"${(i * 7919) % 100000} INVITE"}`);
  const kept = LINES.filter((l) => !l.includes('+15145551000@')).join('\n') + '\n';

  test.each<[string, number | undefined, number]>([
    ['the store sets none: the connector default, 6', undefined, 6],
    ['the store sets 1', 1, 1],
    ['the store sets 9', 9, 9],
  ])('%s', async (_name, gzipLevel, expected) => {
    const bucket = await fx.newBucket();
    const key = 'sip/2026/11/01/11.jsonl.gz';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(LINES.join('\n') + '\n') }));
    const st: S3RecordsStore = { ...store(bucket), ...(gzipLevel === undefined ? {} : { gzipLevel }) };
    const connector = createS3RecordsConnector();
    const out = await connector.eraseFromStore(st, new Map([['s', { phone: ['+15145551000'] }]]), context());
    expect(out.rewritten).toBe(1);
    const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
    // zlib's stream and its one-shot call write the same bytes for the same input and level.
    expect(body.equals(gzipSync(kept, { level: expected }))).toBe(true);
    expect(body.equals(gzipSync(kept, { level: expected === 6 ? 1 : 6 }))).toBe(false);
  });

  test('a level outside 1-9 is refused by the data map, naming the field', () => {
    const map = { version: 1, stores: [{ ...store('logs-bucket'), name: 'sip-logs', gzipLevel: 0 }] };
    expect(() => parseDataMap(map)).toThrow(/stores\[0\]\.gzipLevel: /);
  });
});
