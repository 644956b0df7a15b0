/**
 * The batched log pass on the s3-records connector (BatchConnector), against the project's own
 * S3 server: listKeys pages through versions and delete markers; discoverMany finds for each
 * queued subject exactly what discover finds in the given keys; applyMany leaves the objects as
 * applying each subject's plan one after another does, with one rewrite per object, and reports
 * per subject what apply alone would.
 */
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand, ListObjectVersionsCommand, PutObjectCommand, PutObjectLegalHoldCommand, type S3Client } from '@aws-sdk/client-s3';
import { connectorFor } from '../../functions/connectors';
import { createS3RecordsConnector } from '../../functions/connectors/s3-records';
import { isBatchConnector, type ApplyResult, type Finding, type Identity, type PlannedAction, type S3RecordLocator } from '../../functions/connectors/types';
import type { S3RecordsStore } from '../../functions/core/datamap';
import { sha256Hex } from '../../functions/core/hash';
import { REWRITE_REQUESTS } from '../../bench/cost-model';
import { countRequests } from './dynamodb-fixtures';
import { currentTexts, logStore, objectBytes, useLogStores, type LogEvent } from '../support/log-store';

const fx = useLogStores('batch');
let s3: S3Client;
beforeAll(() => {
  s3 = fx.s3;
});
const connector = createS3RecordsConnector({ concurrency: 2 });

const SUBJECTS = new Map<string, Identity>([
  ['s1', { phone: ['+15145550101'], sipUsername: ['alice'], accountId: ['cust-1'] }],
  ['s2', { phone: ['+15145550202'], accountId: ['cust-2'], email: ['bob@example.com'] }],
  ['s3', { phone: ['+15145550303'], sipUsername: ['carol'], email: ['carol@example.com'] }],
]);

function stores(bucket: string): { sip: S3RecordsStore; app: S3RecordsStore } {
  const sip = logStore({
    name: 'sip-logs',
    bucket,
    prefix: 'sip/',
    format: 'jsonl',
    compression: 'gzip',
    identifiers: { phone: { defaultCountry: 'CA' } },
    fields: [
      { path: 'from', identifier: 'phone', match: 'token' },
      { path: 'to', identifier: 'phone', match: 'token' },
      { path: 'sipUser', identifier: 'sipUsername', match: 'value' },
    ],
  });
  const app = logStore({
    name: 'app-logs',
    bucket,
    prefix: 'app/',
    format: 'csv',
    compression: 'none',
    fields: [
      { path: 'accountId', identifier: 'accountId', match: 'value' },
      { path: 'email', identifier: 'email', match: 'value' },
      { path: 'message', identifier: 'email', match: 'token' },
    ],
  });
  return { sip, app };
}

const sip = (i: number, o: Record<string, unknown>) => JSON.stringify({ ts: `2026-11-01T10:00:${String(i).padStart(2, '0')}Z`, ...o });

/** The current SIP hour: two subjects in one line, the phone in three forms, a mention, a near miss, a truncated last line. */
const SIP_A = [
  sip(0, { from: 'sip:(514) 555-0101@pbx', to: 'sip:+15145550202@pbx' }),
  sip(1, { from: 'sip:+15145550101@pbx', to: 'sip:+15145559999@pbx', sipUser: 'alice' }),
  sip(2, { from: 'tel:514.555.0101', to: 'sip:+15145558888@pbx' }),
  sip(3, { from: 'sip:+15145559999@pbx', to: 'sip:+15145550303@pbx', sipUser: 'dave' }),
  sip(4, { from: 'sip:+15145559999@pbx', to: 'sip:+15145558888@pbx', sipUser: 'dave' }),
  sip(5, { from: 'sip:+151455501012@pbx', to: 'sip:+15145558888@pbx', sipUser: 'alice2' }),
  '{"ts":"2026-11-01T10:00:06Z","from":"sip:+15145550202@pbx","to":"sip:+1514555',
].join('\n');
const SIP_B_OLD = [sip(0, { from: 'sip:+15145550101@pbx', to: 'sip:+15145550202@pbx' }), sip(1, { sipUser: 'alice' })].join('\n') + '\n';
const SIP_B_NOW = sip(2, { from: 'sip:+15145559999@pbx', sipUser: 'dave' }) + '\n';
const SIP_C_OLD = sip(0, { from: 'sip:+15145557777@pbx', sipUser: 'carol' }) + '\n';
const SIP_D = [sip(0, { from: 'sip:+15145550101@pbx', to: 'sip:+15145557777@pbx' }), sip(1, { sipUser: 'dave' })].join('\n') + '\n';
const APP = [
  'ts,accountId,email,message',
  '2026-11-01T10:00:00Z,cust-1,alice@example.com,login ok',
  '2026-11-01T10:00:01Z,cust-10,zed@example.com,login ok',
  '2026-11-01T10:00:02Z,cust-2,bob@example.com,"sent to carol@example.com, ok"',
  '2026-11-01T10:00:03Z,cust-7,dan@example.com,invite from carol@example.com',
  '',
].join('\r\n');

