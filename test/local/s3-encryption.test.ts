/**
 * Server-side encryption on the local S3 endpoint, through the SDK v3 as the connectors call it:
 * what each write records and each answer reports, the bucket default and how a copy picks its
 * encryption. Permissions (KMS) are in s3-kms-iam.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startS3Server, type RunningS3Server } from '../../local/s3';
import { awsManagedKeyArn } from '../../local/s3/encryption';
import { s3ClientAs } from '../support/s3-principals';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:000000000000:key/${KEY_ID}`;
const OTHER_KEY = 'arn:aws:kms:us-east-1:000000000000:key/0000aaaa-11bb-22cc-33dd-444444eeeeee';
const AWS_S3_KEY = awsManagedKeyArn('us-east-1', '000000000000');

let server: RunningS3Server;
let s3: S3Client;

const newClient = (endpoint: string): S3Client => s3ClientAs(endpoint, 'local');

beforeAll(async () => {
  server = await startS3Server({ port: 0 });
  s3 = newClient(server.endpoint);
  for (const Bucket of ['enc-plain', 'enc-kms', 'enc-other']) await s3.send(new CreateBucketCommand({ Bucket }));
});

afterAll(async () => {
  s3?.destroy();
  await server?.close();
});

async function failure(p: Promise<unknown>): Promise<S3ServiceException> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof S3ServiceException)) throw new Error(`expected an S3 error, got ${String(err)}`);
  return err;
}

/** What a HEAD reports about a key's encryption. */
async function sse(Bucket: string, Key: string) {
  const h = await s3.send(new HeadObjectCommand({ Bucket, Key }));
  return { sse: h.ServerSideEncryption, key: h.SSEKMSKeyId, bucketKey: h.BucketKeyEnabled };
}

describe('SSE headers', () => {
  it('records SSE-S3 for an object written without them, as S3 does for every object since 2023', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'enc-plain', Key: 'plain', Body: 'p' }));
    expect(put.ServerSideEncryption).toBe('AES256');
    expect(put.SSEKMSKeyId).toBeUndefined();
    expect(await sse('enc-plain', 'plain')).toEqual({ sse: 'AES256', key: undefined, bucketKey: undefined });
  });

  it('round-trips aws:kms with a key id (reported as its ARN), the aws/s3 key when none is named, the bucket key and DSSE', async () => {
    const byId = await s3.send(new PutObjectCommand({ Bucket: 'enc-plain', Key: 'by-id', Body: 'k', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ID }));
    expect([byId.ServerSideEncryption, byId.SSEKMSKeyId, byId.BucketKeyEnabled]).toEqual(['aws:kms', KEY_ARN, undefined]);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'enc-plain', Key: 'by-id' }));
    expect([got.ServerSideEncryption, got.SSEKMSKeyId, await got.Body?.transformToString()]).toEqual(['aws:kms', KEY_ARN, 'k']);

    await s3.send(new PutObjectCommand({ Bucket: 'enc-plain', Key: 'managed', Body: 'm', ServerSideEncryption: 'aws:kms' }));
    expect(await sse('enc-plain', 'managed')).toEqual({ sse: 'aws:kms', key: AWS_S3_KEY, bucketKey: undefined });
    await s3.send(new PutObjectCommand({ Bucket: 'enc-plain', Key: 'bk', Body: 'b', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ARN, BucketKeyEnabled: true }));
    expect(await sse('enc-plain', 'bk')).toEqual({ sse: 'aws:kms', key: KEY_ARN, bucketKey: true });
    await s3.send(new PutObjectCommand({ Bucket: 'enc-plain', Key: 'dsse', Body: 'd', ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: OTHER_KEY }));
    expect(await sse('enc-plain', 'dsse')).toEqual({ sse: 'aws:kms:dsse', key: OTHER_KEY, bucketKey: undefined });
  });

  it('refuses an unknown algorithm and a KMS key id without aws:kms, as S3 does (400 InvalidArgument)', async () => {
    const bad = await failure(s3.send(new PutObjectCommand({ Bucket: 'enc-plain', Key: 'bad', Body: 'x', ServerSideEncryption: 'aws:rot13' as 'AES256' })));
    expect([bad.name, bad.$metadata.httpStatusCode]).toEqual(['InvalidArgument', 400]);
    const keyOnly = await failure(s3.send(new PutObjectCommand({ Bucket: 'enc-plain', Key: 'bad', Body: 'x', ServerSideEncryption: 'AES256', SSEKMSKeyId: KEY_ID })));
    expect(keyOnly.name).toBe('InvalidArgument');
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'enc-plain', Key: 'bad' }))).rejects.toThrow();
  });

  it('refuses SigV2 for an SSE-KMS object, header or presigned URL, as S3 requires SigV4 for them', async () => {
    const sigV2 = { authorization: 'AWS local:c2lnbmF0dXJl' };
    const presigned = `AWSAccessKeyId=local&Expires=${Math.floor(Date.now() / 1000) + 600}&Signature=c2ln`;
    const kmsGet = await fetch(`${server.endpoint}/enc-plain/by-id`, { headers: sigV2 });
    expect([kmsGet.status, await kmsGet.text()]).toEqual([400, expect.stringContaining('require AWS Signature Version 4')]);
    expect((await fetch(`${server.endpoint}/enc-plain/by-id?${presigned}`)).status).toBe(400);
    const kmsPut = await fetch(`${server.endpoint}/enc-plain/v2`, { method: 'PUT', body: 'x', headers: { ...sigV2, 'x-amz-server-side-encryption': 'aws:kms' } });
    expect(kmsPut.status).toBe(400);
    const plainGet = await fetch(`${server.endpoint}/enc-plain/plain?${presigned}`);
    expect([plainGet.status, await plainGet.text()]).toEqual([200, 'p']);
  });

  it('carries a multipart upload\'s encryption from CreateMultipartUpload to every part and the completed object', async () => {
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'enc-plain', Key: 'mpu', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ARN }));
    expect([up.ServerSideEncryption, up.SSEKMSKeyId]).toEqual(['aws:kms', KEY_ARN]);
    const part = await s3.send(new UploadPartCommand({ Bucket: 'enc-plain', Key: 'mpu', UploadId: up.UploadId, PartNumber: 1, Body: 'only part' }));
    expect([part.ServerSideEncryption, part.SSEKMSKeyId]).toEqual(['aws:kms', KEY_ARN]);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'enc-plain', Key: 'mpu', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect([done.ServerSideEncryption, done.SSEKMSKeyId]).toEqual(['aws:kms', KEY_ARN]);
    expect(await sse('enc-plain', 'mpu')).toEqual({ sse: 'aws:kms', key: KEY_ARN, bucketKey: undefined });
  });
});

