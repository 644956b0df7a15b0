/**
 * KMS permissions on the local S3 endpoint: an SSE-KMS object with a customer managed key needs
 * kms:GenerateDataKey on the key to write and kms:Decrypt to read, as on AWS, for the caller's
 * own principal; the aws/s3 managed key needs no grant. SDK v3 and the aws CLI, with small
 * identity policies (test/support/test-policy.ts).
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { startS3Server, type RunningS3Server } from '../../local/s3';
import { awsCli, awsCliEnv, awsJson, hasAwsCli } from '../support/aws-cli';
import { s3Principals } from '../support/s3-principals';
import { roleArn, testAuthorizer, type Statement, type TestAuthorizer } from '../support/test-policy';

const B = 'kms-bucket';
const DEFAULTED = 'kms-defaulted';
const KEY = 'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab';

let server: RunningS3Server;
let authz: TestAuthorizer;
const principals = s3Principals(() => server.endpoint);
const client = (accessKeyId: string): S3Client => principals.client(accessKeyId);

const s3Access: Statement = {
  Effect: 'Allow',
  Action: ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 's3:AbortMultipartUpload'],
  Resource: [`arn:aws:s3:::${B}`, `arn:aws:s3:::${B}/*`, `arn:aws:s3:::${DEFAULTED}`, `arn:aws:s3:::${DEFAULTED}/*`],
};
const onKey = (actions: string[]): Statement => ({ Effect: 'Allow', Action: actions, Resource: KEY });

let admin: S3Client;
/** s3 only: no grant on the customer key. */
let plain: S3Client;
/** kms:GenerateDataKey only: may write with the key, not read. */
let writeOnly: S3Client;
/** kms:Decrypt only: may read, not write. */
let readOnly: S3Client;
/** Both, and kms:Decrypt only through S3 (a kms:ViaService condition, as key policies often say). */
let full: S3Client;

beforeAll(async () => {
  authz = testAuthorizer({
    AKPLAIN: { arn: roleArn('plain'), statements: [s3Access] },
    AKWRITEONLY: { arn: roleArn('write-only'), statements: [s3Access, onKey(['kms:GenerateDataKey'])] },
    AKREADONLY: { arn: roleArn('read-only'), statements: [s3Access, onKey(['kms:Decrypt'])] },
    AKFULL: {
      arn: roleArn('full'),
      statements: [s3Access, onKey(['kms:GenerateDataKey']), { ...onKey(['kms:Decrypt']), Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }],
    },
  });
  server = await startS3Server({ port: 0, authorize: authz.authorize });
  admin = client('local');
  plain = client('AKPLAIN');
  writeOnly = client('AKWRITEONLY');
  readOnly = client('AKREADONLY');
  full = client('AKFULL');
  await admin.send(new CreateBucketCommand({ Bucket: B }));
  await admin.send(new CreateBucketCommand({ Bucket: DEFAULTED }));
  await admin.send(new PutBucketEncryptionCommand({ Bucket: DEFAULTED, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY } }] } }));
  await admin.send(new PutObjectCommand({ Bucket: B, Key: 'secret', Body: 'secret body', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY }));
});

afterAll(async () => {
  principals.destroyAll();
  await server?.close();
});

async function denied(p: Promise<unknown>): Promise<S3ServiceException> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof S3ServiceException)) throw new Error(`expected an S3 error, got ${String(err)}`);
  expect([err.name, err.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403]);
  return err;
}

/** KMS's wording, passed on by S3: the key ARN is not quoted (S3's own messages quote theirs). */
const kmsMessage = (who: string, action: string) => `User: ${roleArn(who)} is not authorized to perform: ${action} on resource: ${KEY} because no identity-based policy allows the ${action} action`;

const exists = (Bucket: string, Key: string) => admin.send(new HeadObjectCommand({ Bucket, Key })).then(() => true, () => false);