/** The same store content in a new Object Lock bucket: the versions, a delete marker, a legal hold. */
async function seeded(): Promise<string> {
  const bucket = await fx.newBucket({ objectLock: true });
  const put = (Key: string, body: string, gzip = true) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: gzip ? gzipSync(body) : body }));
  await put('sip/a.jsonl.gz', SIP_A);
  await put('sip/b.jsonl.gz', SIP_B_OLD);
  await put('sip/b.jsonl.gz', SIP_B_NOW);
  await put('sip/c.jsonl.gz', SIP_C_OLD);
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'sip/c.jsonl.gz' }));
  await put('sip/d.jsonl.gz', SIP_D);
  await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'sip/d.jsonl.gz', LegalHold: { Status: 'ON' } }));
  await put('app/2026-11-01.csv', APP, false);
  return bucket;
}

/** Each subject's plan: a mention of s3 in someone else's record (its "to" or "message") is redacted, all else deleted. */
function plan(ref: string, findings: readonly Finding[]): PlannedAction[] {
  return findings.map((finding) => ({
    finding,
    action: ref === 's3' && (finding.fields ?? []).every((f) => f === 'to' || f === 'message') ? ('redact-mentions' as const) : ('delete' as const),
  }));
}

const where = (f: Finding) => {
  const l = f.locator as S3RecordLocator;
  return `${l.key}#${l.versionId ? 'old' : 'now'}#${l.line}`;
};

/** A result with finding ids replaced by where they point (ids differ between buckets), sorted. */
function normalised(r: ApplyResult, byId: ReadonlyMap<string, string>) {
  return {
    applied: r.applied,
    refused: r.refused.map((x) => `${byId.get(x.findingId)} ${x.reason}`).sort(),
    missing: r.missing.map((id) => byId.get(id)).sort(),
    malformedKept: r.malformedKept,
  };
}

async function discoverAll(bucket: string): Promise<Map<string, Map<string, Finding[]>>> {
  const out = new Map<string, Map<string, Finding[]>>();
  for (const store of Object.values(stores(bucket))) {
    const per = new Map<string, Finding[]>();
    for (const [ref, identity] of SUBJECTS) per.set(ref, await connector.discover(store, identity, fx.context()));
    out.set(store.name, per);
  }
  return out;
}

/** Per key: its versions and delete markers (count), and the current text (decompressed) with whether it is gzip. */
async function state(bucket: string) {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  const versions: Record<string, number> = {};
  for (const v of [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])]) versions[v.Key as string] = (versions[v.Key as string] ?? 0) + 1;
  const texts = Object.fromEntries(await currentTexts(s3, bucket));
  const gzip: Record<string, boolean> = {};
  for (const key of Object.keys(texts)) gzip[key] = (await objectBytes(s3, bucket, key)).body[0] === 0x1f;
  return { versions, texts, gzip };
}

