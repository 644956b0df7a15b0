/**
 * The s3-records connector against the project's own S3 server (versioning, If-Match, Object
 * Lock): discovery, safe erasure by rewrite, export, and what happens when objects change,
 * break or are protected.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

import { type S3RecordsStore } from '../../functions/core/datamap';
import { createS3RecordsConnector, s3RecordsConnector, type S3RecordsOptions } from '../../functions/connectors/s3-records';
import type { ConnectorContext, ExportItem, Finding, Identity, S3RecordLocator } from '../../functions/connectors/types';
import { appLogStore, deleteAll, LOG_FIELDS as F, objectBytes, sipLogStore, useLogStores } from '../support/log-store';

const fx = useLogStores('logs');
let s3: S3Client;
beforeAll(() => {
  s3 = fx.s3;
});

const logs: Array<{ event: string; fields?: Record<string, unknown> }> = [];
function context(now = new Date('2026-11-22T12:00:00Z')): ConnectorContext {
  return fx.context({ now, log: (e) => void logs.push(e) });
}

/** Object Lock on: some tests here place legal holds and retention. */
const newBucket = () => fx.newBucket({ objectLock: true });

function sipStore(bucket: string, extra: Partial<S3RecordsStore> = {}): S3RecordsStore {
  return sipLogStore(bucket, { fields: [F.from, F.to, F.sipUser, F.sourceIp, F.deviceId], dateField: 'ts', ...extra });
}

function appStore(bucket: string): S3RecordsStore {
  return appLogStore(bucket, { fields: [F.accountId, F.email, F.clientIp, F.message], dateField: 'timestamp' });
}

const alice: Identity = { phone: ['+15145550101'], sipUsername: ['alice'], deviceId: ['dev-a1'], ip: ['10.0.0.1'] };
const bob: Identity = { phone: ['+15145550202'], accountId: ['cust-1'], email: ['bob@example.com'] };
const carol: Identity = { phone: ['+15145550303'], sipUsername: ['carol'] };
const PERSONAL = ['+15145550101', '+15145550202', '+15145550303', 'alice', 'bob@example.com', 'cust-1', 'dev-a1', '10.0.0.1', 'carol'];

function sip(i: number, o: Record<string, unknown>): string {
  return JSON.stringify({ ts: `2026-11-01T10:00:${String(i).padStart(2, '0')}Z`, ...o });
}

/** A realistic hour of SIP log: the three subjects, near misses, a blank and a malformed line, CRLF on one line, no final newline. */
const SIP_TEXT = [
  sip(0, { from: 'sip:+15145550101@pbx.voip.example', to: 'sip:+15145559999@pbx.voip.example', sipUser: 'alice' }),
  sip(1, { from: 'sip:+151455501012@pbx.voip.example', to: 'sip:+15145559999@pbx.voip.example', sipUser: 'alice2' }),
  sip(2, { from: 'sip:+15145550202@pbx.voip.example', to: 'sip:+15145550303@pbx.voip.example' }),
  '',
  // Truncated, and holding no subject's identifier: kept byte for byte (see s3-records-malformed.test.ts for one that does).
  '{"ts":"2026-11-01T10:00:03Z","from":"sip:+15145559999@pbx", TRUNCATED',
  sip(4, { sourceIp: '10.0.0.10', userAgent: { deviceId: 'dev-a10', name: 'Yealink "T46S"' } }) + '\r',
  sip(5, { sourceIp: '10.0.0.1', userAgent: { deviceId: 'dev-x' } }),
  sip(6, { from: 'sip:+15145559999@pbx', to: 'sip:+15145558888@pbx', sipUser: 'dave' }),
  sip(7, { from: 'sip:carol@pbx', sipUser: 'carol' }),
].join('\n');

const CSV_TEXT = [
  'timestamp,accountId,email,clientIp,message',
  '2026-11-01T10:00:00Z,cust-1,bob@example.com,10.1.1.1,login ok',
  '2026-11-01T10:00:01Z,cust-10,bobby@example.com,10.1.1.2,login ok',
  '2026-11-01T10:00:02Z,cust-7,carol@example.com,10.1.1.3,"password reset sent to bob@example.com,',
  'then ""confirmed"""',
  '2026-11-01T10:00:03Z,cust-7,carol@example.com,10.1.1.3,mail from alice.bob@example.com rejected',
  '"2026-11-01T10:00:04Z,oops,unclosed',
  '2026-11-01T10:00:05Z,cust-8,dan@example.com,10.1.1.4,x',
  '',
].join('\r\n');

async function put(bucket: string, key: string, body: string | Buffer, contentType = 'application/x-ndjson'): Promise<{ etag: string; versionId: string }> {
  const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, Metadata: { source: 'pbx-7' } }));
  return { etag: out.ETag as string, versionId: out.VersionId as string };
}

const getBytes = (bucket: string, key: string, versionId?: string) => objectBytes(s3, bucket, key, versionId);

async function versions(bucket: string, prefix = ''): Promise<Array<{ key: string; versionId: string; deleteMarker: boolean }>> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
  return [
    ...(out.Versions ?? []).map((v) => ({ key: v.Key as string, versionId: v.VersionId as string, deleteMarker: false })),
    ...(out.DeleteMarkers ?? []).map((v) => ({ key: v.Key as string, versionId: v.VersionId as string, deleteMarker: true })),
  ];
}

