/**
 * The s3-objects connector against the project's S3 server: every version and delete marker
 * found and deleted by version id, Object Lock refusals (never bypassed), exact prefixes,
 * concurrent uploads reported, restriction tags, exact-byte export.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { createS3ObjectsConnector, RESTRICTED_TAG, s3ObjectsConnector, subjectPrefixes } from '../../functions/connectors/s3-objects';
import type { ExportItem, Finding, Identity, S3ObjectLocator } from '../../functions/connectors/types';
import { S3ObjectsStoreSchema, type S3ObjectsStore } from '../../functions/core/datamap';
import { InvalidInputError } from '../../functions/core/errors';
import { startTestEndpoints, type TestEndpoints } from '../support/endpoints';
import { countRequests, expectLogsFreeOf, testContext, type LogEntry } from './dynamodb-fixtures';

let env: TestEndpoints;
const logs: LogEntry[] = [];
const personal = ['cust-1', 'cust-10', 'a.wav', 'b.wav', 'evil'];
/** Headers of every request the connector's client sent. */
const sentHeaders: Array<Record<string, string>> = [];

beforeAll(async () => {
  env = await startTestEndpoints({ dynamodb: false });
  env.s3.middlewareStack.add(
    (next) => async (args) => {
      const request = (args as { request?: { headers?: Record<string, string> } }).request;
      if (request?.headers) sentHeaders.push({ ...request.headers });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'test-header-recorder' },
  );
});
afterAll(async () => {
  try {
    expectLogsFreeOf(logs, personal);
    // Never, in any test, a request that bypasses governance retention.
    expect(sentHeaders.length).toBeGreaterThan(0);
    expect(sentHeaders.filter((h) => Object.keys(h).some((k) => k.toLowerCase() === 'x-amz-bypass-governance-retention'))).toEqual([]);
  } finally {
    await env?.close();
  }
});

const ctx = (now = new Date()) => ({ ...testContext(env.dynamodb, logs, env.s3), now });
let bucketSeq = 0;

async function lockedBucket(): Promise<string> {
  const bucket = `media-${++bucketSeq}`;
  await env.s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  return bucket;
}

function storeFor(bucket: string, keyTemplate = 'recordings/{accountId}/'): S3ObjectsStore {
  return S3ObjectsStoreSchema.parse({ name: 'call-recordings', kind: 's3-objects', category: 'call-recording', bucket, keyTemplate });
}

async function put(bucket: string, key: string, body: string | Buffer, extra: Partial<PutObjectCommandInput> = {}): Promise<string> {
  const out = await env.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...extra }));
  return out.VersionId as string;
}

async function listAll(bucket: string, prefix = ''): Promise<Array<{ key: string; versionId: string; marker: boolean }>> {
  const out = await env.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
  return [
    ...(out.Versions ?? []).map((v) => ({ key: v.Key as string, versionId: v.VersionId as string, marker: false })),
    ...(out.DeleteMarkers ?? []).map((m) => ({ key: m.Key as string, versionId: m.VersionId as string, marker: true })),
  ];
}

const loc = (f: Finding) => f.locator as S3ObjectLocator;
const deleteAll = (findings: readonly Finding[]) => findings.map((finding) => ({ finding, action: 'delete' as const }));
const subject: Identity = { accountId: ['cust-1'] };

