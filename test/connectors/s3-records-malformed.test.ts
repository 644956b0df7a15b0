/**
 * Log records that do not parse but hold a subject's identifier: a truncated JSON line, a CSV row
 * whose quote never closes. Discovery finds them by the identifier standing in their bytes as a
 * whole token; erasure redacts that token in place and keeps every other byte (of the line and
 * of every other record); `malformed: report` leaves them and reports them instead. Against the
 * project's own S3 server, through the whole stage, verify, conditional-replace rewrite.
 */
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3RecordsConnector } from '../../functions/connectors/s3-records';
import { identifierTokens } from '../../functions/connectors/s3-records-malformed';
import type { ConnectorContext, Identity } from '../../functions/connectors/types';

import { S3RecordsStoreSchema, type S3RecordsStore } from '../../functions/core/datamap';
import type { IdentifierSettings } from '../../functions/core/identifiers';
import { RecordMatcher } from '../../functions/core/matching';
import { appLogStore, deleteAll, sipLogStore, useLogStores, versionTexts } from '../support/log-store';

const fx = useLogStores('mal');
let s3: S3Client;
const connector = createS3RecordsConnector();
beforeAll(() => {
  s3 = fx.s3;
});

const context = (): ConnectorContext => fx.context();

const PHONE = '+15145550101';
const subject: Identity = { phone: [PHONE], accountId: ['cust-1'], email: ['bob@example.com'] };

function sipStore(bucket: string, malformed?: 'redact' | 'report'): S3RecordsStore {
  return sipLogStore(bucket, malformed ? { malformed } : {});
}

function appStore(bucket: string): S3RecordsStore {
  return appLogStore(bucket);
}

const newBucket = () => fx.newBucket();
/** Every version of every key in the bucket (staging included), decompressed. */
const everyVersion = (bucket: string) => versionTexts(s3, bucket);

const SIP = [
  `{"ts":"2026-11-01T10:00:00Z","from":"sip:${PHONE}@pbx","to":"sip:+15145559999@pbx"}`,
  `{"ts":"2026-11-01T10:00:01Z","from":"sip:+15145559999@pbx","to":"sip:+15145558888@pbx"}`,
  // Truncated mid-record (a crashed writer): the subject's number, a near miss, another person's.
  `{"ts":"2026-11-01T10:00:02Z","from":"sip:${PHONE}@pbx","to":"sip:${PHONE}2@pbx","via":"+15145557777","note":"cut here`,
  `{"ts":"2026-11-01T10:00:03Z","from":"sip:+15145557777@pbx","to":"sip:+15145558888@pbx"}`,
];

describe('a truncated JSON line holding the subject phone number', () => {
  test('is found, its number redacted in place, every other byte kept; no version holds the number afterwards', async () => {
    const bucket = await newBucket();
    const key = 'sip/2026/11/01/10.jsonl.gz';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(SIP.join('\n') + '\n') }));
    const store = sipStore(bucket);
    const findings = await connector.discover(store, subject, context());
    expect(findings.map((f) => [(f.locator as { line: number }).line, f.malformed ?? false])).toEqual([
      [1, false],
      [3, true],
    ]);
    const result = await connector.apply(store, subject, deleteAll(findings), context());
    expect(result).toEqual({ applied: { delete: 2 }, refused: [], missing: [], malformedKept: 0 });

    const texts = await everyVersion(bucket);
    expect(texts).toEqual([[SIP[1], SIP[2].replace(`sip:${PHONE}@`, 'sip:[REDACTED]@'), SIP[3]].join('\n') + '\n']);
    // The near miss (the number with one more digit) and the other person's number are untouched.
    expect(texts[0]).toContain(`sip:${PHONE}2@pbx`);
    expect(texts[0]).toContain('+15145557777');
    expect(await connector.discover(store, subject, context())).toEqual([]);
  });

  test('with `malformed: report`, the line is kept byte for byte and refused with its reason', async () => {
    const bucket = await newBucket();
    const key = 'sip/2026/11/01/11.jsonl.gz';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(SIP.join('\n') + '\n') }));
    const store = sipStore(bucket, 'report');
    const findings = await connector.discover(store, subject, context());
    const result = await connector.apply(store, subject, deleteAll(findings), context());
    const malformed = findings.find((f) => f.malformed)!;
    expect(result).toEqual({ applied: { delete: 1 }, refused: [{ findingId: malformed.id, reason: 'malformed-record' }], missing: [], malformedKept: 1 });
    expect(await everyVersion(bucket)).toEqual([[SIP[1], SIP[2], SIP[3]].join('\n') + '\n']);
    // Still found: verification counts it as left.
    expect((await connector.discover(store, subject, context())).map((f) => f.malformed)).toEqual([true]);
  });

  test("the retention sweep's batch erasure redacts it too", async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sip/a.jsonl.gz', Body: gzipSync(SIP.join('\n')) }));
    const out = await connector.eraseFromStore(sipStore(bucket), new Map([['s', subject]]), context());
    expect(out).toMatchObject({ rewritten: 1, removed: 1, redacted: 1, malformedKept: 0, refused: [] });
    expect(await everyVersion(bucket)).toEqual([[SIP[1], SIP[2].replace(`sip:${PHONE}@`, 'sip:[REDACTED]@'), SIP[3]].join('\n')]);
  });
});