/** The physical lines of a text, each with its terminator. */
function physicalLines(text: string): string[] {
  return text.split(/(?<=\n)/).filter((l) => l !== '');
}

function line(f: Finding): number {
  return (f.locator as S3RecordLocator).line;
}

afterEach(() => {
  // Logs carry hashes and counts, never an identifier value or record content.
  const text = JSON.stringify(logs);
  for (const value of PERSONAL) expect(text.includes(value)).toBe(false);
  logs.length = 0;
});

describe('discover', () => {
  test('one finding per matching record, with locator, fields and date; near misses never match', async () => {
    const bucket = await newBucket();
    const store = sipStore(bucket);
    const { etag } = await put(bucket, 'sip/2026/11/01/10.jsonl.gz', gzipSync(SIP_TEXT));
    await put(bucket, 'other/ignored.jsonl.gz', gzipSync(SIP_TEXT)); // outside the prefix
    const findings = await s3RecordsConnector.discover(store, alice, context());
    expect(findings.map((f) => [line(f), f.fields])).toEqual([
      [1, ['from', 'sipUser']],
      [7, ['sourceIp']],
    ]);
    const first = findings[0];
    const loc = first.locator as S3RecordLocator;
    expect(loc).toEqual({
      type: 's3-record',
      bucket,
      key: 'sip/2026/11/01/10.jsonl.gz',
      etag,
      line: 1,
      fingerprint: createHash('sha256').update(SIP_TEXT.split('\n')[0]).digest('hex'),
    });
    expect(first).toMatchObject({ store: 'sip-logs', role: 'owner', date: '2026-11-01T10:00:00.000Z' });
    expect(first.id).toMatch(/^[0-9a-f]{64}$/);
    // Stable ids: the same record gives the same finding id on a second run.
    expect((await s3RecordsConnector.discover(store, alice, context())).map((f) => f.id)).toEqual(findings.map((f) => f.id));
    expect(await s3RecordsConnector.discover(store, { phone: ['+1514555010'] }, context())).toEqual([]);
  });

  test('a batch of subjects is served by one pass, each subject getting its own findings', async () => {
    const bucket = await newBucket();
    await put(bucket, 'sip/a.jsonl.gz', gzipSync(SIP_TEXT));
    await put(bucket, 'sip/b.jsonl.gz', gzipSync(SIP_TEXT.split('\n').slice(0, 3).join('\n')));
    const result = await s3RecordsConnector.scanStore(sipStore(bucket), new Map([['alice', alice], ['bob', bob], ['carol', carol]]), context());
    const summary = (ref: string) => (result.findings.get(ref) ?? []).map((f) => `${(f.locator as S3RecordLocator).key}:${line(f)}`);
    expect(summary('alice')).toEqual(['sip/a.jsonl.gz:1', 'sip/a.jsonl.gz:7', 'sip/b.jsonl.gz:1']);
    expect(summary('bob')).toEqual(['sip/a.jsonl.gz:3', 'sip/b.jsonl.gz:3']);
    expect(summary('carol')).toEqual(['sip/a.jsonl.gz:3', 'sip/a.jsonl.gz:9', 'sip/b.jsonl.gz:3']);
    expect(result.totals).toMatchObject({ objects: 2, records: 12, malformed: 1, matched: 6 });
  });

  test('a corrupt gzip object is reported and left alone; the other objects are still searched', async () => {
    const bucket = await newBucket();
    const gz = gzipSync(SIP_TEXT);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0, 30, 60);
    const bad = await put(bucket, 'sip/corrupt.jsonl.gz', corrupt);
    await put(bucket, 'sip/good.jsonl.gz', gz);
    const store = sipStore(bucket);
    const result = await s3RecordsConnector.scanStore(store, new Map([['alice', alice]]), context());
    expect(result.unreadable).toEqual([{ key: 'sip/corrupt.jsonl.gz', keyHash: expect.stringMatching(/^[0-9a-f]{16}$/), reason: 'corrupt-gzip' }]);
    expect(result.findings.get('alice')?.map((f) => (f.locator as S3RecordLocator).key)).toEqual(['sip/good.jsonl.gz', 'sip/good.jsonl.gz']);
    expect(logs.some((l) => l.event === 's3-records.unreadable' && l.fields?.reason === 'corrupt-gzip')).toBe(true);
    // discover does not throw either, and tells the caller through ctx.onUnreadable
    const told: unknown[] = [];
    expect(await s3RecordsConnector.discover(store, alice, { ...context(), onUnreadable: (item) => void told.push(item) })).toHaveLength(2);
    expect(told).toEqual([{ store: 'sip-logs', ref: result.unreadable[0].keyHash, reason: 'corrupt-gzip' }]);
    // an erase of the whole store leaves it as it was
    const erased = await s3RecordsConnector.eraseFromStore(store, new Map([['alice', alice]]), context());
    expect(erased.unreadable.map((u) => u.reason)).toEqual(['corrupt-gzip']);
    const after = await getBytes(bucket, 'sip/corrupt.jsonl.gz');
    expect(after.etag).toBe(bad.etag);
    expect(after.body.equals(corrupt)).toBe(true);
  });

  test('CSV: header names the columns, quoted multi-line fields, the record number excludes the header', async () => {
    const bucket = await newBucket();
    await put(bucket, 'app/2026-11-01.csv', CSV_TEXT, 'text/csv');
    const findings = await s3RecordsConnector.discover(appStore(bucket), bob, context());
    expect(findings.map((f) => [line(f), f.fields, f.date])).toEqual([
      [1, ['accountId', 'email'], '2026-11-01T10:00:00.000Z'],
      [3, ['message'], '2026-11-01T10:00:02.000Z'],
    ]);
  });

  test('Object Lock on the current version shows in the findings', async () => {
    const bucket = await newBucket();
    const { versionId } = await put(bucket, 'sip/held.jsonl.gz', gzipSync(SIP_TEXT));
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'sip/held.jsonl.gz', VersionId: versionId, LegalHold: { Status: 'ON' } }));
    const findings = await s3RecordsConnector.discover(sipStore(bucket), alice, context());
    expect(findings.map((f) => f.protection)).toEqual([{ legalHold: true }, { legalHold: true }]);
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'sip/held.jsonl.gz', VersionId: versionId, LegalHold: { Status: 'OFF' } }));
  });
});