async function collect(it: AsyncIterable<ExportItem>): Promise<ExportItem[]> {
  const out: ExportItem[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

describe('subjectPrefixes', () => {
  it('expands every usable value, skips and counts values that cannot be a key segment', () => {
    const store = storeFor('media-x', 'fax/{accountId}/{deviceId}/');
    expect(subjectPrefixes(store, { accountId: ['cust-1', 'a/b', '', '..'], deviceId: ['d1', 'd2', 'd1'] })).toEqual({
      prefixes: ['fax/cust-1/d1/', 'fax/cust-1/d2/'],
      skippedValues: 3,
    });
    expect(subjectPrefixes(store, { accountId: ['cust-1'] })).toEqual({ prefixes: [], skippedValues: 0 });
  });
});

describe('discover and delete', () => {
  it('finds every version and delete marker under the exact prefix, and deletes them all by version id', async () => {
    const bucket = await lockedBucket();
    const store = storeFor(bucket);
    const v1 = await put(bucket, 'recordings/cust-1/a.wav', 'one');
    const v2 = await put(bucket, 'recordings/cust-1/a.wav', 'two');
    const v3 = await put(bucket, 'recordings/cust-1/a.wav', 'three');
    await env.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'recordings/cust-1/a.wav' }));
    await put(bucket, 'recordings/cust-1/2024/b.wav', 'bee');
    // Not the subject's: a longer id, a sibling key that shares the text prefix.
    await put(bucket, 'recordings/cust-10/a.wav', 'other');
    await put(bucket, 'recordings/cust-1.wav', 'other');

    const counter = countRequests(env.s3);
    let findings: Finding[];
    try {
      findings = await s3ObjectsConnector.discover(store, { accountId: ['cust-1', 'evil/../cust-10', ''] }, ctx());
      expect(counter.counts).toEqual({ ListObjectVersionsCommand: 1, GetObjectLegalHoldCommand: 4, GetObjectRetentionCommand: 4, GetObjectTaggingCommand: 4 });
    } finally {
      counter.stop();
    }
    expect(findings.map((f) => loc(f).key).every((k) => k.startsWith('recordings/cust-1/'))).toBe(true);
    const a = findings.filter((f) => loc(f).key === 'recordings/cust-1/a.wav');
    expect(a.filter((f) => !loc(f).isDeleteMarker).map((f) => loc(f).versionId).sort()).toEqual([v1, v2, v3].sort());
    expect(a.filter((f) => loc(f).isDeleteMarker)).toHaveLength(1);
    expect(a.find((f) => loc(f).isDeleteMarker)).toMatchObject({ role: 'owner', locator: { isLatest: true, size: 0 } });
    expect(a.find((f) => loc(f).isDeleteMarker)?.protection).toBeUndefined();
    expect(a.find((f) => loc(f).versionId === v3)?.locator).toMatchObject({ isLatest: false, size: 5 });
    expect(a.find((f) => loc(f).versionId === v3)?.protection).toEqual({ legalHold: false });
    expect(findings.every((f) => f.date && Math.abs(Date.parse(f.date) - Date.now()) < 60_000)).toBe(true);
    expect(findings).toHaveLength(5);
    expect(new Set(findings.map((f) => f.id)).size).toBe(5);
    const discoverLog = logs.filter((l) => l.event === 's3-objects.discover').pop();
    expect(discoverLog?.fields).toMatchObject({ skippedValues: 2, versions: 4, deleteMarkers: 1 });

    const deletes = countRequests(env.s3);
    try {
      const result = await s3ObjectsConnector.apply(store, subject, deleteAll(findings), ctx());
      expect(result).toEqual({ applied: { delete: 5 }, refused: [], missing: [] });
      expect(deletes.counts.DeleteObjectsCommand).toBe(1);
      expect(deletes.counts.DeleteObjectCommand).toBeUndefined();
    } finally {
      deletes.stop();
    }
    expect(await listAll(bucket, 'recordings/cust-1/')).toEqual([]);
    expect((await listAll(bucket)).map((v) => v.key).sort()).toEqual(['recordings/cust-1.wav', 'recordings/cust-10/a.wav']);
    expect(await s3ObjectsConnector.discover(store, subject, ctx())).toEqual([]);
  });

  it('follows ListObjectVersions pages', async () => {
    const bucket = await lockedBucket();
    const store = storeFor(bucket);
    for (let i = 0; i < 3; i++) {
      await put(bucket, `recordings/cust-1/f${i}.wav`, `x${i}`);
      await put(bucket, `recordings/cust-1/f${i}.wav`, `y${i}`);
    }
    const counter = countRequests(env.s3);
    try {
      const findings = await createS3ObjectsConnector({ pageSize: 2 }).discover(store, subject, ctx());
      expect(findings).toHaveLength(6);
      expect(counter.counts.ListObjectVersionsCommand).toBe(3);
    } finally {
      counter.stop();
    }
  });

  it('refuses a version under legal hold until the hold is released', async () => {
    const bucket = await lockedBucket();
    const store = storeFor(bucket);
    const held = await put(bucket, 'recordings/cust-1/c.wav', 'held');
    await put(bucket, 'recordings/cust-1/c.wav', 'newer');
    await env.s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'recordings/cust-1/c.wav', VersionId: held, LegalHold: { Status: 'ON' } }));

    const findings = await s3ObjectsConnector.discover(store, subject, ctx());
    const heldFinding = findings.find((f) => loc(f).versionId === held) as Finding;
    expect(heldFinding.protection).toEqual({ legalHold: true });
    const counter = countRequests(env.s3);
    try {
      const result = await s3ObjectsConnector.apply(store, subject, deleteAll(findings), ctx());
      expect(result).toEqual({ applied: { delete: 1 }, refused: [{ findingId: heldFinding.id, reason: 'legal-hold' }], missing: [] });
      // The held version was known protected: not even sent.
      expect(counter.counts.DeleteObjectsCommand).toBe(1);
    } finally {
      counter.stop();
    }
    expect((await listAll(bucket)).map((v) => v.versionId)).toEqual([held]);

    await env.s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'recordings/cust-1/c.wav', VersionId: held, LegalHold: { Status: 'OFF' } }));
    const released = await s3ObjectsConnector.discover(store, subject, ctx());
    expect(released.map((f) => f.protection)).toEqual([{ legalHold: false }]);
    expect(await s3ObjectsConnector.apply(store, subject, deleteAll(released), ctx())).toEqual({ applied: { delete: 1 }, refused: [], missing: [] });
    expect(await listAll(bucket)).toEqual([]);
  });

  it('refuses governance retention and never bypasses it; retention that has ended does not protect', async () => {
    const bucket = await lockedBucket();
    const store = storeFor(bucket);
    const until = new Date(Date.now() + 86_400_000);
    const locked = await put(bucket, 'recordings/cust-1/g.wav', 'kept', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until });
    const findings = await s3ObjectsConnector.discover(store, subject, ctx());
    expect(findings[0].protection).toMatchObject({ legalHold: false, retention: { mode: 'GOVERNANCE' } });
    expect(Math.abs(Date.parse(findings[0].protection?.retention?.retainUntil ?? '') - until.getTime())).toBeLessThan(1000);
    const result = await s3ObjectsConnector.apply(store, subject, deleteAll(findings), ctx());
    expect(result).toEqual({ applied: {}, refused: [{ findingId: findings[0].id, reason: 'object-lock-governance' }], missing: [] });
    expect((await listAll(bucket)).map((v) => v.versionId)).toEqual([locked]);

    // With a clock past the retention date the connector tries; S3, whose clock says otherwise,
    // denies it, and the denial is reported with the protection S3 enforces.
    const later = await s3ObjectsConnector.apply(store, subject, deleteAll(findings), ctx(new Date(until.getTime() + 86_400_000)));
    expect(later).toEqual({ applied: {}, refused: [{ findingId: findings[0].id, reason: 'object-lock-governance' }], missing: [] });
    expect((await listAll(bucket)).map((v) => v.versionId)).toEqual([locked]);
  });

  it('re-reads a version S3 denies that discovery saw unprotected, and reports its protection', async () => {
    const bucket = await lockedBucket();
    const store = storeFor(bucket);
    const hold = await put(bucket, 'recordings/cust-1/h.wav', 'h');
    const compliance = await put(bucket, 'recordings/cust-1/k.wav', 'k');
    const free = await put(bucket, 'recordings/cust-1/f.wav', 'f');
    const findings = await s3ObjectsConnector.discover(store, subject, ctx());
    expect(findings.every((f) => f.protection?.legalHold === false && !f.protection.retention)).toBe(true);
    // Placed after discovery.
    await env.s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'recordings/cust-1/h.wav', VersionId: hold, LegalHold: { Status: 'ON' } }));
    await env.s3.send(
      new PutObjectRetentionCommand({ Bucket: bucket, Key: 'recordings/cust-1/k.wav', VersionId: compliance, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 3_600_000) } }),
    );
    const byVersion = new Map(findings.map((f) => [loc(f).versionId, f.id]));
    const result = await s3ObjectsConnector.apply(store, subject, deleteAll(findings), ctx());
    expect(result.applied).toEqual({ delete: 1 });
    expect([...result.refused].sort((x, y) => x.reason.localeCompare(y.reason))).toEqual([
      { findingId: byVersion.get(hold), reason: 'legal-hold' },
      { findingId: byVersion.get(compliance), reason: 'object-lock-compliance' },
    ]);
    expect((await listAll(bucket)).map((v) => v.versionId).sort()).toEqual([hold, compliance].sort());
    expect((await listAll(bucket)).map((v) => v.versionId)).not.toContain(free);
  });

  it('reports a version that vanished before the delete as missing', async () => {
    const bucket = await lockedBucket();
    const store = storeFor(bucket);
    const gone = await put(bucket, 'recordings/cust-1/m.wav', 'm1');
    await put(bucket, 'recordings/cust-1/m.wav', 'm2');
    const findings = await s3ObjectsConnector.discover(store, subject, ctx());
    await env.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'recordings/cust-1/m.wav', VersionId: gone }));
    const goneId = findings.find((f) => loc(f).versionId === gone)?.id;
    expect(await s3ObjectsConnector.apply(store, subject, deleteAll(findings), ctx())).toEqual({ applied: { delete: 1 }, refused: [], missing: [goneId] });
    expect(await listAll(bucket)).toEqual([]);
  });

  it('reports a version uploaded while the erasure runs instead of keeping it silently', async () => {
    const bucket = await lockedBucket();
    const store = storeFor(bucket);
    await put(bucket, 'recordings/cust-1/u.wav', 'before');
    const findings = await s3ObjectsConnector.discover(store, subject, ctx());
    // A concurrent upload lands just before DeleteObjects is sent.
    let uploaded: string | undefined;
    const name = 'test-concurrent-upload';
    env.s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteObjectsCommand' && !uploaded) uploaded = await put(bucket, 'recordings/cust-1/u.wav', 'during');
        return next(args);
      },
      { step: 'initialize', name },
    );
    let result;
    try {
      result = await s3ObjectsConnector.apply(store, subject, deleteAll(findings), ctx());
    } finally {
      env.s3.middlewareStack.remove(name);
    }
    expect(uploaded).toBeDefined();
    expect(result.applied).toEqual({ delete: 1 });
    expect(result.appeared).toHaveLength(1);
    const remaining = await s3ObjectsConnector.discover(store, subject, ctx());
    expect(remaining.map((f) => loc(f).versionId)).toEqual([uploaded]);
    expect(result.appeared).toEqual([remaining[0].id]);
  });

  it('refuses findings outside the subject prefix, of another store, or whose id does not match', async () => {
    const bucket = await lockedBucket();
    const store = storeFor(bucket);
    await put(bucket, 'recordings/cust-10/x.wav', 'x');
    const others = await s3ObjectsConnector.discover(store, { accountId: ['cust-10'] }, ctx());
    await expect(s3ObjectsConnector.apply(store, subject, deleteAll(others), ctx())).rejects.toThrow(InvalidInputError);
    await expect(s3ObjectsConnector.apply(store, subject, deleteAll(others), ctx())).rejects.toThrow(/not under the subject's key prefix/);
    const forged = { ...others[0], locator: { ...loc(others[0]), key: 'recordings/cust-1/../cust-10/x.wav' } };
    await expect(s3ObjectsConnector.apply(store, subject, deleteAll([forged]), ctx())).rejects.toThrow(/does not match its locator/);
    await expect(s3ObjectsConnector.apply(store, { accountId: ['cust-10'] }, [{ finding: others[0], action: 'anonymize' }], ctx())).rejects.toThrow(/does not apply/);
    expect(await listAll(bucket)).toHaveLength(1);
  });
});