describe('a truncated line holding the subject\'s number or address as people write them', () => {
  /** Free-text notes read for numbers (Canada the default country) and addresses. */
  function notesStore(bucket: string): S3RecordsStore {
    return S3RecordsStoreSchema.parse({
      name: 'support-notes',
      kind: 's3-records',
      category: 'logs',
      bucket,
      prefix: 'notes/',
      format: 'jsonl',
      compression: 'none',
      identifiers: { phone: { defaultCountry: 'CA' } },
      fields: [
        { path: 'from', identifier: 'phone', match: 'token' },
        { path: 'note', identifier: 'phone', match: 'token' },
        { path: 'note', identifier: 'email', match: 'token' },
      ],
      erase: { mode: 'delete-record' },
    });
  }
  const other = `{"ts":"2026-11-01T09:00:00Z","from":"sip:+15145559999@pbx","note":"call back (514) 555-9999, write to carol@example.com"}`;
  const tail = `{"ts":"2026-11-01T09:00:09Z","from":"sip:+15145557777@pbx","note":"ok"}`;

  async function eraseFrom(truncated: string): Promise<string> {
    const bucket = await newBucket();
    const body = [other, truncated, tail].join('\n') + '\n';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'notes/2026-11-01.jsonl', Body: body }));
    const store = notesStore(bucket);
    const findings = await connector.discover(store, subject, context());
    expect(findings.map((f) => [(f.locator as { line: number }).line, f.malformed ?? false])).toEqual([[2, true]]);
    expect(await connector.apply(store, subject, deleteAll(findings), context())).toEqual({ applied: { delete: 1 }, refused: [], missing: [], malformedKept: 0 });
    const texts = await everyVersion(bucket);
    expect(texts).toHaveLength(1);
    expect(await connector.discover(store, subject, context())).toEqual([]);
    const lines = texts[0].split('\n');
    // The lines of others, byte for byte and in order.
    expect([lines[0], lines[2], lines[3]]).toEqual([other, tail, '']);
    return lines[1];
  }

  test('the number written (514) 555-0101 is redacted whole; near misses and other numbers are kept', async () => {
    const line = await eraseFrom(
      `{"ts":"2026-11-01T09:00:01Z","from":"sip:+15145559999@pbx","note":"callback (514) 555-0101, not 514-555-01012 nor (514) 555-0102, also +1 514 555 0101 or sip:5145550101@pbx`,
    );
    expect(line).toBe(`{"ts":"2026-11-01T09:00:01Z","from":"sip:+15145559999@pbx","note":"callback [REDACTED], not 514-555-01012 nor (514) 555-0102, also [REDACTED] or sip:[REDACTED]@pbx`);
  });

  test('a mixed-case address is redacted whole; a longer address around it is kept', async () => {
    const line = await eraseFrom(`{"ts":"2026-11-01T09:00:02Z","from":"sip:+15145559999@pbx","note":"ticket from Bob@Example.COM (cc alice.bob@example.com, BOB@EXAMPLE.COM.au) re`);
    expect(line).toBe(`{"ts":"2026-11-01T09:00:02Z","from":"sip:+15145559999@pbx","note":"ticket from [REDACTED] (cc alice.bob@example.com, BOB@EXAMPLE.COM.au) re`);
  });
});

