/**
 * Crash at every SDK call of an s3-records rewrite and of an s3-objects version deletion, then
 * run the same operation (the same plan, as a Step Functions Retry does) again without the
 * fault: it converges, every record of everyone else
 * is still there byte for byte, and no version anywhere in the bucket still holds the subject.
 * Then the same operations under random throttling (S3 `SlowDown`), and two erasures of
 * different subjects rewriting the same log objects at once.
 */
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { S3ObjectsStoreSchema, type S3ObjectsStore, type S3RecordsStore } from '../../functions/core/datamap';
import { createS3RecordsConnector } from '../../functions/connectors/s3-records';
import { s3ObjectsConnector } from '../../functions/connectors/s3-objects';
import type { Connector, ConnectorContext, Finding, Identity } from '../../functions/connectors/types';
import { startTestEndpoints, type TestEndpoints } from '../support/endpoints';
import { LOG_FIELDS as F, sipLogStore } from '../support/log-store';
import { allVersions, context, faultPlan, injectFaults, injectThrottling, s3Client, versionedBucket, type FaultPlan } from './support';

let env: TestEndpoints;
let clean: S3Client;

beforeAll(async () => {
  env = await startTestEndpoints({ dynamodb: false });
  clean = s3Client(env.s3Endpoint, 3);
});
afterAll(async () => {
  clean?.destroy();
  await env?.close();
});

// ---------- s3-records ----------

function sipStore(bucket: string): S3RecordsStore {
  return sipLogStore(bucket, { fields: [F.from, F.to, F.sipUser, F.deviceId], dateField: 'ts' });
}

const alice: Identity = { phone: ['+15145550101'], sipUsername: ['alice-sip'], deviceId: ['dev-alice'] };
const carol: Identity = { phone: ['+15145550303'], sipUsername: ['carol-sip'] };
const line = (min: number, o: Record<string, unknown>) => JSON.stringify({ ts: `2026-11-01T10:${String(min).padStart(2, '0')}:00Z`, method: 'INVITE', ...o });
const sipFrom = (p: string) => `sip:${p}@pbx.voip.example`;

/** key -> lines, and which lines are whose. */
const LOGS: Record<string, Array<{ text: string; of: Array<'alice' | 'carol'>; truncatedOf?: 'alice' }>> = {
  'sip/2026/11/01/10.jsonl.gz': [
    { text: line(0, { from: sipFrom('+15145550101'), to: sipFrom('+15145559999'), sipUser: 'alice-sip', userAgent: { deviceId: 'dev-alice' } }), of: ['alice'] },
    { text: line(1, { from: sipFrom('+15145550202'), to: sipFrom('+15145559999'), sipUser: 'bob-sip' }), of: [] },
    { text: line(2, { from: sipFrom('+15145550202'), to: sipFrom('+15145550101') }), of: ['alice'] },
    // Near misses: a longer number, a longer user name.
    { text: line(3, { from: sipFrom('+151455501012'), to: sipFrom('+15145559999'), sipUser: 'alice-sip2' }), of: [] },
    { text: line(4, { from: sipFrom('+15145550303'), sipUser: 'carol-sip' }), of: ['carol'] },
    // Truncated: not a record, but alice's number stands in it; her erasure redacts it in place.
    { text: '{"ts": "2026-11-01T10:05:00Z", "from": "sip:+15145550101@pbx', of: [], truncatedOf: 'alice' },
    { text: line(6, { from: sipFrom('+15145550101'), to: sipFrom('+15145550303') }), of: ['alice', 'carol'] },
  ],
  'sip/2026/11/01/11.jsonl.gz': [
    { text: line(0, { from: sipFrom('+15145550404'), to: sipFrom('+15145550505'), sipUser: 'eve-sip' }), of: [] },
    { text: line(1, { from: sipFrom('+15145550303'), to: sipFrom('+15145550202'), sipUser: 'carol-sip' }), of: ['carol'] },
    { text: line(2, { sipUser: 'bob-sip', userAgent: { deviceId: 'dev-alice' } }), of: ['alice'] },
    { text: line(3, { sipUser: 'bob-sip', userAgent: { deviceId: 'dev-alice-2' } }), of: [] },
  ],
  'sip/2026/11/01/12.jsonl.gz': [
    { text: line(0, { from: sipFrom('+15145550404'), to: sipFrom('+15145550505'), sipUser: 'eve-sip' }), of: [] },
    { text: line(1, { from: sipFrom('+15145550202'), sipUser: 'bob-sip' }), of: [] },
  ],
};

