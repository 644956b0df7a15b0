import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  paginateListObjectsV2,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type ListObjectVersionsCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startS3Server, type RunningS3Server } from '../../local/s3';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };
const clientFor = (endpoint: string) => new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });

/** Resolves to the S3 error a call failed with, and fails the test if it succeeded. */
async function failure(p: Promise<unknown>): Promise<{ name: string; status?: number; headers: Record<string, string>; err: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number }; $response?: { headers: Record<string, string> } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, headers: err.$response?.headers ?? {}, err: e as Record<string, unknown> };
  }
  throw new Error('expected the S3 call to fail, but it succeeded');
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/**
 * Plain unsigned PUTs for seeding many keys: a third of the CPU of SDK calls, which matters on a
 * busy two-core CI machine. What is under test is the listing, not how the keys got there.
 */
const seedAgent = new Agent({ keepAlive: true, maxSockets: 16 });
function seed(bucket: string, key: string, data: string): Promise<void> {
  const url = new URL(`${server.endpoint}/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'PUT', agent: seedAgent, headers: { 'content-length': Buffer.byteLength(data) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`seed ${key}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const future = (days: number) => new Date(Date.now() + days * 86_400_000);

let server: RunningS3Server;
let s3: S3Client;

beforeAll(async () => {
  server = await startS3Server({ port: 0 });
  s3 = clientFor(server.endpoint);
});

afterAll(async () => {
  s3?.destroy();
  seedAgent.destroy();
  await server?.close();
});

async function body(bucket: string, key: string, versionId?: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return out.Body!.transformToString();
}

async function versionedBucket(name: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
}

describe('buckets', () => {
  test('create, head, list, duplicate, invalid name, delete only when empty', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bk-basic' }));
    expect((await s3.send(new HeadBucketCommand({ Bucket: 'bk-basic' }))).$metadata.httpStatusCode).toBe(200);
    const listed = await s3.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((b) => b.Name)).toContain('bk-basic');
    expect((await s3.send(new GetBucketLocationCommand({ Bucket: 'bk-basic' }))).LocationConstraint).toBeUndefined();
    // Re-creating one's own bucket: 200 in us-east-1 (S3's legacy answer), 409 elsewhere.
    expect((await s3.send(new CreateBucketCommand({ Bucket: 'bk-basic' }))).$metadata.httpStatusCode).toBe(200);
    await s3.send(new PutObjectCommand({ Bucket: 'bk-basic', Key: 'kept', Body: 'kept' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'bk-basic' }));
    expect(await body('bk-basic', 'kept')).toBe('kept');
    await s3.send(new DeleteObjectCommand({ Bucket: 'bk-basic', Key: 'kept' }));
    const euWest = new S3Client({ endpoint: server.endpoint, region: 'eu-west-1', forcePathStyle: true, credentials });
    await euWest.send(new CreateBucketCommand({ Bucket: 'bk-eu', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    expect(await failure(euWest.send(new CreateBucketCommand({ Bucket: 'bk-eu', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })))).toMatchObject({ name: 'BucketAlreadyOwnedByYou', status: 409 });
    euWest.destroy();
    expect(await failure(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })))).toMatchObject({ name: 'InvalidBucketName', status: 400 });
    expect(await failure(s3.send(new HeadBucketCommand({ Bucket: 'bk-missing' })))).toMatchObject({ status: 404 });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'bk-missing', Key: 'k' })))).toMatchObject({ name: 'NoSuchBucket', status: 404 });
    expect(await failure(s3.send(new ListObjectVersionsCommand({ Bucket: 'bk-missing' })))).toMatchObject({ name: 'NoSuchBucket' });
    await s3.send(new PutObjectCommand({ Bucket: 'bk-basic', Key: 'x', Body: 'x' }));
    expect(await failure(s3.send(new DeleteBucketCommand({ Bucket: 'bk-basic' })))).toMatchObject({ name: 'BucketNotEmpty', status: 409 });
    await s3.send(new DeleteObjectCommand({ Bucket: 'bk-basic', Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'bk-basic' }));
    expect(await failure(s3.send(new HeadBucketCommand({ Bucket: 'bk-basic' })))).toMatchObject({ status: 404 });
  });
});

describe('versioning', () => {
  const B = 'bk-versions';
  test('three versions, a delete marker, old versions readable, permanent version delete', async () => {
    await versionedBucket(B);
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: B }))).Status).toBe('Enabled');
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      const out = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'doc.txt', Body: text, Metadata: { rev: text } }));
      ids.push(out.VersionId!);
    }
    expect(new Set(ids).size).toBe(3);
    expect(await body(B, 'doc.txt')).toBe('three');

    const del = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'doc.txt' }));
    expect(del.DeleteMarker).toBe(true);
    expect(del.VersionId).toBeTruthy();
    const gone = await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'doc.txt' })));
    expect(gone).toMatchObject({ name: 'NoSuchKey', status: 404 });
    expect(gone.headers['x-amz-delete-marker']).toBe('true');
    const headGone = await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'doc.txt' })));
    expect(headGone.status).toBe(404);
    expect(headGone.headers['x-amz-delete-marker']).toBe('true');

    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: B }));
    expect(listed.Versions?.map((v) => v.VersionId)).toEqual([...ids].reverse());
    expect(listed.Versions?.every((v) => v.IsLatest === false)).toBe(true);
    expect(listed.DeleteMarkers).toEqual([expect.objectContaining({ Key: 'doc.txt', VersionId: del.VersionId, IsLatest: true })]);

    expect(await body(B, 'doc.txt', ids[0])).toBe('one');
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'doc.txt', VersionId: ids[1] }));
    expect(head.Metadata).toEqual({ rev: 'two' });
    expect(head.VersionId).toBe(ids[1]);
    const onMarker = await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'doc.txt', VersionId: del.VersionId })));
    expect(onMarker).toMatchObject({ status: 405 });

    const removed = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'doc.txt', VersionId: ids[0] }));
    expect(removed.VersionId).toBe(ids[0]);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'doc.txt', VersionId: ids[0] })))).toMatchObject({ name: 'NoSuchVersion', status: 404 });
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: B }));
    expect(after.Versions?.map((v) => v.VersionId)).toEqual([ids[2], ids[1]]);

    // Removing the delete marker brings the newest version back.
    const unmark = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'doc.txt', VersionId: del.VersionId }));
    expect(unmark.DeleteMarker).toBe(true);
    expect(await body(B, 'doc.txt')).toBe('three');
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'doc.txt', VersionId: 'not a version!' })))).toMatchObject({ name: 'InvalidArgument', status: 400 });
  });

  test('null versions: unversioned and suspended buckets replace the null version', async () => {
    const U = 'bk-null';
    await s3.send(new CreateBucketCommand({ Bucket: U }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: U }))).Status).toBeUndefined();
    const first = await s3.send(new PutObjectCommand({ Bucket: U, Key: 'k', Body: 'a' }));
    expect(first.VersionId).toBeUndefined();
    await s3.send(new PutObjectCommand({ Bucket: U, Key: 'k', Body: 'b' }));
    let listed = await s3.send(new ListObjectVersionsCommand({ Bucket: U }));
    expect(listed.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([['null', true]]);

    await s3.send(new PutBucketVersioningCommand({ Bucket: U, VersioningConfiguration: { Status: 'Enabled' } }));
    const real = await s3.send(new PutObjectCommand({ Bucket: U, Key: 'k', Body: 'c' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: U, VersioningConfiguration: { Status: 'Suspended' } }));
    // A write to a suspended bucket makes the null version and, as on S3, names no version id;
    // reads of that version do name it "null".
    const suspended = await s3.send(new PutObjectCommand({ Bucket: U, Key: 'k', Body: 'd' }));
    expect(suspended.VersionId).toBeUndefined();
    expect(suspended.$metadata.httpStatusCode).toBe(200);
    listed = await s3.send(new ListObjectVersionsCommand({ Bucket: U }));
    expect(listed.Versions?.map((v) => v.VersionId)).toEqual(['null', real.VersionId]);
    expect(await body(U, 'k', 'null')).toBe('d');
    expect((await s3.send(new HeadObjectCommand({ Bucket: U, Key: 'k' }))).VersionId).toBe('null');
    expect((await s3.send(new GetObjectCommand({ Bucket: U, Key: 'k', VersionId: 'null' }))).VersionId).toBe('null');
    expect((await s3.send(new HeadObjectCommand({ Bucket: U, Key: 'k', VersionId: real.VersionId }))).VersionId).toBe(real.VersionId);
    const copied = await s3.send(new CopyObjectCommand({ Bucket: U, Key: 'copy', CopySource: `${U}/k?versionId=${real.VersionId}` }));
    expect(copied.VersionId).toBeUndefined();
    expect(copied.CopySourceVersionId).toBe(real.VersionId);
    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: U, Key: 'mpu' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: U, Key: 'mpu', UploadId: mpu.UploadId, PartNumber: 1, Body: 'p' }));
    const completed = await s3.send(new CompleteMultipartUploadCommand({ Bucket: U, Key: 'mpu', UploadId: mpu.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect(completed.VersionId).toBeUndefined();
    expect((await s3.send(new HeadObjectCommand({ Bucket: U, Key: 'mpu' }))).VersionId).toBe('null');
    await s3.send(new DeleteObjectsCommand({ Bucket: U, Delete: { Objects: [{ Key: 'copy', VersionId: 'null' }, { Key: 'mpu', VersionId: 'null' }] } }));

    const del = await s3.send(new DeleteObjectCommand({ Bucket: U, Key: 'k' }));
    expect(del).toMatchObject({ DeleteMarker: true, VersionId: 'null' });
    listed = await s3.send(new ListObjectVersionsCommand({ Bucket: U }));
    expect(listed.Versions?.map((v) => v.VersionId)).toEqual([real.VersionId]);
    expect(listed.DeleteMarkers?.map((m) => m.VersionId)).toEqual(['null']);
  });
});