describe('discoverMany', () => {
  test('gives each subject exactly the findings discover gives it in the given keys, same ids, in one read per version', async () => {
    const bucket = await seeded();
    const { sip: store, app } = stores(bucket);
    const keys = ['sip/a.jsonl.gz', 'sip/b.jsonl.gz', 'sip/c.jsonl.gz'];
    const logs: LogEvent[] = [];
    const many = await connector.discoverMany(store, SUBJECTS, keys, fx.context({ log: (e) => logs.push(e) }));
    expect([...many.keys()]).toEqual(['s1', 's2', 's3']);
    for (const [ref, identity] of SUBJECTS) {
      const one = (await connector.discover(store, identity, fx.context())).filter((f) => keys.includes((f.locator as S3RecordLocator).key));
      expect(many.get(ref)).toEqual(one);
    }
    // a.jsonl.gz, b's two versions, c's version under its delete marker: four reads for three subjects.
    expect(logs.filter((e) => e.event === 's3-records.scanned')).toHaveLength(4);
    // The phone in three written forms; the near miss (+151455501012, alice2) never.
    expect(many.get('s1')!.filter((f) => (f.locator as S3RecordLocator).key === 'sip/a.jsonl.gz').map(where)).toEqual([
      'sip/a.jsonl.gz#now#1',
      'sip/a.jsonl.gz#now#2',
      'sip/a.jsonl.gz#now#3',
    ]);
    expect(many.get('s2')!.map(where)).toEqual(['sip/a.jsonl.gz#now#1', 'sip/a.jsonl.gz#now#7', 'sip/b.jsonl.gz#old#1']);
    expect(many.get('s2')!.find((f) => where(f) === 'sip/a.jsonl.gz#now#7')!.malformed).toBe(true);
    expect(many.get('s3')!.map(where)).toEqual(['sip/a.jsonl.gz#now#4', 'sip/c.jsonl.gz#old#1']);
    // cust-1 never matches cust-10 (CSV line 2 is cust-10's).
    const appMany = await connector.discoverMany(app, SUBJECTS, ['app/2026-11-01.csv'], fx.context());
    expect(appMany.get('s1')!.map(where)).toEqual(['app/2026-11-01.csv#now#1']);
    expect(appMany.get('s3')!.map(where)).toEqual(['app/2026-11-01.csv#now#3', 'app/2026-11-01.csv#now#4']);
  });

  test("lists a unit's keys once by their common prefix, not once per key, and reads each version it lists", async () => {
    const bucket = await seeded();
    const { sip: store } = stores(bucket);
    // Keys before, between and after the unit's, sharing its prefix: listed past, never read.
    const put = (Key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: gzipSync(body) }));
    await put('sip/a.jsonl', SIP_D);
    await put('sip/b.jsonl.gz.bak.jsonl.gz', SIP_D);
    await put('sip/e.jsonl.gz', SIP_D);
    const counter = countRequests(s3);
    try {
      const logs: LogEvent[] = [];
      const keys = ['sip/c.jsonl.gz', 'sip/a.jsonl.gz', 'sip/b.jsonl.gz'];
      const many = await connector.discoverMany(store, SUBJECTS, keys, fx.context({ log: (e) => logs.push(e) }));
      expect(counter.counts.ListObjectVersionsCommand).toBe(1);
      expect(logs.filter((e) => e.event === 's3-records.scanned')).toHaveLength(4);
      expect(many.get('s3')!.map(where)).toEqual(['sip/a.jsonl.gz#now#4', 'sip/c.jsonl.gz#old#1']);
      counter.reset();
      const one = await connector.discoverMany(store, SUBJECTS, ['sip/b.jsonl.gz'], fx.context());
      expect(counter.counts.ListObjectVersionsCommand).toBe(1);
      expect(one.get('s1')!.map(where)).toEqual(['sip/b.jsonl.gz#old#1', 'sip/b.jsonl.gz#old#2']);
      // Pages of two entries: b's two versions and c's version and marker cross page breaks.
      counter.reset();
      const paged = await createS3RecordsConnector({ pageSize: 2 }).discoverMany(store, SUBJECTS, keys, fx.context());
      expect(paged).toEqual(many);
      // From just before a (sip/a.jsonl is not listed) to c: a, b x2, b.bak, c's version and
      // marker in 3 pages, and a 4th to learn that c has no more versions, then no more pages.
      expect(counter.counts.ListObjectVersionsCommand).toBe(4);
    } finally {
      counter.stop();
    }
  });

  test('refuses a key outside the store', async () => {
    const bucket = await seeded();
    await expect(connector.discoverMany(stores(bucket).sip, SUBJECTS, ['app/2026-11-01.csv'], fx.context())).rejects.toThrow(/not one of its log objects/);
  });
});