async function seedLogs(s3: S3Client): Promise<string> {
  const bucket = await versionedBucket(s3, 'rel-logs');
  for (const [key, lines] of Object.entries(LOGS)) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(lines.map((l) => l.text).join('\n') + '\n') }));
  }
  return bucket;
}

/** Nothing of the erased subjects in any version; everyone else's lines, in order, byte for byte. */
async function expectLogsErased(bucket: string, erased: Array<'alice' | 'carol'>): Promise<void> {
  const versions = await allVersions(clean, bucket);
  const truncatedOfErased = (l: { truncatedOf?: 'alice' }) => l.truncatedOf !== undefined && erased.includes(l.truncatedOf);
  const gone = new Set(Object.values(LOGS).flatMap((ls) => ls.filter((l) => l.of.some((o) => erased.includes(o)) || truncatedOfErased(l)).map((l) => l.text)));
  for (const v of versions) {
    for (const l of v.text.split('\n')) expect(gone.has(l) ? `${v.key}@${v.versionId}: ${l}` : undefined).toBeUndefined();
  }
  for (const [key, lines] of Object.entries(LOGS)) {
    const current = versions.filter((v) => v.key === key && v.isLatest && !v.deleteMarker);
    expect(current).toHaveLength(1);
    const expected = lines.filter((l) => !l.of.some((o) => erased.includes(o))).map((l) => (truncatedOfErased(l) ? l.text.replace('+15145550101', '[REDACTED]') : l.text));
    expect(current[0].text.split('\n').filter((l) => l !== '')).toEqual(expected);
  }
  const connector = createS3RecordsConnector();
  for (const who of erased) expect(await connector.discover(sipStore(bucket), who === 'alice' ? alice : carol, context({ s3: clean }))).toEqual([]);
}

const plans = new Map<string, Finding[]>();

/**
 * Discovery once per bucket and subject (with a clean client), then apply. A rerun applies the
 * same plan again, as a Step Functions Retry of the erase task does.
 */
async function eraseRecords(store: S3RecordsStore, identity: Identity, ctx: ConnectorContext, connector = createS3RecordsConnector({ concurrency: 1 })): Promise<void> {
  const planKey = `${store.bucket}:${JSON.stringify(identity)}`;
  const findings = plans.get(planKey) ?? (await connector.discover(store, identity, context({ s3: clean })));
  plans.set(planKey, findings);
  await connector.apply(store, identity, findings.map((finding) => ({ finding, action: 'delete' as const })), ctx);
}

/** Runs `operation` once with no fault to count its calls, then crashes after each call in turn. */
async function crashAtEveryCall(setup: () => Promise<string>, operation: (bucket: string, ctx: ConnectorContext) => Promise<void>, check: (bucket: string) => Promise<void>): Promise<number> {
  const counting = faultPlan();
  const countingClient = injectFaults(s3Client(env.s3Endpoint), counting);
  try {
    const bucket = await setup();
    await operation(bucket, context({ s3: countingClient }));
    await check(bucket);
  } finally {
    countingClient.destroy();
  }
  expect(counting.calls).toBeGreaterThan(2);
  for (let n = 1; n <= counting.calls; n++) {
    const plan: FaultPlan = faultPlan(n);
    const faulty = injectFaults(s3Client(env.s3Endpoint), plan);
    const bucket = await setup();
    try {
      // Usually the crash surfaces as an error; a crash in best-effort cleanup (the staging
      // object's deletion) may not. Either way what follows must converge.
      await operation(bucket, context({ s3: faulty })).catch(() => undefined);
    } finally {
      faulty.destroy();
    }
    await operation(bucket, context({ s3: clean }));
    try {
      await check(bucket);
    } catch (e) {
      throw new Error(`after a crash after call ${n} of ${counting.calls} (${counting.commands[n - 1]}) and a rerun: ${(e as Error).message}`, { cause: e });
    }
  }
  return counting.calls;
}

describe('s3-records: crash after every SDK call of a rewrite, then rerun', () => {
  it('converges: the subject is gone from every version, everyone else is intact byte for byte', async () => {
    const calls = await crashAtEveryCall(
      () => seedLogs(clean),
      (bucket, ctx) => eraseRecords(sipStore(bucket), alice, ctx),
      (bucket) => expectLogsErased(bucket, ['alice']),
    );
    expect(calls).toBeGreaterThan(5);
  }, 120_000);
});

// ---------- s3-objects ----------

