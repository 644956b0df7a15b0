/**
 * The s3-records connector over logs that write identifiers as real systems do, against the
 * project's own S3 server: a subject's number in every written form (E.164, national with
 * punctuation, leading 1, SIP and tel URIs) and addresses in any letter case are all found and
 * erased; other people's similar numbers and addresses keep every byte.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

import { parseDataMap, type S3RecordsStore } from '../../functions/core/datamap';
import { phoneWrittenForms } from '../../functions/core/phone-numbers';
import { s3RecordsConnector } from '../../functions/connectors/s3-records';
import type { ConnectorContext, Identity, S3RecordLocator } from '../../functions/connectors/types';
import { deleteAll, objectBytes, useLogStores } from '../support/log-store';

const fx = useLogStores('forms');
let s3: S3Client;
beforeAll(() => {
  s3 = fx.s3;
});

const logs: Array<{ event: string; fields?: Record<string, unknown> }> = [];
function context(): ConnectorContext {
  return fx.context({ log: (e) => void logs.push(e) });
}

const newBucket = () => fx.newBucket();
const body = async (bucket: string, key: string): Promise<Buffer> => (await objectBytes(s3, bucket, key)).body;

/** The reference operator's log stores, as the data map gives them to the connector (default country included). */
function stores(bucket: string): { sip: S3RecordsStore; app: S3RecordsStore } {
  const map = parseDataMap({
    version: 1,
    identifiers: { phone: { defaultCountry: 'CA' } },
    stores: [
      { name: 'accounts', kind: 'dynamodb', category: 'account', table: 'accounts', key: { partitionKey: 'accountId' }, lookups: [{ identifier: 'subjectId', attribute: 'accountId' }] },
      {
        name: 'sip-logs',
        kind: 's3-records',
        category: 'logs',
        bucket,
        prefix: 'sip/',
        format: 'jsonl',
        compression: 'gzip',
        fields: [
          { path: 'from', identifier: 'phone', match: 'token' },
          { path: 'to', identifier: 'phone', match: 'token' },
          { path: 'caller', identifier: 'phone', match: 'value' },
        ],
      },
      {
        name: 'app-logs',
        kind: 's3-records',
        category: 'logs',
        bucket,
        prefix: 'app/',
        format: 'csv',
        compression: 'none',
        fields: [
          { path: 'email', identifier: 'email', match: 'value' },
          { path: 'message', identifier: 'email', match: 'token' },
        ],
      },
    ],
  });
  const [sip, app] = map.stores.filter((s): s is S3RecordsStore => s.kind === 's3-records');
  return { sip, app };
}

const SUBJECT = '+15145550101';
/** How SIP proxies, carriers and trunks write the subject's number in From/To. */
const SUBJECT_URIS = [
  ...phoneWrittenForms(SUBJECT).map((f) => `sip:${f}@pbx.example.net`),
  'sip:+15145550101@pbx.example.net;user=phone',
  'sip:5145550101@203.0.113.9',
  'tel:+1-514-555-0101',
  '"JEAN TREMBLAY" <sip:15145550101@carrier.example>;tag=77ab',
  '<tel:+1.514.555.0101;phone-context=+1>',
  'call back 1 (514) 555-0101, ext. 22',
];
/** Other people's numbers that look like the subject's. */
const OTHER_URIS = [
  'sip:+151455501010@pbx.example.net', // one digit longer
  'sip:+14385550101@pbx.example.net', // another area code, same last seven digits
  'sip:438-555-0101@pbx.example.net',
  'sip:5145550110@pbx.example.net',
  'sip:+15145550102@pbx.example.net',
  'sip:+33514555010@pbx.example.net', // abroad, with 514 555 010 in it
  'tel:+33-514-555-0101',
  'sip:a5145550101@pbx.example.net', // a username, not a number
  'sip:5550101@pbx.example.net', // seven digits: no area code, no number
];

function sipLine(i: number, from: string, to: string, caller?: string): string {
  return JSON.stringify({ ts: `2026-11-01T10:00:${String(i % 60).padStart(2, '0')}Z`, from, to, ...(caller === undefined ? {} : { caller }) });
}

afterEach(() => {
  const text = JSON.stringify(logs);
  for (const value of ['5145550101', '555-0101', 'tremblay', 'Tremblay']) expect(text.includes(value)).toBe(false);
  logs.length = 0;
});