describe('apply (erase)', () => {
  test('gzip JSON Lines: the planned records go, every other byte stays, old versions are deleted', async () => {
    const bucket = await newBucket();
    const key = 'sip/2026/11/01/10.jsonl.gz';
    const older = await put(bucket, key, gzipSync('{"ts":"older version","from":"sip:+15145550101@pbx"}\n'));
    await put(bucket, key, gzipSync(SIP_TEXT));
    const store = sipStore(bucket);
    const findings = await s3RecordsConnector.discover(store, alice, context());
    // Two records in the current version, and one in the older version, which still holds it.
    expect(findings).toHaveLength(3);
    expect(findings.map((f) => (f.locator as S3RecordLocator).versionId)).toEqual([undefined, undefined, older.versionId]);
    const result = await s3RecordsConnector.apply(store, alice, deleteAll(findings), context());
    expect(result).toEqual({ applied: { delete: 3 }, refused: [], missing: [], malformedKept: 1 });

    const after = await getBytes(bucket, key);
    const text = gunzipSync(after.body).toString();
    const removed = new Set(findings.filter((f) => !(f.locator as S3RecordLocator).versionId).map((f) => line(f) - 1));
    expect(text).toBe(
      physicalLines(SIP_TEXT)
        .filter((_l, i) => !removed.has(i))
        .join(''),
    );
    expect(text.endsWith(SIP_TEXT.split('\n').at(-1) as string)).toBe(true); // still no final newline
    expect(text).toContain('TRUNCATED'); // the malformed line is still there, byte for byte
    expect(after.contentType).toBe('application/x-ndjson');
    expect(after.metadata).toEqual({ source: 'pbx-7' });
    // Only the new version is left: the old ones held the erased records. No staging leftovers.
    const left = await versions(bucket);
    expect(left).toHaveLength(1);
    expect(left[0].versionId).not.toBe(older.versionId);
    expect(await s3RecordsConnector.discover(store, alice, context())).toEqual([]);
    // other subjects are untouched
    expect(await s3RecordsConnector.discover(store, carol, context())).toHaveLength(2);
  });

  test('CSV: header and other records byte for byte, multi-line record removed, malformed line kept', async () => {
    const bucket = await newBucket();
    const key = 'app/2026-11-01.csv';
    await put(bucket, key, CSV_TEXT, 'text/csv');
    const store = appStore(bucket);
    const findings = await s3RecordsConnector.discover(store, bob, context());
    const result = await s3RecordsConnector.apply(store, bob, deleteAll(findings), context());
    expect(result).toEqual({ applied: { delete: 2 }, refused: [], missing: [], malformedKept: 1 });
    const after = await getBytes(bucket, key);
    const lines = CSV_TEXT.split(/(?<=\r\n)/);
    expect(after.body.toString()).toBe([lines[0], lines[2], lines[5], lines[6], lines[7]].join(''));
    expect(after.body[0]).not.toBe(0x1f); // not compressed, as the source was not
    expect(after.contentType).toBe('text/csv');
  });

  test('a delete marker and every older version of the key are removed; a version under legal hold is refused and reported', async () => {
    const bucket = await newBucket();
    const key = 'sip/held-history.jsonl.gz';
    const v1 = await put(bucket, key, gzipSync(SIP_TEXT));
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: key, VersionId: v1.versionId, LegalHold: { Status: 'ON' } }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    expect(marker.DeleteMarker).toBe(true);
    const v2 = await put(bucket, key, gzipSync(SIP_TEXT + '\n' + sip(9, { sipUser: 'alice' })));
    expect(await versions(bucket)).toHaveLength(3);
    const store = sipStore(bucket);
    const findings = await s3RecordsConnector.discover(store, alice, context());
    // Three records in the current version, two in the held one under the delete marker.
    expect(findings).toHaveLength(5);
    expect(findings.filter((f) => (f.locator as S3RecordLocator).versionId === v1.versionId)).toHaveLength(2);
    const result = await s3RecordsConnector.apply(store, alice, deleteAll(findings), context());
    // The current version is rewritten, but the held version still holds the records: refused, with the reason.
    expect(result.applied).toEqual({});
    expect(result.refused).toEqual(findings.map((f) => ({ findingId: f.id, reason: 'legal-hold' })));
    const left = await versions(bucket);
    expect(left.map((v) => v.versionId)).toContain(v1.versionId);
    expect(left.map((v) => v.versionId)).not.toContain(v2.versionId);
    expect(left.map((v) => v.versionId)).not.toContain(marker.VersionId);
    expect(left).toHaveLength(2);
    const held = await getBytes(bucket, key, v1.versionId);
    expect(gunzipSync(held.body).toString()).toBe(SIP_TEXT); // never touched
    // What is left of the subject is exactly the held version's records, and discovery says so.
    const again = await s3RecordsConnector.discover(store, alice, context());
    expect(again.map((f) => [(f.locator as S3RecordLocator).versionId, f.protection])).toEqual([
      [v1.versionId, { legalHold: true }],
      [v1.versionId, { legalHold: true }],
    ]);
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: key, VersionId: v1.versionId, LegalHold: { Status: 'OFF' } }));
  });

  test('a current version under legal hold is not rewritten at all', async () => {
    const bucket = await newBucket();
    const key = 'sip/held-now.jsonl.gz';
    const v1 = await put(bucket, key, gzipSync(SIP_TEXT));
    const store = sipStore(bucket);
    const findings = await s3RecordsConnector.discover(store, alice, context());
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: key, VersionId: v1.versionId, LegalHold: { Status: 'ON' } }));
    const result = await s3RecordsConnector.apply(store, alice, deleteAll(findings), context());
    expect(result.refused).toEqual(findings.map((f) => ({ findingId: f.id, reason: 'legal-hold' })));
    expect(result.applied).toEqual({});
    expect(await versions(bucket)).toEqual([{ key, versionId: v1.versionId, deleteMarker: false }]);
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: key, VersionId: v1.versionId, LegalHold: { Status: 'OFF' } }));
  });

  test('an object changed between discovery and erase (stale ETag): re-matched by fingerprint, the new record survives', async () => {
    const bucket = await newBucket();
    const key = 'sip/changing.jsonl.gz';
    await put(bucket, key, gzipSync(SIP_TEXT));
    const store = sipStore(bucket);
    const findings = await s3RecordsConnector.discover(store, alice, context());
    // Meanwhile the writer prepends a line (shifting every line number) and appends another.
    const newRecord = sip(30, { from: 'sip:+15145557777@pbx', sipUser: 'erin' });
    const changed = `${newRecord}\n${SIP_TEXT}\n${newRecord}`;
    await put(bucket, key, gzipSync(changed));
    const result = await s3RecordsConnector.apply(store, alice, deleteAll(findings), context());
    expect(result).toMatchObject({ applied: { delete: 2 }, missing: [] });
    const text = gunzipSync((await getBytes(bucket, key)).body).toString();
    const removed = new Set(findings.map((f) => line(f))); // old line n is now line n + 1
    expect(text).toBe(
      physicalLines(changed)
        .filter((_l, i) => !removed.has(i))
        .join(''),
    );
    expect(text.split(newRecord)).toHaveLength(3);
    expect(logs.some((l) => l.event === 's3-records.rewritten' && l.fields?.etagChanged === true)).toBe(true);
  });

  test('an object changed during the rewrite: the conditional replace fails, the rewrite is redone, nothing written meanwhile is lost', async () => {
    const bucket = await newBucket();
    const key = 'sip/racing.jsonl.gz';
    await put(bucket, key, gzipSync(SIP_TEXT));
    const store = sipStore(bucket);
    const written = sip(40, { from: 'sip:+15145556666@pbx', sipUser: 'frank' });
    const aliceLate = sip(41, { sipUser: 'alice' });
    const attempts: number[] = [];
    const connector = createS3RecordsConnector({
      beforeReplace: async ({ attempt }) => {
        attempts.push(attempt);
        if (attempt === 1) await put(bucket, key, gzipSync(`${SIP_TEXT}\n${written}\n${aliceLate}\n`));
      },
    });
    const findings = await connector.discover(store, alice, context());
    const result = await connector.apply(store, alice, deleteAll(findings), context());
    expect(attempts).toEqual([1, 2]);
    expect(result).toMatchObject({ applied: { delete: 2 }, missing: [] });
    const text = gunzipSync((await getBytes(bucket, key)).body).toString();
    expect(text).toContain(written);
    // alice's record written meanwhile was not planned: kept, and found by the next discovery
    expect(text).toContain(aliceLate);
    expect((await connector.discover(store, alice, context())).map(line)).toEqual([9]); // line 11 before two lines went
    expect(logs.filter((l) => l.event === 's3-records.changed-meanwhile')).toHaveLength(1);
    expect((await versions(bucket)).filter((v) => !v.deleteMarker)).toHaveLength(1);
  });

  test('an object that keeps changing ends in ConcurrentModificationError, the original intact', async () => {
    const bucket = await newBucket();
    const key = 'sip/busy.jsonl.gz';
    await put(bucket, key, gzipSync(SIP_TEXT));
    const store = sipStore(bucket);
    let n = 0;
    const connector = createS3RecordsConnector({
      maxAttempts: 2,
      beforeReplace: async () => void (await put(bucket, key, gzipSync(`${SIP_TEXT}\n${sip(50 + n++, { sipUser: 'x' })}`))),
    });
    const findings = await connector.discover(store, alice, context());
    await expect(connector.apply(store, alice, deleteAll(findings), context())).rejects.toMatchObject({ name: 'ConcurrentModification' });
    const text = gunzipSync((await getBytes(bucket, key)).body).toString();
    expect(text).toBe(`${SIP_TEXT}\n${sip(51, { sipUser: 'x' })}`);
    expect((await versions(bucket)).filter((v) => v.key.startsWith('.dsr-rewrite/'))).toEqual([]);
  });

  test('records already gone are reported missing; restrict and keep are counted without a rewrite', async () => {
    const bucket = await newBucket();
    const key = 'sip/x.jsonl.gz';
    const store = sipStore(bucket);
    await put(bucket, key, gzipSync(SIP_TEXT));
    const findings = await s3RecordsConnector.discover(store, alice, context());
    const before = await versions(bucket);
    const restricted = await s3RecordsConnector.apply(
      store,
      alice,
      findings.map((finding, i) => ({ finding, action: i === 0 ? ('restrict' as const) : ('keep' as const) })),
      context(),
    );
    expect(restricted).toEqual({ applied: { restrict: 1, keep: 1 }, refused: [], missing: [], malformedKept: 0 });
    expect(await versions(bucket)).toEqual(before);
    await put(bucket, key, gzipSync(SIP_TEXT.split('\n').slice(1).join('\n')));
    const result = await s3RecordsConnector.apply(store, alice, deleteAll(findings), context());
    expect(result.applied).toEqual({ delete: 1 });
    expect(result.missing).toEqual([findings[0].id]);
  });

  test('redact mode: named fields anonymized and the record re-serialized; the others byte for byte', async () => {
    const bucket = await newBucket();
    const key = 'sip/redact.jsonl.gz';
    await put(bucket, key, gzipSync(SIP_TEXT));
    const store = sipStore(bucket, {
      erase: { mode: 'redact', fields: { from: { strategy: 'redact', token: '[REDACTED]' }, sipUser: { strategy: 'hmac' }, sourceIp: { strategy: 'null' } } },
    });
    const findings = await s3RecordsConnector.discover(store, alice, context());
    const result = await s3RecordsConnector.apply(store, alice, deleteAll(findings), context());
    expect(result.applied).toEqual({ delete: 2 });
    const out = physicalLines(gunzipSync((await getBytes(bucket, key)).body).toString());
    const orig = physicalLines(SIP_TEXT);
    expect(out).toHaveLength(orig.length);
    expect(JSON.parse(out[0])).toEqual({ ts: '2026-11-01T10:00:00Z', from: '[REDACTED]', to: 'sip:+15145559999@pbx.voip.example', sipUser: expect.stringMatching(/^hmac:[0-9a-f]{32}$/) });
    expect(JSON.parse(out[6])).toEqual({ ts: '2026-11-01T10:00:05Z', sourceIp: null, userAgent: { deviceId: 'dev-x' } });
    for (const i of [1, 2, 3, 4, 5, 7, 8]) expect(out[i]).toBe(orig[i]);
    expect(await s3RecordsConnector.discover(store, alice, context())).toEqual([]);
  });

  test('the sweep reads each object once: in one round or in small rounds, the same bytes; a rewritten object is read by the scan only', async () => {
    const subjects = new Map([['alice', alice], ['bob', bob], ['carol', carol]]);
    const texts: string[] = [];
    // 4,000 at concurrency 1: rounds of a key or two (sizes estimated from the stored bytes, gzip as 10x), each kept.
    for (const roundBytes of [0, undefined, 4000]) {
      const bucket = await newBucket();
      const store = sipStore(bucket);
      await put(bucket, 'sip/a.jsonl.gz', gzipSync(SIP_TEXT));
      await put(bucket, 'sip/b.jsonl.gz', gzipSync(SIP_TEXT.split('\n').slice(6).join('\n')));
      await put(bucket, 'sip/none.jsonl.gz', gzipSync(sip(0, { sipUser: 'dave' })));
      const gets: Record<string, number> = {};
      const name = `sweep-reads-${roundBytes}`;
      s3.middlewareStack.add(
        (next, c) => async (args) => {
          const key = (args.input as { Key?: string }).Key ?? '';
          if (c.commandName === 'GetObjectCommand' && key.startsWith('sip/')) gets[key] = (gets[key] ?? 0) + 1;
          return next(args);
        },
        { step: 'initialize', name },
      );
      let result;
      try {
        result = await createS3RecordsConnector(roundBytes === undefined ? {} : { roundBytes, concurrency: 1 }).eraseFromStore(store, subjects, context());
      } finally {
        s3.middlewareStack.remove(name);
      }
      expect(result).toMatchObject({ rewritten: 2, removed: 6, redacted: 0, malformedKept: 1, refused: [], unreadable: [] });
      expect(Object.fromEntries(result.erased)).toEqual({ alice: 3, bob: 1, carol: 3 });
      // Kept by the scan, a rewritten object is not read again (roundBytes 0 keeps nothing: read twice).
      const twice = roundBytes === 0 ? 2 : 1;
      expect(gets).toEqual({ 'sip/a.jsonl.gz': twice, 'sip/b.jsonl.gz': twice, 'sip/none.jsonl.gz': 1 });
      texts.push(gunzipSync((await getBytes(bucket, 'sip/a.jsonl.gz')).body).toString() + gunzipSync((await getBytes(bucket, 'sip/b.jsonl.gz')).body).toString());
    }
    expect(new Set(texts).size).toBe(1);
  });

  test('one pass erases three subjects at once, one new version per object', async () => {
    const bucket = await newBucket();
    const store = sipStore(bucket);
    await put(bucket, 'sip/a.jsonl.gz', gzipSync(SIP_TEXT));
    await put(bucket, 'sip/b.jsonl.gz', gzipSync(SIP_TEXT.split('\n').slice(6).join('\n')));
    await put(bucket, 'sip/none.jsonl.gz', gzipSync(sip(0, { sipUser: 'dave' })));
    const subjects = new Map([['alice', alice], ['bob', bob], ['carol', carol]]);
    const result = await s3RecordsConnector.eraseFromStore(store, subjects, context());
    expect(result).toMatchObject({ rewritten: 2, removed: 6, redacted: 0, malformedKept: 1, refused: [], unreadable: [] });
    expect(Object.fromEntries(result.erased)).toEqual({ alice: 3, bob: 1, carol: 3 });
    const after = await s3RecordsConnector.scanStore(store, subjects, context());
    expect([...after.findings.values()].flat()).toEqual([]);
    expect(gunzipSync((await getBytes(bucket, 'sip/a.jsonl.gz')).body).toString()).toBe(
      physicalLines(SIP_TEXT)
        .filter((_l, i) => ![0, 2, 6, 8].includes(i))
        .join(''),
    );
    // every key has exactly one version left; the object without matches was not rewritten
    const left = await versions(bucket);
    expect(left.map((v) => v.key).sort()).toEqual(['sip/a.jsonl.gz', 'sip/b.jsonl.gz', 'sip/none.jsonl.gz']);
  });

  test('an older version under Object Lock retention is refused with its mode, also when only our clock thinks it expired', async () => {
    const bucket = await newBucket();
    const key = 'sip/retained.jsonl.gz';
    const v1 = await put(bucket, key, gzipSync(SIP_TEXT));
    const until = new Date(Date.now() + 3_600_000);
    await s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId: v1.versionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until } }));
    await put(bucket, key, gzipSync(SIP_TEXT));
    const store = sipStore(bucket);
    const findings = await s3RecordsConnector.discover(store, alice, context());
    const result = await s3RecordsConnector.apply(store, alice, deleteAll(findings), context());
    expect(result.refused).toEqual(findings.map((f) => ({ findingId: f.id, reason: 'object-lock-governance' })));
    expect((await versions(bucket)).map((v) => v.versionId)).toContain(v1.versionId);
    // Seen from a clock past the retention date, the same version is no longer protected.
    await put(bucket, key, gzipSync(SIP_TEXT));
    const later = context(new Date(until.getTime() + 1000));
    const again = await s3RecordsConnector.discover(store, alice, later);
    const r2 = await s3RecordsConnector.apply(store, alice, deleteAll(again), later);
    // our clock says expired, S3's does not: S3 refuses the delete, and the refusal is reported, never bypassed
    // (both for the rewritten current version's records and for the retained version's own)
    expect(r2.refused.map((r) => r.reason)).toEqual(Array(4).fill('object-lock-governance'));
    expect((await versions(bucket)).map((v) => v.versionId)).toContain(v1.versionId);
  });

  test('an unversioned bucket: the object is replaced in place, nothing else to delete', async () => {
    const bucket = await fx.newBucket({ versioned: false, label: 'plain' });
    const key = 'sip/plain.jsonl.gz';
    await put(bucket, key, gzipSync(SIP_TEXT));
    const store = sipStore(bucket);
    const findings = await s3RecordsConnector.discover(store, alice, context());
    expect(findings[0].locator).toMatchObject({ key });
    const result = await s3RecordsConnector.apply(store, alice, deleteAll(findings), context());
    expect(result).toEqual({ applied: { delete: 2 }, refused: [], missing: [], malformedKept: 1 });
    expect(await s3RecordsConnector.discover(store, alice, context())).toEqual([]);
    expect((await versions(bucket)).map((v) => [v.key, v.versionId])).toEqual([[key, 'null']]);
  });

  test('a big object streams through a multipart staged upload and keeps every other record', async () => {
    const bucket = await newBucket();
    const key = 'sip/big-multipart.jsonl.gz';
    // ~12 MB of poorly compressible lines: the staged upload needs two 5 MiB parts.
    const { randomBytes } = await import('node:crypto');
    const filler = Array.from({ length: 40_000 }, (_v, i) => sip(i % 60, { from: 'sip:+15145559999@pbx', blob: randomBytes(160).toString('base64') }));
    filler.splice(12_345, 0, sip(1, { sipUser: 'alice' }));
    const text = filler.join('\n') + '\n';
    const body = gzipSync(text, { level: 1 });
    expect(body.length).toBeGreaterThan(5 * 1024 * 1024);
    await put(bucket, key, body);
    const connector = createS3RecordsConnector({ partSize: 5 * 1024 * 1024, gzipLevel: 1 });
    const store = sipStore(bucket);
    const findings = await connector.discover(store, alice, context());
    expect(findings.map(line)).toEqual([12_346]);
    const result = await connector.apply(store, alice, deleteAll(findings), context());
    expect(result.applied).toEqual({ delete: 1 });
    const out = gunzipSync((await getBytes(bucket, key)).body).toString();
    expect(out).toBe(text.replace(`${sip(1, { sipUser: 'alice' })}\n`, ''));
  });

  test('large objects are replaced with a multipart copy, conditionally too', async () => {
    const bucket = await newBucket();
    const key = 'sip/big.jsonl.gz';
    await put(bucket, key, gzipSync(SIP_TEXT));
    const options: S3RecordsOptions = { multipartCopyThreshold: 0 };
    const connector = createS3RecordsConnector(options);
    const store = sipStore(bucket);
    const findings = await connector.discover(store, alice, context());
    const result = await connector.apply(store, alice, deleteAll(findings), context());
    expect(result.applied).toEqual({ delete: 2 });
    expect(await connector.discover(store, alice, context())).toEqual([]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ContentType).toBe('application/x-ndjson');
    expect(await versions(bucket)).toHaveLength(1);
  });
});