describe('reading an SSE-KMS object', () => {
  it('needs kms:Decrypt on its key for GET (a range too), but HEAD needs none', async () => {
    const err = await denied(writeOnly.send(new GetObjectCommand({ Bucket: B, Key: 'secret' })));
    expect(err.message).toBe(kmsMessage('write-only', 'kms:Decrypt'));
    await denied(writeOnly.send(new GetObjectCommand({ Bucket: B, Key: 'secret', Range: 'bytes=0-3' })));
    const head = await writeOnly.send(new HeadObjectCommand({ Bucket: B, Key: 'secret' }));
    expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual(['aws:kms', KEY]);
    const got = await readOnly.send(new GetObjectCommand({ Bucket: B, Key: 'secret' }));
    expect(await got.Body?.transformToString()).toBe('secret body');
  });

  it('asks KMS with the condition keys S3 sends: kms:ViaService, kms:CallerAccount and the object as encryption context', async () => {
    const got = await full.send(new GetObjectCommand({ Bucket: B, Key: 'secret' }));
    expect(await got.Body?.transformToString()).toBe('secret body');
    const asked = authz.asked.filter((a) => a.accessKey === 'AKFULL' && a.request.action === 'kms:Decrypt').at(-1);
    expect(asked?.request).toEqual({
      action: 'kms:Decrypt',
      resource: KEY,
      context: { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:CallerAccount': '000000000000', 'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${B}/secret` },
    });
  });

  it('needs kms:Decrypt for the source of a copy', async () => {
    const err = await denied(writeOnly.send(new CopyObjectCommand({ Bucket: B, Key: 'copied', CopySource: `${B}/secret` })));
    expect(err.message).toBe(kmsMessage('write-only', 'kms:Decrypt'));
    expect(await exists(B, 'copied')).toBe(false);
    // Into an SSE-S3 bucket the target needs no key: reading the source is enough.
    await readOnly.send(new CopyObjectCommand({ Bucket: B, Key: 'copied', CopySource: `${B}/secret` }));
    expect((await admin.send(new HeadObjectCommand({ Bucket: B, Key: 'copied' }))).ServerSideEncryption).toBe('AES256');
  });
});

describe('writing an SSE-KMS object', () => {
  it('needs kms:GenerateDataKey on the key the request names; nothing is written without it', async () => {
    const put = (c: S3Client, Key: string) => c.send(new PutObjectCommand({ Bucket: B, Key, Body: 'w', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY }));
    const err = await denied(put(readOnly, 'w-denied'));
    expect(err.message).toBe(kmsMessage('read-only', 'kms:GenerateDataKey'));
    await denied(put(plain, 'w-denied'));
    expect(await exists(B, 'w-denied')).toBe(false);
    const ok = await put(writeOnly, 'w-ok');
    expect([ok.ServerSideEncryption, ok.SSEKMSKeyId]).toEqual(['aws:kms', KEY]);
  });

  it('needs it too when the key comes from the bucket default, for a put and a copy target', async () => {
    const err = await denied(readOnly.send(new PutObjectCommand({ Bucket: DEFAULTED, Key: 'd', Body: 'd' })));
    expect(err.message).toBe(kmsMessage('read-only', 'kms:GenerateDataKey'));
    await denied(readOnly.send(new CopyObjectCommand({ Bucket: DEFAULTED, Key: 'd', CopySource: `${B}/secret` })));
    expect(await exists(DEFAULTED, 'd')).toBe(false);
    await full.send(new CopyObjectCommand({ Bucket: DEFAULTED, Key: 'd', CopySource: `${B}/secret` }));
    expect((await admin.send(new HeadObjectCommand({ Bucket: DEFAULTED, Key: 'd' }))).SSEKMSKeyId).toBe(KEY);
  });

  it('lets any principal S3 lets through use the aws/s3 managed key, with no KMS grant', async () => {
    const before = authz.asked.length;
    await plain.send(new PutObjectCommand({ Bucket: B, Key: 'managed', Body: 'm', ServerSideEncryption: 'aws:kms' }));
    const got = await plain.send(new GetObjectCommand({ Bucket: B, Key: 'managed' }));
    expect([got.ServerSideEncryption, await got.Body?.transformToString()]).toEqual(['aws:kms', 'm']);
    expect(got.SSEKMSKeyId).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\/[0-9a-f-]{36}$/);
    expect(authz.asked.slice(before).some((a) => a.request.action.startsWith('kms:'))).toBe(false);
  });
});

describe('multipart upload with SSE-KMS', () => {
  const create = (c: S3Client, Key: string) => c.send(new CreateMultipartUploadCommand({ Bucket: B, Key, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY }));

  it('needs kms:GenerateDataKey to create and upload parts, and kms:Decrypt to complete', async () => {
    expect((await denied(create(readOnly, 'mpu'))).message).toBe(kmsMessage('read-only', 'kms:GenerateDataKey'));
    const up = await create(writeOnly, 'mpu');
    // A part sent by a principal without the key is refused too.
    await denied(readOnly.send(new UploadPartCommand({ Bucket: B, Key: 'mpu', UploadId: up.UploadId, PartNumber: 1, Body: 'part' })));
    const part = await writeOnly.send(new UploadPartCommand({ Bucket: B, Key: 'mpu', UploadId: up.UploadId, PartNumber: 1, Body: 'part' }));
    const complete = (c: S3Client) => c.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mpu', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect((await denied(complete(writeOnly))).message).toBe(kmsMessage('write-only', 'kms:Decrypt'));
    expect(await exists(B, 'mpu')).toBe(false);
    const done = await complete(full);
    expect(done.SSEKMSKeyId).toBe(KEY);
  });

  it('needs kms:Decrypt on the source of UploadPartCopy', async () => {
    const up = await admin.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mpu-copy' }));
    const err = await denied(writeOnly.send(new UploadPartCopyCommand({ Bucket: B, Key: 'mpu-copy', UploadId: up.UploadId, PartNumber: 1, CopySource: `${B}/secret` })));
    expect(err.message).toBe(kmsMessage('write-only', 'kms:Decrypt'));
    await expect(readOnly.send(new UploadPartCopyCommand({ Bucket: B, Key: 'mpu-copy', UploadId: up.UploadId, PartNumber: 1, CopySource: `${B}/secret` }))).resolves.toBeDefined();
  });
});

(hasAwsCli ? describe : describe.skip)('the aws CLI', () => {
  it('reports the bucket default and writes SSE-KMS (s3api put-object, s3 cp --sse) as a user would', async () => {
    const enc = await awsJson<{ ServerSideEncryptionConfiguration: { Rules: unknown[] } }>(server.endpoint, ['s3api', 'get-bucket-encryption', '--bucket', B]);
    expect(enc.ServerSideEncryptionConfiguration.Rules).toEqual([{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }]);
    await admin.send(new CreateBucketCommand({ Bucket: 'kms-cli' }));
    const config = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY }, BucketKeyEnabled: true }] };
    const set = await awsCli(server.endpoint, ['s3api', 'put-bucket-encryption', '--bucket', 'kms-cli', '--server-side-encryption-configuration', JSON.stringify(config)]);
    expect([set.code, set.stderr]).toEqual([0, '']);
    expect((await awsJson<{ ServerSideEncryptionConfiguration: unknown }>(server.endpoint, ['s3api', 'get-bucket-encryption', '--bucket', 'kms-cli'])).ServerSideEncryptionConfiguration).toEqual(config);
    const put = await awsJson<{ ServerSideEncryption: string; SSEKMSKeyId: string }>(
      server.endpoint,
      ['s3api', 'put-object', '--bucket', B, '--key', 'cli', '--body', __filename, '--server-side-encryption', 'aws:kms', '--ssekms-key-id', KEY],
      awsCliEnv('AKWRITEONLY'),
    );
    expect([put.ServerSideEncryption, put.SSEKMSKeyId]).toEqual(['aws:kms', KEY]);
    const get = await awsCli(server.endpoint, ['s3api', 'get-object', '--bucket', B, '--key', 'cli', '/dev/null'], awsCliEnv('AKWRITEONLY'));
    expect(get.code).not.toBe(0);
    expect(get.stderr).toContain(`An error occurred (AccessDenied) when calling the GetObject operation: ${kmsMessage('write-only', 'kms:Decrypt')}`);
    const head = await awsJson<{ ServerSideEncryption: string; SSEKMSKeyId: string }>(server.endpoint, ['s3api', 'head-object', '--bucket', B, '--key', 'cli'], awsCliEnv('AKWRITEONLY'));
    expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual(['aws:kms', KEY]);
    const cp = (who: string, key: string) => awsCli(server.endpoint, ['s3', 'cp', __filename, `s3://${B}/${key}`, '--sse', 'aws:kms', '--sse-kms-key-id', KEY], awsCliEnv(who));
    const [refused, copied] = await Promise.all([cp('AKREADONLY', 'cp-denied'), cp('AKWRITEONLY', 'cp')]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(kmsMessage('read-only', 'kms:GenerateDataKey'));
    expect(copied.code).toBe(0);
    expect((await admin.send(new HeadObjectCommand({ Bucket: B, Key: 'cp' }))).SSEKMSKeyId).toBe(KEY);
  });
});