describe('bucket default encryption', () => {
  it('answers SSE-S3 for a bucket never configured, which S3 gives every bucket', async () => {
    const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'enc-other' }));
    expect(got.ServerSideEncryptionConfiguration?.Rules).toEqual([{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }]);
  });

  it('applies an SSE-KMS default to writes without SSE headers; headers and the bucket key header still decide', async () => {
    const rule = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' as const, KMSMasterKeyID: KEY_ID }, BucketKeyEnabled: true };
    await s3.send(new PutBucketEncryptionCommand({ Bucket: 'enc-kms', ServerSideEncryptionConfiguration: { Rules: [rule] } }));
    // Kept as given: S3 does not validate or resolve the id of a default.
    expect((await s3.send(new GetBucketEncryptionCommand({ Bucket: 'enc-kms' }))).ServerSideEncryptionConfiguration?.Rules).toEqual([rule]);

    const put = await s3.send(new PutObjectCommand({ Bucket: 'enc-kms', Key: 'd', Body: 'd' }));
    expect([put.ServerSideEncryption, put.SSEKMSKeyId, put.BucketKeyEnabled]).toEqual(['aws:kms', KEY_ARN, true]);
    await s3.send(new PutObjectCommand({ Bucket: 'enc-kms', Key: 's3', Body: 's', ServerSideEncryption: 'AES256' }));
    expect(await sse('enc-kms', 's3')).toEqual({ sse: 'AES256', key: undefined, bucketKey: undefined });
    await s3.send(new PutObjectCommand({ Bucket: 'enc-kms', Key: 'no-bk', Body: 'n', BucketKeyEnabled: false }));
    expect(await sse('enc-kms', 'no-bk')).toEqual({ sse: 'aws:kms', key: KEY_ARN, bucketKey: undefined });
    await s3.send(new PutObjectCommand({ Bucket: 'enc-kms', Key: 'other', Body: 'o', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: OTHER_KEY }));
    expect(await sse('enc-kms', 'other')).toEqual({ sse: 'aws:kms', key: OTHER_KEY, bucketKey: true });
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'enc-kms', Key: 'mpu' }));
    expect([up.ServerSideEncryption, up.SSEKMSKeyId, up.BucketKeyEnabled]).toEqual(['aws:kms', KEY_ARN, true]);
  });

  it('DeleteBucketEncryption resets the bucket to SSE-S3; objects keep what they were written with', async () => {
    await s3.send(new PutBucketEncryptionCommand({ Bucket: 'enc-other', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } }));
    await s3.send(new PutObjectCommand({ Bucket: 'enc-other', Key: 'before', Body: 'b' }));
    expect(await sse('enc-other', 'before')).toEqual({ sse: 'aws:kms', key: AWS_S3_KEY, bucketKey: undefined });
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket: 'enc-other' }));
    expect((await s3.send(new GetBucketEncryptionCommand({ Bucket: 'enc-other' }))).ServerSideEncryptionConfiguration?.Rules?.[0].ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    await s3.send(new PutObjectCommand({ Bucket: 'enc-other', Key: 'after', Body: 'a' }));
    expect((await sse('enc-other', 'after')).sse).toBe('AES256');
    expect((await sse('enc-other', 'before')).key).toBe(AWS_S3_KEY);
  });

  it('refuses a key id on an SSE-S3 default and an unknown algorithm', async () => {
    const withKey = await failure(
      s3.send(new PutBucketEncryptionCommand({ Bucket: 'enc-plain', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256', KMSMasterKeyID: KEY_ID } }] } })),
    );
    expect(withKey.name).toBe('InvalidArgument');
    const unknown = await failure(
      s3.send(new PutBucketEncryptionCommand({ Bucket: 'enc-plain', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'DES' as 'AES256' } }] } })),
    );
    expect(unknown.name).toBe('InvalidArgument');
    expect((await s3.send(new GetBucketEncryptionCommand({ Bucket: 'enc-plain' }))).ServerSideEncryptionConfiguration?.Rules?.[0].ApplyServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'AES256' });
  });

  it('keeps the default and each version\'s encryption across a restart on the same dataDir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dsr-s3-enc-'));
    try {
      let srv = await startS3Server({ dataDir: dir });
      let c = newClient(srv.endpoint);
      await c.send(new CreateBucketCommand({ Bucket: 'kept' }));
      await c.send(new PutBucketEncryptionCommand({ Bucket: 'kept', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN } }] } }));
      await c.send(new PutObjectCommand({ Bucket: 'kept', Key: 'k', Body: 'k' }));
      c.destroy();
      await srv.close();
      srv = await startS3Server({ dataDir: dir });
      c = newClient(srv.endpoint);
      const head = await c.send(new HeadObjectCommand({ Bucket: 'kept', Key: 'k' }));
      expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual(['aws:kms', KEY_ARN]);
      const rules = (await c.send(new GetBucketEncryptionCommand({ Bucket: 'kept' }))).ServerSideEncryptionConfiguration?.Rules;
      expect(rules?.[0].ApplyServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN });
      c.destroy();
      await srv.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('CopyObject', () => {
  beforeAll(async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'enc-plain', Key: 'src', Body: 'source', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: OTHER_KEY }));
  });

  it('gives the copy the destination bucket\'s default when the request names no encryption, not the source\'s', async () => {
    const toPlain = await s3.send(new CopyObjectCommand({ Bucket: 'enc-other', Key: 'copy', CopySource: 'enc-plain/src' }));
    expect([toPlain.ServerSideEncryption, toPlain.SSEKMSKeyId]).toEqual(['AES256', undefined]);
    const toKms = await s3.send(new CopyObjectCommand({ Bucket: 'enc-kms', Key: 'copy', CopySource: 'enc-plain/src' }));
    expect([toKms.ServerSideEncryption, toKms.SSEKMSKeyId, toKms.BucketKeyEnabled]).toEqual(['aws:kms', KEY_ARN, true]);
    expect(await sse('enc-kms', 'copy')).toEqual({ sse: 'aws:kms', key: KEY_ARN, bucketKey: true });
  });

  it('uses the encryption the request names, and may change it in place (the only change a copy onto itself needs)', async () => {
    const named = await s3.send(new CopyObjectCommand({ Bucket: 'enc-other', Key: 'named', CopySource: 'enc-plain/plain', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: OTHER_KEY }));
    expect([named.ServerSideEncryption, named.SSEKMSKeyId]).toEqual(['aws:kms', OTHER_KEY]);
    const same = await failure(s3.send(new CopyObjectCommand({ Bucket: 'enc-plain', Key: 'src', CopySource: 'enc-plain/src' })));
    expect(same.name).toBe('InvalidRequest');
    await s3.send(new CopyObjectCommand({ Bucket: 'enc-plain', Key: 'src', CopySource: 'enc-plain/src', ServerSideEncryption: 'AES256' }));
    expect(await sse('enc-plain', 'src')).toEqual({ sse: 'AES256', key: undefined, bucketKey: undefined });
  });
});