describe('a CSV row that does not frame, holding the subject account id and email', () => {
  const CSV = [
    'timestamp,accountId,email,message',
    '2026-11-01T10:00:00Z,cust-10,bobby@example.com,login ok',
    // The quote never closes: this line alone is malformed. cust-10 and bobby@ are near misses.
    '2026-11-01T10:00:01Z,cust-1,"reset for bob@example.com and cust-10, bobby@example.com',
    '2026-11-01T10:00:02Z,cust-7,carol@example.com,mail to bob@example.com.',
    '2026-11-01T10:00:03Z,cust-8,dan@example.com,x',
    '',
  ].join('\r\n');

  test('has exactly the subject tokens redacted in place; the other rows byte for byte', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'app/2026-11-01.csv', Body: CSV, ContentType: 'text/csv' }));
    const store = appStore(bucket);
    const findings = await connector.discover(store, subject, context());
    expect(findings.map((f) => f.malformed ?? false)).toEqual([true, false]);
    const result = await connector.apply(store, subject, deleteAll(findings), context());
    expect(result.applied).toEqual({ delete: 2 });
    const lines = CSV.split('\r\n');
    expect(await everyVersion(bucket)).toEqual([
      [lines[0], lines[1], '2026-11-01T10:00:01Z,[REDACTED],"reset for [REDACTED] and cust-10, bobby@example.com', lines[4], ''].join('\r\n'),
    ]);
    expect(await connector.discover(store, subject, context())).toEqual([]);
  });
});

describe('identifierTokens: whole tokens only, in whatever form the prefilter holds', () => {
  const tokens = (text: string, identity: Identity, format: 'jsonl' | 'csv' = 'jsonl', settings: IdentifierSettings = {}) => {
    const matcher = new RecordMatcher(
      [
        { path: 'a', identifier: 'accountId', match: 'token' },
        { path: 'p', identifier: 'phone', match: 'token' },
        { path: 'e', identifier: 'email', match: 'token' },
      ],
      new Map([['s', identity]]),
      format,
      settings,
    );
    const buf = Buffer.from(text);
    // Offsets are byte offsets.
    return identifierTokens(matcher, buf, 0, buf.length).map((t) => buf.subarray(t.start, t.end).toString('utf8'));
  };

  test('cust-1 inside cust-10 or xcust-1 is no hit; cust-1 before a comma, quote or full stop is', () => {
    expect(tokens('{"a":"cust-10","b":"xcust-1","c":"cust-1_2"', { accountId: ['cust-1'] })).toEqual([]);
    expect(tokens('{"a":"cust-1","b":cust-1,"c":"see cust-1.', { accountId: ['cust-1'] })).toEqual(['cust-1', 'cust-1', 'cust-1']);
  });

  test('a phone number inside a longer number is no hit; special characters are literal', () => {
    expect(tokens(`x ${PHONE}2 1${PHONE} ${PHONE}`, { phone: [PHONE] })).toEqual([PHONE]);
    expect(tokens('to a+b@example.com, not aab@example.com', { email: ['a+b@example.com'] })).toEqual(['a+b@example.com']);
  });

  test('a value only `value` fields read counts where it stands quoted, as field matching reads it; bytes beyond ASCII are literal', () => {
    const matcher = new RecordMatcher([{ path: 'a', identifier: 'accountId', match: 'value' }], new Map([['s', { accountId: ['cust-1', 'josé-1'] }]]), 'jsonl');
    const text = '{"a":"cust-1","b":"cust-1 x","c":"cust-10","d":"josé-10","e":"josé-1","f":"cust-1';
    const buf = Buffer.from(text);
    const found = identifierTokens(matcher, buf, 0, buf.length).map((t) => buf.subarray(t.start, t.end).toString('utf8'));
    expect(found).toEqual(['cust-1', 'josé-1']);
    expect(identifierTokens(matcher, buf, 0, buf.length)[1].start).toBe(text.indexOf('josé-1"') + 1);
  });

  const CANADA: IdentifierSettings = { phone: { defaultCountry: 'CA' } };

  test('the whole written value is the token, whatever form the prefilter hit', () => {
    const written = '{"p":"1-514-555-0101 / +1 (514) 555-0101 / sip:+15145550101@pbx;user=phone / +1.514.555.0101 / 5145550101","e":"Mail: <BoB@eXample.com>';
    expect(tokens(written, { phone: [PHONE], email: ['bob@example.com'] }, 'jsonl', CANADA)).toEqual(['1-514-555-0101', '+1 (514) 555-0101', '+15145550101', '+1.514.555.0101', '5145550101', 'BoB@eXample.com']);
    // Another number that ends in the same exchange and line, or one run on into more digits, is none.
    expect(tokens('(438) 555-0101, 51455501013, x5145550101, 1+5145550101', { phone: [PHONE] }, 'jsonl', CANADA)).toEqual([]);
  });
});