const MEDIA: Record<string, string[]> = {
  // key -> bodies of successive versions ('' = delete marker)
  'recordings/cust-1/a.wav': ['one', 'two', 'three', ''],
  'recordings/cust-1/2024/b.wav': ['bee'],
  'recordings/cust-10/a.wav': ['other-1', 'other-2'],
  'recordings/cust-1.wav': ['sibling'],
  'voicemail/cust-1/v.wav': ['not this store'],
};

async function seedMedia(s3: S3Client): Promise<string> {
  const bucket = await versionedBucket(s3, 'rel-media', true);
  for (const [key, bodies] of Object.entries(MEDIA)) {
    for (const body of bodies) {
      if (body === '') await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      else await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    }
  }
  return bucket;
}

function mediaStore(bucket: string): S3ObjectsStore {
  return S3ObjectsStoreSchema.parse({ name: 'call-recordings', kind: 's3-objects', category: 'call-recording', bucket, keyTemplate: 'recordings/{accountId}/' });
}

const cust1: Identity = { accountId: ['cust-1'] };
let mediaBaseline: Array<{ key: string; text: string; deleteMarker: boolean }> | undefined;

async function expectMediaErased(bucket: string): Promise<void> {
  const versions = await allVersions(clean, bucket);
  expect(versions.filter((v) => v.key.startsWith('recordings/cust-1/'))).toEqual([]);
  // Everyone else's versions: same keys, bodies and markers as before, oldest first.
  const others = versions.map((v) => ({ key: v.key, text: v.text, deleteMarker: v.deleteMarker })).sort((a, b) => a.key.localeCompare(b.key) || a.text.localeCompare(b.text));
  mediaBaseline ??= Object.entries(MEDIA)
    .filter(([k]) => !k.startsWith('recordings/cust-1/'))
    .flatMap(([key, bodies]) => bodies.map((b) => ({ key, text: b, deleteMarker: b === '' })))
    .sort((a, b) => a.key.localeCompare(b.key) || a.text.localeCompare(b.text));
  expect(others).toEqual(mediaBaseline);
}

async function eraseMedia(store: S3ObjectsStore, ctx: ConnectorContext, connector: Connector<S3ObjectsStore> = s3ObjectsConnector): Promise<void> {
  const planKey = `${store.bucket}:cust-1`;
  const findings = plans.get(planKey) ?? (await connector.discover(store, cust1, context({ s3: clean })));
  plans.set(planKey, findings);
  await connector.apply(store, cust1, findings.map((finding) => ({ finding, action: 'delete' as const })), ctx);
}

describe('s3-objects: crash after every SDK call of a version deletion, then rerun', () => {
  it('converges: no version or delete marker of the subject remains, nothing else changes', async () => {
    const calls = await crashAtEveryCall(
      () => seedMedia(clean),
      (bucket, ctx) => eraseMedia(mediaStore(bucket), ctx),
      (bucket) => expectMediaErased(bucket),
    );
    expect(calls).toBeGreaterThanOrEqual(3);
  }, 120_000);
});

// ---------- throttling ----------

describe('throttling: S3 answers SlowDown at random', () => {
  it.each([1, 2])('an s3-records rewrite and an s3-objects deletion still complete correctly (seed %i)', async (seed) => {
    const throttled = s3Client(env.s3Endpoint, 10);
    const stats = injectThrottling(throttled, 's3', 0.3, seed);
    try {
      const logs = await seedLogs(clean);
      await eraseRecords(sipStore(logs), alice, context({ s3: throttled }));
      await expectLogsErased(logs, ['alice']);
      const media = await seedMedia(clean);
      await eraseMedia(mediaStore(media), context({ s3: throttled }));
      await expectMediaErased(media);
    } finally {
      throttled.destroy();
    }
    expect(stats.throttled).toBeGreaterThan(0);
  }, 60_000);
});

// ---------- concurrency ----------

describe('concurrency: two erasures rewriting the same log objects at once', () => {
  it.each([1, 2, 3])('both complete and nothing else is lost (round %i)', async () => {
    const bucket = await seedLogs(clean);
    const store = sipStore(bucket);
    const a = createS3RecordsConnector({ concurrency: 2 });
    const c = createS3RecordsConnector({ concurrency: 2 });
    const results = await Promise.allSettled([eraseRecords(store, alice, context({ s3: clean }), a), eraseRecords(store, carol, context({ s3: clean }), c)]);
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok']);
    await expectLogsErased(bucket, ['alice', 'carol']);
  }, 60_000);
});