describe('every written form of the subject, and only the subject', () => {
  test('SIP JSON Lines: an identity storing "(514) 555-0101" erases the lines with its number in every form; the others keep every byte', async () => {
    const bucket = await newBucket();
    const { sip } = stores(bucket);
    const lines: string[] = [];
    const subjectLines = new Set<number>();
    let i = 0;
    for (const uri of SUBJECT_URIS) {
      subjectLines.add(lines.length);
      lines.push(sipLine(i++, uri, OTHER_URIS[i % OTHER_URIS.length]));
    }
    // A value field holding the number as a national number.
    subjectLines.add(lines.length);
    lines.push(sipLine(i++, 'sip:+15145559999@pbx', 'sip:+15145558888@pbx', '514.555.0101'));
    for (const uri of OTHER_URIS) lines.push(sipLine(i++, uri, 'sip:+15145559999@pbx', '+14385550101'));
    const text = lines.join('\n') + '\n';
    const key = 'sip/2026/11/01/10.jsonl.gz';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(text) }));

    const identity: Identity = { phone: ['(514) 555-0101'] };
    const findings = await s3RecordsConnector.discover(sip, identity, context());
    expect(findings.map((f) => (f.locator as S3RecordLocator).line - 1).sort((a, b) => a - b)).toEqual([...subjectLines].sort((a, b) => a - b));

    const result = await s3RecordsConnector.apply(sip, identity, deleteAll(findings), context());
    expect(result.applied).toEqual({ delete: subjectLines.size });
    const after = gunzipSync(await body(bucket, key)).toString();
    expect(after).toBe(lines.filter((_l, k) => !subjectLines.has(k)).map((l) => `${l}\n`).join(''));
    expect(await s3RecordsConnector.discover(sip, { phone: [SUBJECT] }, context())).toEqual([]);
  });

  test('redact-mentions replaces the subject\'s written number, whole, and leaves the other party\'s number', async () => {
    const bucket = await newBucket();
    const { sip } = stores(bucket);
    const lines = [
      sipLine(0, '"JEAN" <sip:1-514-555-0101@carrier.example>;tag=1', 'sip:+14385550101@pbx'),
      sipLine(1, 'tel:+1 (514) 555-0101', 'sip:+151455501010@pbx'),
      sipLine(2, 'sip:+14385550101@pbx', 'sip:+15145559999@pbx'),
    ];
    const key = 'sip/2026/11/01/11.jsonl.gz';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(lines.join('\n') + '\n') }));
    const identity: Identity = { phone: [SUBJECT] };
    const findings = await s3RecordsConnector.discover(sip, identity, context());
    expect(findings).toHaveLength(2);
    await s3RecordsConnector.apply(sip, identity, findings.map((finding) => ({ finding, action: 'redact-mentions' as const })), context());
    const after = gunzipSync(await body(bucket, key)).toString().split('\n');
    expect(JSON.parse(after[0])).toEqual({ ts: '2026-11-01T10:00:00Z', from: '"JEAN" <sip:[REDACTED]@carrier.example>;tag=1', to: 'sip:+14385550101@pbx' });
    expect(JSON.parse(after[1])).toEqual({ ts: '2026-11-01T10:00:01Z', from: 'tel:[REDACTED]', to: 'sip:+151455501010@pbx' });
    expect(after[2]).toBe(lines[2]);
  });

  test('CSV portal log: the address in any letter case goes; longer and shorter addresses stay', async () => {
    const bucket = await newBucket();
    const { app } = stores(bucket);
    const rows = [
      'timestamp,email,message',
      '2026-11-01T10:00:00Z,Jean.Tremblay@Example.COM,login ok',
      '2026-11-01T10:00:01Z,,invoice emailed to JEAN.TREMBLAY@EXAMPLE.COM.',
      '2026-11-01T10:00:02Z,agent@support.example,"reply sent to <jean.tremblay@example.com>, cc x"',
      '2026-11-01T10:00:03Z,mailto:Jean.Tremblay@example.com,login ok',
      '2026-11-01T10:00:04Z,jean.tremblay@example.com.au,login ok',
      '2026-11-01T10:00:05Z,,login failed for xjean.tremblay@example.com',
      '2026-11-01T10:00:06Z,,login failed for jean.tremblay@example.community',
      '2026-11-01T10:00:07Z,Jean.Tremblay+voip@Example.com,login ok',
    ];
    const key = 'app/2026-11-01.csv';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: rows.join('\n') + '\n' }));
    const identity: Identity = { email: ['jean.tremblay@example.com'] };
    const findings = await s3RecordsConnector.discover(app, identity, context());
    expect(findings.map((f) => (f.locator as S3RecordLocator).line).sort()).toEqual([1, 2, 3, 4]);
    await s3RecordsConnector.apply(app, identity, deleteAll(findings), context());
    expect((await body(bucket, key)).toString()).toBe([rows[0], ...rows.slice(5)].map((r) => `${r}\n`).join(''));
  });
});