describe('object lock', () => {
  const L = 'bk-locked';
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: L, ObjectLockEnabledForBucket: true }));
  });

  test('lock-enabled bucket is versioned and cannot be suspended', async () => {
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: L }))).Status).toBe('Enabled');
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: L }))).ObjectLockConfiguration?.ObjectLockEnabled).toBe('Enabled');
    expect(await failure(s3.send(new PutBucketVersioningCommand({ Bucket: L, VersioningConfiguration: { Status: 'Suspended' } })))).toMatchObject({ name: 'InvalidBucketState', status: 409 });
    await s3.send(new CreateBucketCommand({ Bucket: 'bk-unlocked' }));
    expect(await failure(s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'bk-unlocked' })))).toMatchObject({ name: 'ObjectLockConfigurationNotFoundError', status: 404 });
    await s3.send(new PutObjectCommand({ Bucket: 'bk-unlocked', Key: 'k', Body: 'x' }));
    expect(await failure(s3.send(new PutObjectLegalHoldCommand({ Bucket: 'bk-unlocked', Key: 'k', LegalHold: { Status: 'ON' } })))).toMatchObject({ name: 'InvalidRequest', status: 400 });
  });

  test('legal hold refuses a version delete until released; a plain delete still adds a marker', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: L, Key: 'held', Body: 'evidence' }));
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: L, Key: 'held', VersionId: put.VersionId, LegalHold: { Status: 'ON' } }));
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket: L, Key: 'held' }))).LegalHold?.Status).toBe('ON');
    const refused = await failure(s3.send(new DeleteObjectCommand({ Bucket: L, Key: 'held', VersionId: put.VersionId })));
    expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(refused.err.message).toMatch(/object lock/i);
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: L, Key: 'held' }));
    expect(marker.DeleteMarker).toBe(true);
    expect(await body(L, 'held', put.VersionId)).toBe('evidence');
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: L, Key: 'held', VersionId: put.VersionId, LegalHold: { Status: 'OFF' } }));
    await s3.send(new DeleteObjectCommand({ Bucket: L, Key: 'held', VersionId: put.VersionId }));
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: L, Key: 'held', VersionId: put.VersionId })))).toMatchObject({ status: 404 });
  });

  test('governance retention: refused without bypass, allowed with it; compliance refused even with bypass', async () => {
    const gov = await s3.send(new PutObjectCommand({ Bucket: L, Key: 'gov', Body: 'g', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: future(1) }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: L, Key: 'gov' }));
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
    expect(head.ObjectLockRetainUntilDate!.getTime()).toBeGreaterThan(Date.now());
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: L, Key: 'gov', VersionId: gov.VersionId })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    // Shortening governance retention needs the bypass header too.
    expect(await failure(s3.send(new PutObjectRetentionCommand({ Bucket: L, Key: 'gov', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 3_600_000) } })))).toMatchObject({ name: 'AccessDenied' });
    await s3.send(new DeleteObjectCommand({ Bucket: L, Key: 'gov', VersionId: gov.VersionId, BypassGovernanceRetention: true }));
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: L, Key: 'gov' })))).toMatchObject({ name: 'NoSuchKey' });

    const comp = await s3.send(new PutObjectCommand({ Bucket: L, Key: 'comp', Body: 'c' }));
    await s3.send(new PutObjectRetentionCommand({ Bucket: L, Key: 'comp', VersionId: comp.VersionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: future(2) } }));
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket: L, Key: 'comp' }))).Retention?.Mode).toBe('COMPLIANCE');
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: L, Key: 'comp', VersionId: comp.VersionId, BypassGovernanceRetention: true })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(await failure(s3.send(new PutObjectRetentionCommand({ Bucket: L, Key: 'comp', BypassGovernanceRetention: true, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: future(1) } })))).toMatchObject({ name: 'AccessDenied' });
    expect(await failure(s3.send(new PutObjectRetentionCommand({ Bucket: L, Key: 'comp', BypassGovernanceRetention: true, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: future(3) } })))).toMatchObject({ name: 'AccessDenied' });
    await s3.send(new PutObjectRetentionCommand({ Bucket: L, Key: 'comp', Retention: { Mode: 'COMPLIANCE', RetainUntilDate: future(5) } }));
    const extended = await s3.send(new GetObjectRetentionCommand({ Bucket: L, Key: 'comp' }));
    expect(extended.Retention?.RetainUntilDate!.getTime()).toBeGreaterThan(future(4).getTime());
  });

  test('retention changes follow S3: GOVERNANCE is raised to COMPLIANCE, shortened or removed only with bypass', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: L, Key: 'modes', Body: 'm', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: future(2) }));
    const at = { Bucket: L, Key: 'modes', VersionId: put.VersionId };
    const retention = async () => (await s3.send(new GetObjectRetentionCommand(at))).Retention;
    // Kept or lengthened in GOVERNANCE: no bypass needed.
    await s3.send(new PutObjectRetentionCommand({ ...at, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: future(3) } }));
    expect((await retention())?.RetainUntilDate!.getTime()).toBeGreaterThan(future(2.5).getTime());
    // Every other change needs the bypass header, the mode change to COMPLIANCE included.
    for (const next of [{ Mode: 'COMPLIANCE' as const, RetainUntilDate: future(3) }, { Mode: 'COMPLIANCE' as const, RetainUntilDate: future(10) }, { Mode: 'GOVERNANCE' as const, RetainUntilDate: future(1) }, {}]) {
      const refused = await failure(s3.send(new PutObjectRetentionCommand({ ...at, Retention: next })));
      expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
    }
    expect(await retention()).toMatchObject({ Mode: 'GOVERNANCE' });
    await s3.send(new PutObjectRetentionCommand({ ...at, BypassGovernanceRetention: true, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: future(1) } }));
    await s3.send(new PutObjectRetentionCommand({ ...at, BypassGovernanceRetention: true, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: future(1) } }));
    expect(await retention()).toMatchObject({ Mode: 'COMPLIANCE' });
    // COMPLIANCE is immutable but for lengthening: no mode change, no shortening, with or without bypass.
    for (const bypass of [false, true]) {
      expect(await failure(s3.send(new PutObjectRetentionCommand({ ...at, BypassGovernanceRetention: bypass, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: future(5) } })))).toMatchObject({ name: 'AccessDenied' });
      expect(await failure(s3.send(new PutObjectRetentionCommand({ ...at, BypassGovernanceRetention: bypass, Retention: {} })))).toMatchObject({ name: 'AccessDenied' });
    }
    await s3.send(new PutObjectRetentionCommand({ ...at, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: future(4) } }));
    expect(await retention()).toMatchObject({ Mode: 'COMPLIANCE' });
    expect(await failure(s3.send(new DeleteObjectCommand({ ...at, BypassGovernanceRetention: true })))).toMatchObject({ name: 'AccessDenied', status: 403 });
  });

  test('a version under legal hold or retention refuses DeleteObject and DeleteObjects by version, also when conditional', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: L, Key: 'cond-locked', Body: 'c', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: future(1), ObjectLockLegalHoldStatus: 'ON' }));
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: L, Key: 'cond-locked', VersionId: put.VersionId, IfMatch: put.ETag, BypassGovernanceRetention: true })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: L, BypassGovernanceRetention: true, Delete: { Objects: [{ Key: 'cond-locked', VersionId: put.VersionId, ETag: put.ETag }] } }));
    expect(out.Errors).toEqual([expect.objectContaining({ Key: 'cond-locked', Code: 'AccessDenied' })]);
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: L, Key: 'cond-locked', VersionId: put.VersionId, LegalHold: { Status: 'OFF' } }));
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: L, Key: 'cond-locked', VersionId: put.VersionId })))).toMatchObject({ name: 'AccessDenied' });
    const freed = await s3.send(new DeleteObjectsCommand({ Bucket: L, BypassGovernanceRetention: true, Delete: { Objects: [{ Key: 'cond-locked', VersionId: put.VersionId, ETag: put.ETag }] } }));
    expect(freed.Deleted).toEqual([expect.objectContaining({ Key: 'cond-locked', VersionId: put.VersionId })]);
  });

  test('an upload with Object Lock settings must carry Content-MD5 or a checksum, as on S3', async () => {
    const until = future(1).toISOString();
    const url = `${server.endpoint}/${L}/needs-integrity`;
    const bare = await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': until } });
    expect(bare.status).toBe(400);
    expect(await bare.text()).toMatch(/<Code>InvalidRequest<\/Code>.*Content-MD5 OR x-amz-checksum-/s);
    const hold = await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-amz-object-lock-legal-hold': 'OFF' } });
    expect(hold.status).toBe(400);
    const withMd5 = await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-amz-object-lock-legal-hold': 'ON', 'content-md5': createHash('md5').update('x').digest('base64') } });
    expect(withMd5.status).toBe(200);
    // A plain PUT into a lock-enabled bucket without a default rule needs nothing.
    expect((await fetch(`${server.endpoint}/${L}/plain-put`, { method: 'PUT', body: 'y' })).status).toBe(200);
    // The SDK sends a checksum by itself.
    await s3.send(new PutObjectCommand({ Bucket: L, Key: 'needs-integrity', Body: 'z', ObjectLockLegalHoldStatus: 'OFF' }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: L, Prefix: 'needs-integrity' }));
    expect(versions.Versions).toHaveLength(2);
  });

  test('default retention from the bucket configuration applies to new versions', async () => {
    const D = 'bk-default-lock';
    await s3.send(new CreateBucketCommand({ Bucket: D, ObjectLockEnabledForBucket: true }));
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: D, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } }));
    const cfg = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: D }));
    expect(cfg.ObjectLockConfiguration?.Rule?.DefaultRetention).toEqual({ Mode: 'GOVERNANCE', Days: 1 });
    const put = await s3.send(new PutObjectCommand({ Bucket: D, Key: 'k', Body: 'x' }));
    // The bucket's rule makes any upload an Object Lock upload: an integrity check is required.
    expect((await fetch(`${server.endpoint}/${D}/bare`, { method: 'PUT', body: 'x' })).status).toBe(400);
    const r = await s3.send(new GetObjectRetentionCommand({ Bucket: D, Key: 'k', VersionId: put.VersionId }));
    expect(r.Retention?.Mode).toBe('GOVERNANCE');
    const until = r.Retention!.RetainUntilDate!.getTime();
    expect(Math.abs(until - future(1).getTime())).toBeLessThan(60_000);
  });

  test('DeleteObjects reports the locked version as an error and deletes the others', async () => {
    const locked = await s3.send(new PutObjectCommand({ Bucket: L, Key: 'batch/locked', Body: 'l', ObjectLockLegalHoldStatus: 'ON' }));
    const free = await s3.send(new PutObjectCommand({ Bucket: L, Key: 'batch/free', Body: 'f' }));
    await s3.send(new PutObjectCommand({ Bucket: L, Key: 'batch/plain', Body: 'p' }));
    const out = await s3.send(new DeleteObjectsCommand({
      Bucket: L,
      Delete: { Objects: [{ Key: 'batch/locked', VersionId: locked.VersionId }, { Key: 'batch/free', VersionId: free.VersionId }, { Key: 'batch/plain' }] },
    }));
    expect(out.Errors).toEqual([expect.objectContaining({ Key: 'batch/locked', VersionId: locked.VersionId, Code: 'AccessDenied' })]);
    expect(out.Deleted).toHaveLength(2);
    expect(out.Deleted).toEqual(expect.arrayContaining([
      expect.objectContaining({ Key: 'batch/free', VersionId: free.VersionId }),
      expect.objectContaining({ Key: 'batch/plain', DeleteMarker: true, DeleteMarkerVersionId: expect.any(String) }),
    ]));
    expect(await body(L, 'batch/locked')).toBe('l');
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: L, Key: 'batch/free', VersionId: free.VersionId })))).toMatchObject({ status: 404 });
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: L, Delete: { Quiet: true, Objects: [{ Key: 'batch/locked', VersionId: locked.VersionId }, { Key: 'batch/other' }] } }));
    expect(quiet.Deleted ?? []).toEqual([]);
    expect(quiet.Errors?.map((e) => e.Code)).toEqual(['AccessDenied']);
  });
});