describe('export', () => {
  test('matching records as parsed JSON objects or CSV rows; gone ones reported missing', async () => {
    const bucket = await newBucket();
    await put(bucket, 'sip/a.jsonl.gz', gzipSync(SIP_TEXT));
    await put(bucket, 'app/d.csv', CSV_TEXT, 'text/csv');
    const sipFindings = await s3RecordsConnector.discover(sipStore(bucket), alice, context());
    const items: ExportItem[] = [];
    for await (const item of s3RecordsConnector.export(sipStore(bucket), alice, sipFindings, context())) items.push(item);
    expect(items).toEqual([
      { type: 'record', findingId: sipFindings[0].id, role: 'owner', record: JSON.parse(SIP_TEXT.split('\n')[0]) },
      { type: 'record', findingId: sipFindings[1].id, role: 'owner', record: JSON.parse(SIP_TEXT.split('\n')[6]) },
    ]);
    const csvFindings = await s3RecordsConnector.discover(appStore(bucket), bob, context());
    await put(bucket, 'app/d.csv', CSV_TEXT.split('\r\n').slice(0, 2).join('\r\n') + '\r\n', 'text/csv');
    const csvItems: ExportItem[] = [];
    for await (const item of s3RecordsConnector.export(appStore(bucket), bob, csvFindings, context())) csvItems.push(item);
    expect(csvItems).toEqual([
      {
        type: 'record',
        findingId: csvFindings[0].id,
        role: 'owner',
        record: { timestamp: '2026-11-01T10:00:00Z', accountId: 'cust-1', email: 'bob@example.com', clientIp: '10.1.1.1', message: 'login ok' },
      },
      { type: 'missing', findingId: csvFindings[1].id, reason: 'record-gone' },
    ]);
  });
});