describe('applyMany', () => {
  test('leaves every object as applying the plans one after another does, with one rewrite per object; per subject, what apply alone reports', async () => {
    // Batch
    const batchBucket = await seeded();
    const found = await discoverAll(batchBucket);
    const logs: LogEvent[] = [];
    const ctx = fx.context({ log: (e) => logs.push(e) });
    const before = await s3.send(new ListObjectVersionsCommand({ Bucket: batchBucket }));
    const beforeIds = new Set((before.Versions ?? []).map((v) => v.VersionId));
    const results = new Map<string, Awaited<ReturnType<typeof connector.applyMany>>>();
    for (const store of Object.values(stores(batchBucket))) {
      const work = new Map([...SUBJECTS].map(([ref, identity]) => [ref, { identity, actions: plan(ref, found.get(store.name)!.get(ref)!) }]));
      results.set(store.name, await connector.applyMany(store, work, ctx));
    }

    // Sequential
    const seqBucket = await seeded();
    const seqFound = await discoverAll(seqBucket);
    for (const store of Object.values(stores(seqBucket))) {
      for (const [ref, identity] of SUBJECTS) await connector.apply(store, identity, plan(ref, seqFound.get(store.name)!.get(ref)!), fx.context());
    }

    const batchState = await state(batchBucket);
    expect(batchState).toEqual(await state(seqBucket));
    // What the pass did, read back: the subjects are gone, the mention redacted, everyone else kept.
    const a = batchState.texts['sip/a.jsonl.gz'].split('\n');
    expect(a).toEqual([
      SIP_A.split('\n')[3].replace('+15145550303', '[REDACTED]'),
      SIP_A.split('\n')[4],
      SIP_A.split('\n')[5],
      '{"ts":"2026-11-01T10:00:06Z","from":"sip:[REDACTED]@pbx","to":"sip:+1514555',
    ]);
    expect(batchState.texts['app/2026-11-01.csv']).toBe(
      ['ts,accountId,email,message', '2026-11-01T10:00:01Z,cust-10,zed@example.com,login ok', '2026-11-01T10:00:03Z,cust-7,dan@example.com,invite from [REDACTED]', ''].join('\r\n'),
    );
    expect(batchState.gzip).toEqual({ 'app/2026-11-01.csv': false, 'sip/a.jsonl.gz': true, 'sip/b.jsonl.gz': true, 'sip/d.jsonl.gz': true });
    expect(batchState.versions).toEqual({ 'app/2026-11-01.csv': 1, 'sip/a.jsonl.gz': 1, 'sip/b.jsonl.gz': 1, 'sip/c.jsonl.gz': 1, 'sip/d.jsonl.gz': 1 });

    // One rewrite, and one new version, per rewritten object; outcomes (in key order) carry key hashes and the read-back.
    const kh = (key: string) => sha256Hex(`${batchBucket}/${key}`).slice(0, 16);
    const sipOut = results.get('sip-logs')!.objects;
    expect(sipOut.map((o) => [o.keyHash, o.status])).toEqual(
      [
        [kh('sip/a.jsonl.gz'), 'rewritten'],
        [kh('sip/b.jsonl.gz'), 'version-deleted'],
        [kh('sip/c.jsonl.gz'), 'version-deleted'],
        [kh('sip/d.jsonl.gz'), 'refused'],
      ],
    );
    const rewrittenA = sipOut.find((o) => o.keyHash === kh('sip/a.jsonl.gz'))!;
    expect(rewrittenA.verified).toEqual({ sha256: sha256Hex(batchState.texts['sip/a.jsonl.gz']), records: 4 });
    expect(results.get('app-logs')!.objects).toEqual([
      { keyHash: kh('app/2026-11-01.csv'), status: 'rewritten', verified: { sha256: sha256Hex(batchState.texts['app/2026-11-01.csv']), records: 2 } },
    ]);
    for (const key of ['sip/a.jsonl.gz', 'app/2026-11-01.csv']) {
      expect(logs.filter((e) => e.event === 's3-records.rewritten' && e.fields?.keyHash === kh(key))).toHaveLength(1);
      const after = await s3.send(new ListObjectVersionsCommand({ Bucket: batchBucket, Prefix: key }));
      expect((after.Versions ?? []).filter((v) => !beforeIds.has(v.VersionId))).toHaveLength(1);
    }
    // Logs: hashes and counts only.
    const logText = JSON.stringify(logs);
    for (const value of ['5145550101', '555-0101', 'alice', 'carol', 'cust-1', 'bob@example.com', 'sip/']) expect(logText.includes(value)).toBe(false);

    // Per subject: what apply gives that subject alone, each on its own copy of the store.
    for (const [ref, identity] of SUBJECTS) {
      const alone = await seeded();
      const aloneFound = await discoverAll(alone);
      for (const store of Object.values(stores(alone))) {
        const mine = aloneFound.get(store.name)!.get(ref)!;
        const r = await connector.apply(store, identity, plan(ref, mine), fx.context());
        const batchFindings = found.get(store.name)!.get(ref)!;
        expect(normalised(results.get(store.name)!.perSubject.get(ref)!, new Map(batchFindings.map((f) => [f.id, where(f)])))).toEqual(
          normalised(r, new Map(mine.map((f) => [f.id, where(f)]))),
        );
      }
    }
    const s1 = results.get('sip-logs')!.perSubject.get('s1')!;
    expect(s1.refused.map((r) => r.reason)).toEqual(['legal-hold']);
    expect(s1.applied).toEqual({ delete: 5 });
  }, 120_000);

  test('a noncurrent version goes only when every matched record of every subject in it is planned to go', async () => {
    const bucket = await fx.newBucket();
    const key = 'sip/old.jsonl.gz';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(SIP_B_OLD) }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(SIP_B_NOW) }));
    const { sip: store } = stores(bucket);
    const identity = (ref: string) => SUBJECTS.get(ref)!;
    const s1 = await connector.discover(store, identity('s1'), fx.context());
    const s2 = await connector.discover(store, identity('s2'), fx.context());
    // s2's record in the old version is retained (keep); s1's are all to be deleted.
    const work = new Map([
      ['s1', { identity: identity('s1'), actions: s1.map((finding) => ({ finding, action: 'delete' as const })) }],
      ['s2', { identity: identity('s2'), actions: s2.map((finding) => ({ finding, action: 'keep' as const })) }],
    ]);
    const out = await connector.applyMany(store, work, fx.context());
    expect(out.perSubject.get('s1')!.refused.map((r) => r.reason)).toEqual(['version-holds-retained-records', 'version-holds-retained-records']);
    expect(out.perSubject.get('s2')!.applied).toEqual({ keep: 1 });
    expect(out.objects).toEqual([{ keyHash: sha256Hex(`${bucket}/${key}`).slice(0, 16), status: 'refused' }]);
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))).Versions).toHaveLength(2);
    // Once s2's record is due too, the version goes.
    const due = new Map([...work].map(([ref, w]) => [ref, { ...w, actions: w.actions.map((pa) => ({ ...pa, action: 'delete' as const })) }]));
    const again = await connector.applyMany(store, due, fx.context());
    expect(again.objects.map((o) => o.status)).toEqual(['version-deleted']);
    expect(again.perSubject.get('s1')!.applied).toEqual({ delete: 2 });
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))).Versions).toHaveLength(1);
  });
});