describe('restrict', () => {
  it('tags every version, keeps existing tags, and unrestrict removes only its own tag', async () => {
    const bucket = await lockedBucket();
    const store = storeFor(bucket);
    const v1 = await put(bucket, 'recordings/cust-1/r.wav', 'r1', { Tagging: 'project=alpha' });
    const v2 = await put(bucket, 'recordings/cust-1/r.wav', 'r2');
    await env.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'recordings/cust-1/r.wav' }));
    const findings = await s3ObjectsConnector.discover(store, subject, ctx());
    expect(findings).toHaveLength(3);
    const result = await s3ObjectsConnector.apply(store, subject, findings.map((finding) => ({ finding, action: 'restrict' as const })), ctx());
    expect(result).toEqual({ applied: { restrict: 3 }, refused: [], missing: [] });
    const tags = async (versionId: string) =>
      (await env.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'recordings/cust-1/r.wav', VersionId: versionId }))).TagSet?.map((t) => `${t.Key}=${t.Value}`).sort();
    expect(await tags(v1)).toEqual(['dsr-restricted=true', 'project=alpha']);
    expect(await tags(v2)).toEqual([`${RESTRICTED_TAG.Key}=${RESTRICTED_TAG.Value}`]);
    const again = await s3ObjectsConnector.discover(store, subject, ctx());
    expect(again.filter((f) => f.restricted).map((f) => loc(f).versionId).sort()).toEqual([v1, v2].sort());
    expect(again.map((f) => f.id).sort()).toEqual(findings.map((f) => f.id).sort());

    await s3ObjectsConnector.apply(store, subject, findings.map((finding) => ({ finding, action: 'unrestrict' as const })), ctx());
    expect(await tags(v1)).toEqual(['project=alpha']);
    expect(await tags(v2)).toEqual([]);
    expect((await s3ObjectsConnector.discover(store, subject, ctx())).some((f) => f.restricted)).toBe(false);
  });

  it('reports a vanished version as missing', async () => {
    const bucket = await lockedBucket();
    const store = storeFor(bucket);
    const v = await put(bucket, 'recordings/cust-1/z.wav', 'z');
    const findings = await s3ObjectsConnector.discover(store, subject, ctx());
    await env.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'recordings/cust-1/z.wav', VersionId: v }));
    expect(await s3ObjectsConnector.apply(store, subject, [{ finding: findings[0], action: 'restrict' }], ctx())).toEqual({ applied: {}, refused: [], missing: [findings[0].id] });
  });
});