describe('conditional deletes', () => {
  const C = 'bk-cond-delete';
  beforeAll(() => versionedBucket(C));

  test('DeleteObjects honours each object\'s ETag: PreconditionFailed or NoSuchKey for that key, the others deleted', async () => {
    const a = await s3.send(new PutObjectCommand({ Bucket: C, Key: 'a', Body: 'a1' }));
    const b = await s3.send(new PutObjectCommand({ Bucket: C, Key: 'b', Body: 'b1' }));
    const rewritten = await s3.send(new PutObjectCommand({ Bucket: C, Key: 'b', Body: 'b2' }));
    await s3.send(new PutObjectCommand({ Bucket: C, Key: 'c', Body: 'c1' }));
    const out = await s3.send(new DeleteObjectsCommand({
      Bucket: C,
      Delete: { Objects: [{ Key: 'a', ETag: a.ETag }, { Key: 'b', ETag: b.ETag }, { Key: 'missing', ETag: a.ETag }, { Key: 'c', ETag: '*' }, { Key: 'b', VersionId: b.VersionId, ETag: b.ETag }] },
    }));
    expect(out.Deleted?.map((d) => [d.Key, d.DeleteMarker])).toEqual([['a', true], ['c', true]]);
    // The condition is on the current version, also when an older version is named.
    expect(out.Errors?.map((e) => [e.Key, e.Code])).toEqual([['b', 'PreconditionFailed'], ['missing', 'NoSuchKey'], ['b', 'PreconditionFailed']]);
    expect(await body(C, 'b')).toBe('b2');
    expect(await body(C, 'b', b.VersionId)).toBe('b1');
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: C, Key: 'a' })))).toMatchObject({ name: 'NoSuchKey' });
    // A delete marker is no current object: the condition fails with NoSuchKey.
    const onMarker = await s3.send(new DeleteObjectsCommand({ Bucket: C, Delete: { Objects: [{ Key: 'a', ETag: '*' }] } }));
    expect(onMarker.Errors?.map((e) => e.Code)).toEqual(['NoSuchKey']);
    const matching = await s3.send(new DeleteObjectsCommand({ Bucket: C, Delete: { Quiet: true, Objects: [{ Key: 'b', ETag: rewritten.ETag }] } }));
    expect(matching.Errors ?? []).toEqual([]);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: C, Key: 'b' })))).toMatchObject({ name: 'NoSuchKey' });
  });

  test('side by side: of two deletes conditional on one ETag, exactly one removes the object', async () => {
    for (let round = 0; round < 5; round++) {
      const key = `race-${round}`;
      const put = await s3.send(new PutObjectCommand({ Bucket: C, Key: key, Body: `r${round}` }));
      const [batch, single] = await Promise.allSettled([
        s3.send(new DeleteObjectsCommand({ Bucket: C, Delete: { Objects: [{ Key: key, ETag: put.ETag }] } })),
        s3.send(new DeleteObjectCommand({ Bucket: C, Key: key, IfMatch: put.ETag })),
      ]);
      const batchDeleted = batch.status === 'fulfilled' && (batch.value.Deleted?.length ?? 0) === 1;
      const singleDeleted = single.status === 'fulfilled';
      expect([batchDeleted, singleDeleted].filter(Boolean)).toHaveLength(1);
      if (!batchDeleted) expect(batch.status === 'fulfilled' && batch.value.Errors?.[0]?.Code).toBe('NoSuchKey');
      if (!singleDeleted) expect(single.status === 'rejected' && (single.reason as Error).name).toBe('NoSuchKey');
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: C, Prefix: key }));
      expect(versions.DeleteMarkers).toHaveLength(1);
    }
  });

  test('DeleteObject If-Match: 412 on another ETag, 404 with no current object, a list of ETags matches any', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: C, Key: 'single', Body: 's' }));
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: C, Key: 'single', IfMatch: '"0123"' })))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: C, Key: 'nothing-here', IfMatch: '*' })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    await s3.send(new DeleteObjectCommand({ Bucket: C, Key: 'single', IfMatch: `"0123", ${put.ETag}` }));
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: C, Key: 'single', IfMatch: '*' })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
  });
});