describe('applyMany where the plans disagree over one record', () => {
  // Applied one after another, the first plan changes the record and the later ones no longer
  // recognise it (its fingerprint changed): they report it missing and their redaction never
  // happens. The batch decides for all of them at once.
  test('a record one subject deletes and another has only a mention in is removed, and both are reported applied', async () => {
    const bucket = await fx.newBucket();
    const key = 'sip/both.jsonl.gz';
    const shared = sip(0, { from: 'sip:+15145550101@pbx', to: 'sip:+15145550303@pbx' });
    const other = sip(1, { from: 'sip:+15145559999@pbx', to: 'sip:+15145558888@pbx' });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(`${shared}\n${other}\n`) }));
    const { sip: store } = stores(bucket);
    const found = await connector.discoverMany(store, SUBJECTS, [key], fx.context());
    const work = new Map([...SUBJECTS].map(([ref, identity]) => [ref, { identity, actions: plan(ref, found.get(ref)!) }]));
    expect(work.get('s3')!.actions.map((a) => a.action)).toEqual(['redact-mentions']);
    const out = await connector.applyMany(store, work, fx.context());
    expect((await currentTexts(s3, bucket)).get(key)).toBe(`${other}\n`);
    expect(out.perSubject.get('s1')).toEqual({ applied: { delete: 1 }, refused: [], missing: [], malformedKept: 0 });
    expect(out.perSubject.get('s3')).toEqual({ applied: { 'redact-mentions': 1 }, refused: [], missing: [], malformedKept: 0 });
  });

  test('in a redact store, one subject anonymizing its fields and another redacting its mention in a third field: both edits, in one rewrite', async () => {
    const bucket = await fx.newBucket();
    const key = 'app/x.csv';
    const text = ['ts,accountId,email,message', '2026-11-01T10:00:00Z,cust-1,alice@example.com,forwarded to carol@example.com', ''].join('\r\n');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text }));
    const store = { ...stores(bucket).app, erase: { mode: 'redact' as const, fields: { accountId: { strategy: 'redact' as const, token: '[ACCOUNT]' }, email: { strategy: 'redact' as const, token: '[EMAIL]' } } } };
    const found = await connector.discoverMany(store, SUBJECTS, [key], fx.context());
    const work = new Map([
      ['s1', { identity: SUBJECTS.get('s1')!, actions: found.get('s1')!.map((finding) => ({ finding, action: 'anonymize' as const })) }],
      ['s3', { identity: SUBJECTS.get('s3')!, actions: found.get('s3')!.map((finding) => ({ finding, action: 'redact-mentions' as const })) }],
    ]);
    const out = await connector.applyMany(store, work, fx.context());
    expect((await currentTexts(s3, bucket)).get(key)).toBe(['ts,accountId,email,message', '2026-11-01T10:00:00Z,[ACCOUNT],[EMAIL],forwarded to [REDACTED]', ''].join('\r\n'));
    expect(out.objects.map((o) => o.status)).toEqual(['rewritten']);
    expect(out.perSubject.get('s1')!.applied).toEqual({ anonymize: 1 });
    expect(out.perSubject.get('s3')!.applied).toEqual({ 'redact-mentions': 1 });
  });
});