describe('export', () => {
  it('streams the exact bytes of the latest version of each key, names unique, vanished versions missing', async () => {
    const bucket = await lockedBucket();
    const store = storeFor(bucket);
    const audio = randomBytes(300_000);
    await put(bucket, 'recordings/cust-1/2024/a.wav', 'old bytes');
    await put(bucket, 'recordings/cust-1/2024/a.wav', audio, { ContentType: 'audio/wav' });
    await put(bucket, 'recordings/cust-1/2025/a.wav', 'second a');
    await put(bucket, 'recordings/cust-1/2025/A.WAV', 'third a');
    await put(bucket, 'recordings/cust-1/deleted.wav', 'gone');
    await env.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'recordings/cust-1/deleted.wav' }));
    const vanish = await put(bucket, 'recordings/cust-1/vanish.wav', 'v');
    const findings = await s3ObjectsConnector.discover(store, subject, ctx());
    await env.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'recordings/cust-1/vanish.wav', VersionId: vanish }));
    // A newer version uploaded after discovery: the export streams the version discovery found.
    await put(bucket, 'recordings/cust-1/2025/a.wav', 'uploaded later');

    const items = await collect(s3ObjectsConnector.export(store, subject, findings, ctx()));
    const files = items.filter((i): i is Extract<ExportItem, { type: 'file' }> => i.type === 'file');
    expect(files.map((f) => f.name)).toEqual(['a.wav', 'A-2.WAV', 'a-3.wav']);
    const first = files[0];
    expect(first.size).toBe(audio.length);
    expect(first.contentType).toBe('audio/wav');
    expect((await readAll(await first.open())).equals(audio)).toBe(true);
    expect((await readAll(await files[2].open())).toString()).toBe('second a');
    const vanishedId = findings.find((f) => loc(f).versionId === vanish)?.id;
    expect(items.filter((i) => i.type === 'missing')).toEqual([{ type: 'missing', findingId: vanishedId, reason: 'version-gone' }]);
    // Old versions and keys whose latest is a delete marker are not exported.
    expect(items).toHaveLength(4);
  });
});