describe('pagination across 1,000+ keys', () => {
  const P = 'bk-pages';
  const keys = Array.from({ length: 1050 }, (_, i) => `logs/${String(i % 7)}/${String(i).padStart(5, '0')}.gz`);
  beforeAll(async () => {
    await versionedBucket(P);
    await mapLimit(keys, 16, (key) => seed(P, key, key));
    // A second version for a run of keys, so version pages split inside keys.
    await mapLimit(keys.slice(0, 120), 16, (key) => seed(P, key, `${key} v2`));
    await mapLimit(keys.slice(120, 140), 8, (Key) => s3.send(new DeleteObjectCommand({ Bucket: P, Key })));
  }, 120_000);

  test('ListObjectsV2 paginator returns every live key once, in order', async () => {
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 100 }, { Bucket: P, Prefix: 'logs/' })) {
      pages++;
      for (const o of page.Contents ?? []) seen.push(o.Key!);
    }
    const live = keys.filter((k) => !keys.slice(120, 140).includes(k)).sort();
    expect(seen).toEqual(live);
    expect(pages).toBe(Math.ceil(live.length / 100));
  });

  test('delimiter, StartAfter and ListObjects v1', async () => {
    const top = await s3.send(new ListObjectsCommand({ Bucket: P, Prefix: 'logs/', Delimiter: '/' }));
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['0', '1', '2', '3', '4', '5', '6'].map((d) => `logs/${d}/`));
    expect(top.Contents ?? []).toEqual([]);
    const prefixes: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 3 }, { Bucket: P, Delimiter: '/', Prefix: 'logs/' })) {
      prefixes.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
    }
    expect(prefixes).toHaveLength(7);
    const after = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 500 }, { Bucket: P, StartAfter: 'logs/6/' })) after.push(...(page.Contents ?? []));
    expect(after).toHaveLength(keys.filter((k, i) => k.startsWith('logs/6/') && (i < 120 || i >= 140)).length);
  });

  test('ListObjectVersions pages with KeyMarker/VersionIdMarker cover every version and marker once', async () => {
    const seen = new Set<string>();
    let markers = 0;
    let input = { Bucket: P, MaxKeys: 97 } as { Bucket: string; MaxKeys: number; KeyMarker?: string; VersionIdMarker?: string };
    for (;;) {
      const page: ListObjectVersionsCommandOutput = await s3.send(new ListObjectVersionsCommand(input));
      const rows = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])];
      expect(rows.length).toBeLessThanOrEqual(97);
      for (const v of rows) {
        const id = `${v.Key}@${v.VersionId}`;
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
      markers += page.DeleteMarkers?.length ?? 0;
      if (!page.IsTruncated) break;
      input = { ...input, KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
    }
    expect(seen.size).toBe(1050 + 120 + 20);
    expect(markers).toBe(20);
  });
});