test('the registry hands out the s3-records connector as a batch connector', () => {
  expect(isBatchConnector(connectorFor(stores('some-logs').sip))).toBe(true);
  expect(isBatchConnector(connectorFor({ name: 'm', kind: 's3-objects', category: 'media', bucket: 'some-media', keyTemplate: '{subjectId}/' } as never))).toBe(false);
});

describe('listKeys', () => {
  test('counts every version and delete marker and their bytes across small listing pages; staging and marker-only keys left out', async () => {
    const bucket = await fx.newBucket();
    const paged = createS3RecordsConnector({ pageSize: 2 });
    const store = logStore({ bucket, prefix: '', format: 'jsonl', compression: 'none', fields: [{ path: 'from', identifier: 'phone', match: 'token' }] });
    const put = (Key: string, bytes: number) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x'.repeat(bytes) }));
    const expected: Array<{ key: string; versions: number; storedBytes: number }> = [];
    await put('k/01', 10);
    await put('k/01', 20);
    await put('k/01', 30);
    expected.push({ key: 'k/01', versions: 3, storedBytes: 60 });
    await put('k/02', 7);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k/02' }));
    expected.push({ key: 'k/02', versions: 2, storedBytes: 7 });
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k/03' })); // a marker only: nothing to read
    for (let i = 4; i <= 9; i++) {
      await put(`k/0${i}`, i);
      expected.push({ key: `k/0${i}`, versions: 1, storedBytes: i });
    }
    await put('.dsr-rewrite/abc/staged', 5);
    const listed = [];
    for await (const k of paged.listKeys(store, fx.context())) listed.push(k);
    expect(listed).toEqual(expected);
    // And the same with S3's default page.
    const whole = [];
    for await (const k of connector.listKeys(store, fx.context())) whole.push(k);
    expect(whole).toEqual(expected);
  });
});