describe('noncurrent versions (every version holds records until it is deleted)', () => {
  const versionOf = (f: Finding) => (f.locator as S3RecordLocator).versionId;

  test('a log object under a delete marker is discovered, exported, and erased by deleting that version alone', async () => {
    const bucket = await newBucket();
    const store = sipStore(bucket);
    const key = 'sip/2026/11/01/09.jsonl.gz';
    const v1 = await put(bucket, key, gzipSync(SIP_TEXT));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    await put(bucket, 'sip/2026/11/01/10.jsonl.gz', gzipSync(sip(0, { sipUser: 'carol' })));
    const findings = await s3RecordsConnector.discover(store, alice, context());
    expect(findings.map((f) => [(f.locator as S3RecordLocator).key, versionOf(f), line(f)])).toEqual([
      [key, v1.versionId, 1],
      [key, v1.versionId, 7],
    ]);
    const items: ExportItem[] = [];
    for await (const item of s3RecordsConnector.export(store, alice, findings, context())) items.push(item);
    expect(items.map((i) => (i.type === 'record' ? i.record : i))).toEqual([JSON.parse(SIP_TEXT.split('\n')[0]), JSON.parse(SIP_TEXT.split('\n')[6])]);

    const result = await s3RecordsConnector.apply(store, alice, deleteAll(findings), context());
    expect(result).toEqual({ applied: { delete: 2 }, refused: [], missing: [], malformedKept: 0 });
    expect(await versions(bucket, key)).toEqual([{ key, versionId: marker.VersionId, deleteMarker: true }]);
    expect(await s3RecordsConnector.discover(store, alice, context())).toEqual([]);
    // the other object, and everyone else's current records, are untouched
    expect(await s3RecordsConnector.discover(store, carol, context())).toHaveLength(1);
  });

  test('a crash leftover (a clean current version over one that still holds the subject) is found by a fresh discovery and erased', async () => {
    const bucket = await newBucket();
    const store = sipStore(bucket);
    const key = 'sip/leftover.jsonl.gz';
    const old = await put(bucket, key, gzipSync(SIP_TEXT));
    const clean = physicalLines(SIP_TEXT)
      .filter((_l, i) => i !== 0 && i !== 6)
      .join('');
    const current = await put(bucket, key, gzipSync(clean));
    const findings = await s3RecordsConnector.discover(store, alice, context());
    expect(findings.map(versionOf)).toEqual([old.versionId, old.versionId]);
    const result = await s3RecordsConnector.apply(store, alice, deleteAll(findings), context());
    expect(result.applied).toEqual({ delete: 2 });
    expect(await versions(bucket, key)).toEqual([{ key, versionId: current.versionId, deleteMarker: false }]);
    expect(gunzipSync((await getBytes(bucket, key)).body).toString()).toBe(clean);
    expect(await s3RecordsConnector.discover(store, alice, context())).toEqual([]);
  });

  test('an old version that also holds a record the plan keeps is not deleted: refused, with the reason', async () => {
    const bucket = await newBucket();
    const store = sipStore(bucket);
    const key = 'sip/mixed.jsonl.gz';
    const old = await put(bucket, key, gzipSync(SIP_TEXT));
    await put(bucket, key, gzipSync(sip(0, { sipUser: 'dave' })));
    const findings = await s3RecordsConnector.discover(store, alice, context());
    expect(findings).toHaveLength(2);
    // The plan erases the first record and keeps the second (retained): the version must stay.
    const result = await s3RecordsConnector.apply(store, alice, deleteAll(findings.slice(0, 1)), context());
    expect(result).toMatchObject({ applied: {}, refused: [{ findingId: findings[0].id, reason: 'version-holds-retained-records' }] });
    expect((await versions(bucket, key)).map((v) => v.versionId)).toContain(old.versionId);
    // Planned whole, it goes.
    const whole = await s3RecordsConnector.apply(store, alice, deleteAll(findings), context());
    expect(whole).toMatchObject({ applied: { delete: 2 }, refused: [] });
    expect((await versions(bucket, key)).map((v) => v.versionId)).not.toContain(old.versionId);
  });

  test('a batch erasure deletes the subjects\' noncurrent versions and counts their records', async () => {
    const bucket = await newBucket();
    const store = sipStore(bucket);
    await put(bucket, 'sip/gone.jsonl.gz', gzipSync(SIP_TEXT));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'sip/gone.jsonl.gz' }));
    await put(bucket, 'sip/live.jsonl.gz', gzipSync(SIP_TEXT));
    const subjects = new Map([['alice', alice], ['carol', carol]]);
    const result = await s3RecordsConnector.eraseFromStore(store, subjects, context());
    expect(result).toMatchObject({ rewritten: 1, versionsDeleted: 1, refused: [] });
    // alice: 2 records in each object; carol: 2 (line 3 mentions her number, line 9 is hers) in each
    expect(Object.fromEntries(result.erased)).toEqual({ alice: 4, carol: 4 });
    const after = await s3RecordsConnector.scanStore(store, subjects, context());
    expect([...after.findings.values()].flat()).toEqual([]);
    expect((await versions(bucket, 'sip/gone.jsonl.gz')).every((v) => v.deleteMarker)).toBe(true);
  });
});