describe('multipart uploads', () => {
  const M = 'bk-multipart';
  const big = randomBytes(11 * 1024 * 1024 + 12345);
  let etag = '';
  beforeAll(async () => {
    await versionedBucket(M);
    const upload = new Upload({ client: s3, params: { Bucket: M, Key: 'big.bin', Body: Readable.from([big.subarray(0, 3_000_000), big.subarray(3_000_000)]) }, partSize: 5 * 1024 * 1024, queueSize: 3 });
    const out = await upload.done();
    etag = out.ETag!;
  });

  test('lib-storage Upload of a streamed body > 5 MB: md5-of-md5s ETag, exact bytes back, ranges across parts', async () => {
    const parts = [big.subarray(0, 5 << 20), big.subarray(5 << 20, 10 << 20), big.subarray(10 << 20)];
    const expected = md5(Buffer.concat(parts.map((p) => Buffer.from(md5(p), 'hex'))));
    expect(etag).toBe(`"${expected}-3"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: M, Key: 'big.bin', ChecksumMode: 'ENABLED' }));
    expect(got.ContentLength).toBe(big.length);
    expect(md5(Buffer.from(await got.Body!.transformToByteArray()))).toBe(md5(big));
    const start = (5 << 20) - 10;
    const ranged = await s3.send(new GetObjectCommand({ Bucket: M, Key: 'big.bin', Range: `bytes=${start}-${start + 19}` }));
    expect(ranged.ContentRange).toBe(`bytes ${start}-${start + 19}/${big.length}`);
    expect(Buffer.from(await ranged.Body!.transformToByteArray()).equals(big.subarray(start, start + 20))).toBe(true);
    const part2 = await s3.send(new GetObjectCommand({ Bucket: M, Key: 'big.bin', PartNumber: 2 }));
    expect(part2.PartsCount).toBe(3);
    expect(part2.ContentLength).toBe(5 << 20);
  });

  test('UploadPartCopy assembles ranges of an existing object; ListMultipartUploads shows uploads in progress', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: M, Key: 'assembled', ContentType: 'application/x-test' }));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: M }));
    expect(uploads.Uploads?.map((u) => [u.Key, u.UploadId])).toContainEqual(['assembled', UploadId]);
    const first = await s3.send(new UploadPartCopyCommand({ Bucket: M, Key: 'assembled', UploadId, PartNumber: 1, CopySource: `${M}/big.bin`, CopySourceRange: `bytes=0-${(5 << 20) - 1}` }));
    const second = await s3.send(new UploadPartCopyCommand({ Bucket: M, Key: 'assembled', UploadId, PartNumber: 2, CopySource: `${M}/big.bin`, CopySourceRange: `bytes=${(5 << 20) - 50}-${(5 << 20) + 49}` }));
    expect(second.CopyPartResult?.ETag).toBe(`"${md5(big.subarray((5 << 20) - 50, (5 << 20) + 50))}"`);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: M, Key: 'assembled', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: first.CopyPartResult?.ETag }, { PartNumber: 2, ETag: second.CopyPartResult?.ETag }] } }));
    const got = await s3.send(new GetObjectCommand({ Bucket: M, Key: 'assembled' }));
    expect(got.ContentType).toBe('application/x-test');
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.equals(Buffer.concat([big.subarray(0, 5 << 20), big.subarray((5 << 20) - 50, (5 << 20) + 50)]))).toBe(true);
  });

  test('ListParts, small parts, wrong ETags, conditional completion, abort', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: M, Key: 'manual' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: M, Key: 'manual', UploadId, PartNumber: 1, Body: Buffer.alloc(1024, 1) }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: M, Key: 'manual', UploadId, PartNumber: 2, Body: Buffer.alloc(10, 2) }));
    const listed = await s3.send(new ListPartsCommand({ Bucket: M, Key: 'manual', UploadId }));
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([[1, 1024, p1.ETag], [2, 10, p2.ETag]]);
    const parts = [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }];
    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: M, Key: 'manual', UploadId, MultipartUpload: { Parts: parts } })))).toMatchObject({ name: 'EntityTooSmall', status: 400 });
    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: M, Key: 'manual', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0000"' }] } })))).toMatchObject({ name: 'InvalidPart' });
    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: M, Key: 'manual', UploadId, MultipartUpload: { Parts: [...parts].reverse() } })))).toMatchObject({ name: 'InvalidPartOrder' });
    // A single part may be small; If-None-Match: * fails because big.bin... is another key, so use it on an existing key.
    await s3.send(new PutObjectCommand({ Bucket: M, Key: 'manual', Body: 'exists' }));
    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: M, Key: 'manual', UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [parts[0]] } })))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: M, Key: 'manual', UploadId, MultipartUpload: { Parts: [parts[0]] } }));
    expect(done.ETag).toMatch(/-1"$/);
    expect(await failure(s3.send(new ListPartsCommand({ Bucket: M, Key: 'manual', UploadId })))).toMatchObject({ name: 'NoSuchUpload', status: 404 });
    const aborted = await s3.send(new CreateMultipartUploadCommand({ Bucket: M, Key: 'aborted' }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: M, Key: 'aborted', UploadId: aborted.UploadId }));
    expect(await failure(s3.send(new UploadPartCommand({ Bucket: M, Key: 'aborted', UploadId: aborted.UploadId, PartNumber: 1, Body: 'x' })))).toMatchObject({ name: 'NoSuchUpload' });
  });
});

describe('multipart completion retried after success', () => {
  const R = 'bk-mpu-retry';
  beforeAll(() => versionedBucket(R));

  async function uploadWithOnePart(key: string): Promise<{ UploadId: string; Parts: { PartNumber: number; ETag: string }[] }> {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: R, Key: key }));
    const part = await s3.send(new UploadPartCommand({ Bucket: R, Key: key, UploadId, PartNumber: 1, Body: `${key} body` }));
    return { UploadId: UploadId!, Parts: [{ PartNumber: 1, ETag: part.ETag! }] };
  }

  test('the same request again answers 200 with the same result, conditions not evaluated again, one version made', async () => {
    const old = await s3.send(new PutObjectCommand({ Bucket: R, Key: 'doc', Body: 'old' }));
    const { UploadId, Parts } = await uploadWithOnePart('doc');
    const request = { Bucket: R, Key: 'doc', UploadId, IfMatch: old.ETag, MultipartUpload: { Parts } };
    const first = await s3.send(new CompleteMultipartUploadCommand(request));
    const again = await s3.send(new CompleteMultipartUploadCommand(request));
    expect(again.$metadata.httpStatusCode).toBe(200);
    expect({ ETag: again.ETag, VersionId: again.VersionId, Key: again.Key }).toEqual({ ETag: first.ETag, VersionId: first.VersionId, Key: 'doc' });
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: R, Prefix: 'doc' }));
    expect(versions.Versions?.map((v) => v.VersionId)).toEqual([first.VersionId, old.VersionId]);
    // Not a way around If-Match: a new upload with the stale ETag still fails.
    const second = await uploadWithOnePart('doc');
    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ ...request, ...second, MultipartUpload: { Parts: second.Parts } })))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    // Another part list, another key, or the version gone: the upload is finished, NoSuchUpload.
    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ ...request, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0000"' }] } })))).toMatchObject({ name: 'NoSuchUpload', status: 404 });
    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ ...request, Key: 'other' })))).toMatchObject({ name: 'NoSuchUpload' });
    expect(await failure(s3.send(new ListPartsCommand({ Bucket: R, Key: 'doc', UploadId })))).toMatchObject({ name: 'NoSuchUpload' });
    await s3.send(new DeleteObjectCommand({ Bucket: R, Key: 'doc', VersionId: first.VersionId }));
    expect(await failure(s3.send(new CompleteMultipartUploadCommand(request)))).toMatchObject({ name: 'NoSuchUpload' });
  });

  test('an SDK retry after a lost response succeeds (a proxy drops the first answer to the completion)', async () => {
    let dropped = 0;
    const proxy = createServer((req, res) => {
      const upstream = httpRequest(`${server.endpoint}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        const lose = req.method === 'POST' && req.url!.includes('uploadId=') && dropped === 0;
        if (lose) {
          dropped++;
          up.resume();
          up.on('end', () => res.socket?.destroy());
          return;
        }
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const viaProxy = clientFor(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    try {
      const { UploadId, Parts } = await uploadWithOnePart('lost');
      const done = await viaProxy.send(new CompleteMultipartUploadCommand({ Bucket: R, Key: 'lost', UploadId, IfNoneMatch: '*', MultipartUpload: { Parts } }));
      expect(dropped).toBe(1);
      expect(done.$metadata.attempts).toBe(2);
      expect(done.ETag).toMatch(/-1"$/);
      expect(await body(R, 'lost')).toBe('lost body');
    } finally {
      viaProxy.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

describe('reads, writes and copies', () => {
  const O = 'bk-objects';
  beforeAll(() => versionedBucket(O));

  test('presigned GET works until it expires', async () => {
    await s3.send(new PutObjectCommand({ Bucket: O, Key: 'shared/report.csv', Body: 'a,b\n1,2\n', ContentType: 'text/csv' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: O, Key: 'shared/report.csv' }), { expiresIn: 60 });
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/csv');
    expect(await ok.text()).toBe('a,b\n1,2\n');
    const stale = await getSignedUrl(s3, new GetObjectCommand({ Bucket: O, Key: 'shared/report.csv' }), { expiresIn: 1, signingDate: new Date(Date.now() - 60_000) });
    const denied = await fetch(stale);
    expect(denied.status).toBe(403);
    const xml = await denied.text();
    expect(xml).toContain('<Code>AccessDenied</Code>');
    expect(xml).toContain('Request has expired');
  });

  test('conditional writes and reads: If-None-Match: *, If-Match, 304', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: O, Key: 'cond', Body: 'v1', IfNoneMatch: '*' }));
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: O, Key: 'cond', Body: 'v2', IfNoneMatch: '*' })))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: O, Key: 'cond', Body: 'v2', IfMatch: '"0123456789abcdef0123456789abcdef"' })))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: O, Key: 'cond-absent', Body: 'v2', IfMatch: first.ETag })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    const second = await s3.send(new PutObjectCommand({ Bucket: O, Key: 'cond', Body: 'v2', IfMatch: first.ETag }));
    expect(await body(O, 'cond')).toBe('v2');
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: O, Key: 'cond', IfMatch: first.ETag })))).toMatchObject({ status: 412 });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: O, Key: 'cond', IfNoneMatch: second.ETag })))).toMatchObject({ status: 304 });
    const head = await s3.send(new HeadObjectCommand({ Bucket: O, Key: 'cond' }));
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: O, Key: 'cond', IfModifiedSince: head.LastModified })))).toMatchObject({ status: 304 });
    expect((await s3.send(new GetObjectCommand({ Bucket: O, Key: 'cond', IfModifiedSince: new Date(head.LastModified!.getTime() - 5000) }))).ETag).toBe(second.ETag);
    // After a delete marker the key counts as absent for If-None-Match.
    await s3.send(new DeleteObjectCommand({ Bucket: O, Key: 'cond' }));
    await s3.send(new PutObjectCommand({ Bucket: O, Key: 'cond', Body: 'v3', IfNoneMatch: '*' }));
  });

  test('Range GET: bounded, open-ended, suffix, unsatisfiable', async () => {
    await s3.send(new PutObjectCommand({ Bucket: O, Key: 'digits', Body: '0123456789' }));
    const get = async (Range: string) => {
      const out = await s3.send(new GetObjectCommand({ Bucket: O, Key: 'digits', Range }));
      return [out.$metadata.httpStatusCode, out.ContentRange, await out.Body!.transformToString()];
    };
    expect(await get('bytes=2-5')).toEqual([206, 'bytes 2-5/10', '2345']);
    expect(await get('bytes=7-')).toEqual([206, 'bytes 7-9/10', '789']);
    expect(await get('bytes=-3')).toEqual([206, 'bytes 7-9/10', '789']);
    expect(await get('bytes=8-100')).toEqual([206, 'bytes 8-9/10', '89']);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: O, Key: 'digits', Range: 'bytes=10-' })))).toMatchObject({ name: 'InvalidRange', status: 416 });
  });

  test('CopyObject of an old version, metadata COPY and REPLACE, copy onto itself refused', async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: O, Key: 'src', Body: 'old', ContentType: 'text/plain', Metadata: { a: '1' } }));
    await s3.send(new PutObjectCommand({ Bucket: O, Key: 'src', Body: 'new' }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket: O, Key: 'restored', CopySource: `${O}/src?versionId=${v1.VersionId}` }));
    expect(copied.CopySourceVersionId).toBe(v1.VersionId);
    expect(copied.CopyObjectResult?.ETag).toBe(v1.ETag);
    const head = await s3.send(new HeadObjectCommand({ Bucket: O, Key: 'restored' }));
    expect([head.ContentType, head.Metadata]).toEqual(['text/plain', { a: '1' }]);
    expect(await body(O, 'restored')).toBe('old');
    // Restoring an old version onto its own key is how S3 rolls back: allowed.
    await s3.send(new CopyObjectCommand({ Bucket: O, Key: 'src', CopySource: `${O}/src?versionId=${v1.VersionId}` }));
    expect(await body(O, 'src')).toBe('old');
    expect(await failure(s3.send(new CopyObjectCommand({ Bucket: O, Key: 'src', CopySource: `${O}/src` })))).toMatchObject({ name: 'InvalidRequest', status: 400 });
    await s3.send(new CopyObjectCommand({ Bucket: O, Key: 'src', CopySource: `${O}/src`, MetadataDirective: 'REPLACE', ContentType: 'application/json', Metadata: { b: '2' } }));
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: O, Key: 'src' }));
    expect([replaced.ContentType, replaced.Metadata]).toEqual(['application/json', { b: '2' }]);
    expect(await failure(s3.send(new CopyObjectCommand({ Bucket: O, Key: 'x', CopySource: `${O}/missing` })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
  });

  test('object tagging: on PUT, by version, replaced and deleted', async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: O, Key: 'tagged', Body: '1', Tagging: 'class=pii&owner=crm' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: O, Key: 'tagged', Body: '2' }));
    const t1 = await s3.send(new GetObjectTaggingCommand({ Bucket: O, Key: 'tagged', VersionId: v1.VersionId }));
    expect(t1.TagSet).toEqual([{ Key: 'class', Value: 'pii' }, { Key: 'owner', Value: 'crm' }]);
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: O, Key: 'tagged' }))).TagSet ?? []).toEqual([]);
    await s3.send(new PutObjectTaggingCommand({ Bucket: O, Key: 'tagged', VersionId: v2.VersionId, Tagging: { TagSet: [{ Key: 'erase', Value: 'yes' }] } }));
    const got = await s3.send(new GetObjectCommand({ Bucket: O, Key: 'tagged' }));
    expect(got.TagCount).toBe(1);
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: O, Key: 'tagged', VersionId: v1.VersionId }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: O, Key: 'tagged', VersionId: v1.VersionId }))).TagSet ?? []).toEqual([]);
    expect(await failure(s3.send(new PutObjectTaggingCommand({ Bucket: O, Key: 'tagged', Tagging: { TagSet: Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) } })))).toMatchObject({ name: 'InvalidTag', status: 400 });
  });

  test('streamed aws-chunked bodies with trailing checksums are decoded and verified', async () => {
    const data = randomBytes(300_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: O, Key: 'stream', Body: Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]), ContentLength: data.length }));
    expect(put.ChecksumCRC32).toBeTruthy();
    const got = await s3.send(new GetObjectCommand({ Bucket: O, Key: 'stream', ChecksumMode: 'ENABLED' }));
    expect(got.ChecksumCRC32).toBe(put.ChecksumCRC32);
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    expect(got.ContentEncoding).toBeUndefined();
  });
});