/** GetObject and HeadObject of the store's own keys (staged bodies aside), per key: what the one-read claim is about. */
function countObjectReads(client: S3Client) {
  const gets: Record<string, number> = {};
  const heads: Record<string, number> = {};
  const name = `object-reads-${Math.random()}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const key = (args.input as { Key?: string }).Key ?? '';
      if (!key.startsWith('.dsr-rewrite/')) {
        if (context.commandName === 'GetObjectCommand') gets[key] = (gets[key] ?? 0) + 1;
        if (context.commandName === 'HeadObjectCommand') heads[key] = (heads[key] ?? 0) + 1;
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { gets, heads, stop: () => client.middlewareStack.remove(name) };
}

describe('eraseMany: one read per object, in rounds', () => {
  const allPlanned = (found: ReadonlyMap<string, Finding[]>) => new Map([...found].filter(([, f]) => f.length > 0).map(([ref, f]) => [ref, { identity: SUBJECTS.get(ref)!, actions: plan(ref, f) }]));

  test('the objects and per-subject results of discoverMany + applyMany, in one round or one key per round; a rewritten object is read once, then HEAD', async () => {
    // The reference: discovery of all keys, then one apply, each rewrite reading its object again.
    const refBucket = await seeded();
    const refResults = new Map<string, Awaited<ReturnType<typeof connector.applyMany>>>();
    const keysOf = async (store: S3RecordsStore) => {
      const keys: string[] = [];
      for await (const k of connector.listKeys(store, fx.context())) keys.push(k.key);
      return keys;
    };
    for (const store of Object.values(stores(refBucket))) {
      const found = await connector.discoverMany(store, SUBJECTS, await keysOf(store), fx.context());
      refResults.set(store.name, await connector.applyMany(store, allPlanned(found), fx.context()));
    }
    const refState = await state(refBucket);

    const headsWithoutKeeping: Record<string, number> = {};
    // Rounds are sized by stored bytes (gzip taken as 10x: a.jsonl.gz, 199 bytes stored, counts
    // 1,990), and a read keeps an object only within its share of the round (half, at concurrency
    // 2) by that estimate and by its real size. 0: nothing kept, one round; default: one round, all
    // kept; 4,000: three SIP rounds (a; b and c; d), each kept; 1,000: a round per key, the SIP
    // objects over their share (read again), the CSV (about 250 bytes) kept.
    for (const roundBytes of [0, undefined, 4000, 1000]) {
      const bucket = await seeded();
      const rounds = createS3RecordsConnector({ concurrency: 2, ...(roundBytes !== undefined ? { roundBytes } : {}) });
      const logs: LogEvent[] = [];
      const reads = countObjectReads(s3);
      const decided: number[] = [];
      try {
        for (const store of Object.values(stores(bucket))) {
          const out = await rounds.eraseMany(store, SUBJECTS, await keysOf(store), async (found) => (decided.push([...found.values()].flat().length), allPlanned(found)), fx.context({ log: (e) => logs.push(e) }));
          const ref = refResults.get(store.name)!;
          // Finding ids name the bucket: compare where they point, and the outcomes by status.
          expect(out.objects.map((o) => o.status)).toEqual(ref.objects.map((o) => o.status));
          expect(out.objects.map((o) => o.verified)).toEqual(ref.objects.map((o) => o.verified));
          for (const subject of SUBJECTS.keys()) {
            const mine = out.perSubject.get(subject);
            const theirs = ref.perSubject.get(subject);
            expect(mine?.applied).toEqual(theirs?.applied);
            expect(mine?.refused.map((r) => r.reason).sort()).toEqual(theirs?.refused.map((r) => r.reason).sort());
            expect(mine?.missing.length).toEqual(theirs?.missing.length);
          }
        }
      } finally {
        reads.stop();
      }
      expect(await state(bucket)).toEqual(refState);
      // Rewritten: the current versions of a.jsonl.gz (about 700 bytes of records) and the CSV
      // (about 250). Kept by the scan, each is read once and its rewrite HEADs it instead; not
      // kept (roundBytes 0, or over a read's share of the round), read twice.
      const expectedGets: Record<string, Record<string, number>> = {
        '0': { 'sip/a.jsonl.gz': 2, 'app/2026-11-01.csv': 2 },
        default: { 'sip/a.jsonl.gz': 1, 'app/2026-11-01.csv': 1 },
        '4000': { 'sip/a.jsonl.gz': 1, 'app/2026-11-01.csv': 1 },
        '1000': { 'sip/a.jsonl.gz': 2, 'app/2026-11-01.csv': 1 },
      };
      for (const key of ['sip/a.jsonl.gz', 'app/2026-11-01.csv']) {
        const gets = expectedGets[String(roundBytes ?? 'default')][key];
        if (roundBytes === 0) headsWithoutKeeping[key] = reads.heads[key] ?? 0;
        expect({ key, gets: reads.gets[key], heads: reads.heads[key] ?? 0 }).toEqual({ key, gets, heads: headsWithoutKeeping[key] + (gets === 1 ? 1 : 0) });
      }
      const roundLogs = logs.filter((e) => e.event === 's3-records.round');
      if (roundBytes === 1000 || roundBytes === 4000) {
        // A decision per round with findings: a, b, c, d of the SIP store (a; b+c; d at 4,000), and the CSV.
        expect(decided.length).toBe(roundBytes === 1000 ? 5 : 4);
        expect(roundLogs.every((e) => Number(e.fields?.keptObjects) <= 1)).toBe(true);
      } else {
        expect(decided.length).toBe(2);
        if (roundBytes === 0) expect(roundLogs.every((e) => e.fields?.keptObjects === 0)).toBe(true);
      }
    }
  }, 120_000);

  test('an object changed between its scan and its rewrite is read again: a record written meanwhile is kept', async () => {
    const bucket = await fx.newBucket();
    const key = 'sip/a.jsonl.gz';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(SIP_A + '\n') }));
    const { sip: store } = stores(bucket);
    const late = sip(9, { from: 'sip:+15145559999@pbx', to: 'sip:+15145558888@pbx', sipUser: 'erin' });
    const reads = countObjectReads(s3);
    try {
      await connector.eraseMany(
        store,
        new Map([['s1', SUBJECTS.get('s1')!]]),
        [key],
        async (found) => {
          // The log shipper appends an hour's last line while the pass decides.
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(SIP_A + '\n' + late + '\n') }));
          return allPlanned(found);
        },
        fx.context(),
      );
    } finally {
      reads.stop();
    }
    const lines = (await currentTexts(s3, bucket)).get(key)!.split('\n');
    expect(lines).toContain(late);
    // s1's three records (its number in three forms, its SIP user) are gone; the near miss +151455501012 stays.
    for (const gone of SIP_A.split('\n').slice(0, 3)) expect(lines).not.toContain(gone);
    expect(lines).toContain(SIP_A.split('\n')[5]);
    // The scan's read, and (its HEAD having seen a new ETag) the read again.
    expect(reads.gets[key]).toBe(2);
    expect(reads.heads[key]).toBeGreaterThanOrEqual(1);
  });

  test('a subject that a round decides to leave out is not touched in it', async () => {
    const bucket = await seeded();
    const { sip: store } = stores(bucket);
    const keys = ['sip/a.jsonl.gz', 'sip/b.jsonl.gz'];
    await connector.eraseMany(store, SUBJECTS, keys, async (found) => new Map([...allPlanned(found)].filter(([ref]) => ref !== 's2')), fx.context());
    const a = (await currentTexts(s3, bucket)).get('sip/a.jsonl.gz')!;
    expect(a).toContain('+15145550202');
    expect(a).not.toContain('"alice"');
  });
});

describe('eraseMany: the S3 requests of a rewrite, as the cost model counts them', () => {
  test('per rewritten object beyond its scan GET: REWRITE_REQUESTS (PUT class and GET class); per unit, one LIST of its keys and one of stale staging', async () => {
    const bucket = await fx.newBucket();
    const { sip: store } = stores(bucket);
    const keys = ['sip/r1.jsonl.gz', 'sip/r2.jsonl.gz', 'sip/r3.jsonl.gz'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(SIP_A + '\n') }));
    const subjects = new Map([['s1', SUBJECTS.get('s1')!]]);
    const counter = countRequests(s3);
    try {
      const out = await connector.eraseMany(store, subjects, keys, async (found) => new Map([...found].map(([ref, f]) => [ref, { identity: SUBJECTS.get(ref)!, actions: plan(ref, f) }])), fx.context());
      expect(out.objects.map((o) => o.status)).toEqual(['rewritten', 'rewritten', 'rewritten']);
    } finally {
      counter.stop();
    }
    const c = (name: string) => counter.counts[`${name}Command`] ?? 0;
    const n = keys.length;
    const putClass = c('PutObject') + c('CopyObject') + c('ListObjectVersions') - 2;
    const getClass = c('GetObject') + c('HeadObject') + c('GetObjectTagging') - n;
    expect({ putClass: putClass / n, getClass: getClass / n }).toEqual(REWRITE_REQUESTS);
  });
});