describe('staging left by a crashed rewrite', () => {
  test('is removed by the next erasure in the store once it is older than any running rewrite could be, whatever its object', async () => {
    const bucket = await newBucket();
    const store = sipStore(bucket);
    const key = 'sip/crashed.jsonl.gz';
    const other = 'sip/other.jsonl.gz';
    await put(bucket, key, gzipSync(SIP_TEXT));
    const folder = (k: string) => `.dsr-rewrite/${createHash('sha256').update(k).digest('hex').slice(0, 24)}/`;
    // What a crash between staging and replacing leaves: a staged copy of everyone else's records.
    await put(bucket, `${folder(key)}left-by-crash`, gzipSync(SIP_TEXT.split('\n').slice(2).join('\n')));
    await put(bucket, `${folder(other)}left-by-crash`, gzipSync('{}'));
    const staged = async () => (await versions(bucket, '.dsr-rewrite/')).map((v) => v.key).sort();

    // A rewrite now: the staged copy might belong to a rewrite still running, so it stays.
    const findings = await s3RecordsConnector.discover(store, alice, context());
    await s3RecordsConnector.apply(store, alice, deleteAll(findings), context());
    expect(await staged()).toEqual([`${folder(key)}left-by-crash`, `${folder(other)}left-by-crash`].sort());

    // Two hours later, the next erasure in the store removes both (every version), the other
    // object's too: that object may never be rewritten again.
    await put(bucket, key, gzipSync(SIP_TEXT));
    const later = context(new Date(Date.now() + 2 * 3_600_000));
    await s3RecordsConnector.apply(store, alice, deleteAll(await s3RecordsConnector.discover(store, alice, later)), later);
    expect(await staged()).toEqual([]);
  });
});