/** Raw HTTP, for what the SDK will not send: malformed XML, signed chunk framing, bad checksums. */
async function raw(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.endpoint}${path}`, { method, body, headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe('protocol edges', () => {
  const R = 'bk-raw';
  beforeAll(() => versionedBucket(R));

  test('malformed XML is MalformedXML; unknown buckets, keys and operations answer as S3 does', async () => {
    const bad = await raw('PUT', `/${R}?versioning`, '<VersioningConfiguration><Status>Enabled</Status>');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('<Code>MalformedXML</Code>');
    const truncated = '<Delete><Object><Key>a</Key></Object>';
    const badDelete = await raw('POST', `/${R}?delete`, truncated, { 'content-md5': createHash('md5').update(truncated).digest('base64') });
    expect(badDelete.status).toBe(400);
    expect(badDelete.text).toContain('<Code>MalformedXML</Code>');
    // DeleteObjects and the Object Lock settings need Content-MD5 or a checksum, as on S3.
    const whole = '<Delete><Object><Key>a</Key></Object></Delete>';
    for (const [path, xml] of [[`/${R}?delete`, whole], [`/${R}/a?legal-hold`, '<LegalHold><Status>ON</Status></LegalHold>'], [`/${R}/a?retention`, '<Retention/>'], [`/${R}?object-lock`, '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>']]) {
      const unchecked = await raw(path.endsWith('delete') ? 'POST' : 'PUT', path, xml);
      expect([path, unchecked.status]).toEqual([path, 400]);
      expect(unchecked.text).toContain('Missing required header for this request: Content-MD5');
    }
    const badStatus = await raw('PUT', `/${R}?versioning`, '<VersioningConfiguration><Status>Sometimes</Status></VersioningConfiguration>');
    expect(badStatus.text).toContain('<Code>MalformedXML</Code>');
    const noBucket = await raw('GET', '/no-such-bucket-here/key');
    expect(noBucket.status).toBe(404);
    expect(noBucket.text).toContain('<Code>NoSuchBucket</Code>');
    const noKey = await raw('GET', `/${R}/missing%20key`);
    expect(noKey.status).toBe(404);
    expect(noKey.text).toMatch(/<Error><Code>NoSuchKey<\/Code><Message>[^<]+<\/Message><Key>missing key<\/Key>.*<RequestId>[0-9A-F]+<\/RequestId><HostId>[^<]+<\/HostId><\/Error>/);
    expect(noKey.headers.get('x-amz-request-id')).toBeTruthy();
    for (const sub of ['acl', 'cors', 'policy', 'lifecycle']) {
      const r = await raw('GET', `/${R}?${sub}`);
      expect([sub, r.status]).toEqual([sub, 501]);
      expect(r.text).toContain('<Code>NotImplemented</Code>');
    }
    expect((await raw('GET', `/${R}/k?torrent`)).status).toBe(501);
    expect((await raw('POST', `/${R}/k`)).status).toBe(501);
  });

  test('awkward keys round-trip; listing follows UTF-8 byte order as S3 does', async () => {
    const K = 'bk-keys';
    await s3.send(new CreateBucketCommand({ Bucket: K }));
    // U+FF01 sorts before U+1F600 in UTF-8 bytes but after it in JavaScript's UTF-16 order.
    const keys = ['a b/c+d', 'ünï/日本語.txt', '100%/done?#x', '/leading', 'x//double', ' spaced ', 'z\uFF01', 'z\u{1F600}', 'amp&lt;'];
    await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: K, Key, Body: Key }))));
    for (const key of keys) expect(await body(K, key)).toBe(key);
    const listed = await s3.send(new ListObjectsCommand({ Bucket: K }));
    const order = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(order);
    expect(order.indexOf('z\uFF01')).toBeLessThan(order.indexOf('z\u{1F600}'));
    const del = await s3.send(new DeleteObjectsCommand({ Bucket: K, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    expect(del.Deleted?.map((d) => d.Key).sort()).toEqual([...keys].sort());
    expect((await s3.send(new ListObjectsCommand({ Bucket: K }))).Contents ?? []).toEqual([]);
  });

  test('a malformed or unsupported Authorization header is refused (signatures are not checked)', async () => {
    const bad = await raw('GET', '/', undefined, { authorization: 'AWS4-HMAC-SHA256 Credential=AK/today/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('<Code>AuthorizationHeaderMalformed</Code>');
    const other = await raw('GET', '/', undefined, { authorization: 'Bearer token' });
    expect(other.text).toContain('<Code>InvalidArgument</Code>');
    const wrongSig = await raw('GET', '/', undefined, { authorization: `AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}` });
    expect(wrongSig.status).toBe(200);
  });

  test('signed aws-chunked framing (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) is decoded', async () => {
    const sig = 'a'.repeat(64);
    const framed = `5;chunk-signature=${sig}\r\nhello\r\n6;chunk-signature=${sig}\r\n world\r\n0;chunk-signature=${sig}\r\n\r\n`;
    const put = await raw('PUT', `/${R}/signed`, framed, {
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '11',
    });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe(`"${md5('hello world')}"`);
    expect(await body(R, 'signed')).toBe('hello world');
  });

  test('a wrong trailing checksum or Content-MD5 is BadDigest and stores nothing', async () => {
    const framed = '3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n';
    const r = await raw('PUT', `/${R}/badsum`, framed, {
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'content-encoding': 'aws-chunked',
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'x-amz-decoded-content-length': '3',
    });
    expect(r.status).toBe(400);
    expect(r.text).toContain('<Code>BadDigest</Code>');
    const m = await raw('PUT', `/${R}/badsum`, 'abc', { 'content-md5': Buffer.from(md5('xyz'), 'hex').toString('base64') });
    expect(m.text).toContain('<Code>BadDigest</Code>');
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: R, Key: 'badsum' })))).toMatchObject({ status: 404 });
  });

  test('a taken port is refused with an error naming it', async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await expect(startS3Server({ port })).rejects.toThrow(new RegExp(`port ${port}.*in use`));
    } finally {
      await new Promise((ok) => blocker.close(ok));
    }
  });

  test('a client that disconnects mid-upload leaves no object behind', async () => {
    const url = new URL(`${server.endpoint}/${R}/aborted-upload`);
    await new Promise<void>((resolve) => {
      const req = httpRequest({ method: 'PUT', host: url.hostname, port: url.port, path: url.pathname, headers: { 'content-length': '1000000' } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(1000, 1), () => setTimeout(() => { req.destroy(); resolve(); }, 50));
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: R, Key: 'aborted-upload' })))).toMatchObject({ status: 404 });
  });
});

describe('persistence with a dataDir', () => {
  test('buckets, versions, markers, tags, locks and uploads in progress survive a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dsr-s3-test-'));
    let srv = await startS3Server({ dataDir: dir });
    let c = clientFor(srv.endpoint);
    try {
      await c.send(new CreateBucketCommand({ Bucket: 'keep', ObjectLockEnabledForBucket: true }));
      await c.send(new PutObjectLockConfigurationCommand({ Bucket: 'keep', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 2 } } } }));
      const v1 = await c.send(new PutObjectCommand({ Bucket: 'keep', Key: 'a/doc', Body: 'first', Tagging: 't=1', ObjectLockLegalHoldStatus: 'ON' }));
      const v2 = await c.send(new PutObjectCommand({ Bucket: 'keep', Key: 'a/doc', Body: 'second', ContentType: 'text/plain' }));
      const marker = await c.send(new DeleteObjectCommand({ Bucket: 'keep', Key: 'a/doc' }));
      const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'keep', Key: 'mpu', Metadata: { m: '1' } }));
      const part = await c.send(new UploadPartCommand({ Bucket: 'keep', Key: 'mpu', UploadId, PartNumber: 1, Body: 'part-one' }));
      c.destroy();
      await srv.close();

      srv = await startS3Server({ dataDir: dir });
      c = clientFor(srv.endpoint);
      const versions = await c.send(new ListObjectVersionsCommand({ Bucket: 'keep' }));
      expect(versions.Versions?.map((v) => v.VersionId)).toEqual([v2.VersionId, v1.VersionId]);
      expect(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([[marker.VersionId, true]]);
      expect(await failure(c.send(new GetObjectCommand({ Bucket: 'keep', Key: 'a/doc' })))).toMatchObject({ name: 'NoSuchKey' });
      const old = await c.send(new GetObjectCommand({ Bucket: 'keep', Key: 'a/doc', VersionId: v1.VersionId }));
      expect([await old.Body!.transformToString(), old.ObjectLockLegalHoldStatus, old.TagCount]).toEqual(['first', 'ON', 1]);
      const second = await c.send(new HeadObjectCommand({ Bucket: 'keep', Key: 'a/doc', VersionId: v2.VersionId }));
      expect([second.ContentType, second.ObjectLockMode]).toEqual(['text/plain', 'GOVERNANCE']);
      expect(await failure(c.send(new DeleteObjectCommand({ Bucket: 'keep', Key: 'a/doc', VersionId: v1.VersionId })))).toMatchObject({ name: 'AccessDenied' });
      expect((await c.send(new GetObjectLockConfigurationCommand({ Bucket: 'keep' }))).ObjectLockConfiguration?.Rule?.DefaultRetention?.Days).toBe(2);
      expect((await c.send(new GetBucketVersioningCommand({ Bucket: 'keep' }))).Status).toBe('Enabled');
      const parts = await c.send(new ListPartsCommand({ Bucket: 'keep', Key: 'mpu', UploadId }));
      expect(parts.Parts?.map((p) => p.ETag)).toEqual([part.ETag]);
      const completion = { Bucket: 'keep', Key: 'mpu', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } };
      const done = await c.send(new CompleteMultipartUploadCommand(completion));
      const mpu = await c.send(new GetObjectCommand({ Bucket: 'keep', Key: 'mpu' }));
      expect([await mpu.Body!.transformToString(), mpu.Metadata]).toEqual(['part-one', { m: '1' }]);
      // A retry of the completion is still answered after another restart.
      c.destroy();
      await srv.close();
      srv = await startS3Server({ dataDir: dir });
      c = clientFor(srv.endpoint);
      const retried = await c.send(new CompleteMultipartUploadCommand(completion));
      expect([retried.ETag, retried.VersionId]).toEqual([done.ETag, done.VersionId]);
    } finally {
      c.destroy();
      await srv.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a SIGKILL mid-upload leaves a store that reopens with every acknowledged write and no debris', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dsr-s3-kill-'));
    const entry = resolve(__dirname, '../../local/s3/index.ts');
    const script = `const { startS3Server } = await import(${JSON.stringify(entry)}); const s = await startS3Server({ dataDir: ${JSON.stringify(dir)} }); console.log(s.endpoint);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((ok) => child.once('exit', ok));
    let srv: RunningS3Server | undefined;
    let c: S3Client | undefined;
    try {
      const endpoint = await new Promise<string>((ok, fail) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) ok(out.trim());
        });
        child.once('exit', (code) => fail(new Error(`server child exited early (${code})`)));
      });
      c = clientFor(endpoint);
      await c.send(new CreateBucketCommand({ Bucket: 'kill' }));
      await c.send(new PutBucketVersioningCommand({ Bucket: 'kill', VersioningConfiguration: { Status: 'Enabled' } }));
      const v1 = await c.send(new PutObjectCommand({ Bucket: 'kill', Key: 'doc', Body: 'one' }));
      const v2 = await c.send(new PutObjectCommand({ Bucket: 'kill', Key: 'doc', Body: 'two' }));
      const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'kill', Key: 'mpu' }));
      await c.send(new UploadPartCommand({ Bucket: 'kill', Key: 'mpu', UploadId, PartNumber: 1, Body: 'p1' }));
      c.destroy();
      // Half of a 4 MB body, then the server dies while receiving it.
      const url = new URL(`${endpoint}/kill/partial`);
      const req = httpRequest({ method: 'PUT', host: url.hostname, port: url.port, path: url.pathname, headers: { 'content-length': String(4 << 20) } });
      req.on('error', () => undefined);
      req.write(Buffer.alloc(2 << 20, 9));
      const blobs = join(dir, 'buckets', 'kill', 'blobs');
      for (let i = 0; (await readdir(blobs)).length < 3; i++) {
        if (i > 200) throw new Error('the partial body never reached the store');
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill('SIGKILL');
      await exited;
      req.destroy();

      srv = await startS3Server({ dataDir: dir });
      c = clientFor(srv.endpoint);
      const versions = await c.send(new ListObjectVersionsCommand({ Bucket: 'kill' }));
      expect(versions.Versions?.map((v) => [v.Key, v.VersionId])).toEqual([['doc', v2.VersionId], ['doc', v1.VersionId]]);
      expect(await failure(c.send(new HeadObjectCommand({ Bucket: 'kill', Key: 'partial' })))).toMatchObject({ status: 404 });
      expect((await c.send(new ListPartsCommand({ Bucket: 'kill', Key: 'mpu', UploadId }))).Parts).toHaveLength(1);
      expect(await readdir(blobs)).toHaveLength(2);
      expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      c?.destroy();
      await srv?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