describe('a bucket without Object Lock', () => {
  it('reads "no configuration" as unprotected and stops asking', async () => {
    const bucket = `plain-${++bucketSeq}`;
    await env.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await env.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const store = storeFor(bucket);
    for (let i = 0; i < 3; i++) await put(bucket, 'recordings/cust-1/p.wav', `p${i}`);
    const counter = countRequests(env.s3);
    try {
      const findings = await createS3ObjectsConnector({ concurrency: 1 }).discover(store, subject, ctx());
      expect(findings.map((f) => f.protection)).toEqual([{ legalHold: false }, { legalHold: false }, { legalHold: false }]);
      expect(counter.counts.GetObjectLegalHoldCommand).toBe(1);
      expect(counter.counts.GetObjectRetentionCommand).toBe(1);
      const result = await s3ObjectsConnector.apply(store, subject, deleteAll(findings), ctx());
      expect(result.applied).toEqual({ delete: 3 });
    } finally {
      counter.stop();
    }
    expect(await listAll(bucket)).toEqual([]);
  });

  it('handles the null version of an unversioned bucket', async () => {
    const bucket = `plain-${++bucketSeq}`;
    await env.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const store = storeFor(bucket);
    await put(bucket, 'recordings/cust-1/n.wav', 'null version');
    const findings = await s3ObjectsConnector.discover(store, subject, ctx());
    expect(findings.map((f) => loc(f).versionId)).toEqual([null]);
    const [file] = await collect(s3ObjectsConnector.export(store, subject, findings, ctx()));
    expect(file.type === 'file' && (await readAll(await file.open())).toString()).toBe('null version');
    expect(await s3ObjectsConnector.apply(store, subject, deleteAll(findings), ctx())).toEqual({ applied: { delete: 1 }, refused: [], missing: [] });
    expect(await listAll(bucket)).toEqual([]);
  });
});
