/**
 * IAM on the local S3 endpoint: the SDK v3 and the aws CLI against the real endpoint, with a
 * small identity policy per principal (test/support/test-policy.ts). A denied call must fail as
 * it fails on AWS (403 AccessDenied, S3's message), before anything is read or written.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startS3Server, type RunningS3Server } from '../../local/s3';
import { awsCli, awsCliEnv, hasAwsCli } from '../support/aws-cli';
import { s3Principals } from '../support/s3-principals';
import { roleArn, testAuthorizer, type TestAuthorizer } from '../support/test-policy';

const B = 'iam-bucket';
const OTHER = 'iam-other';

let server: RunningS3Server;
let authz: TestAuthorizer;
const principals = s3Principals(() => server.endpoint);
const client = (accessKeyId: string): S3Client => principals.client(accessKeyId);

let admin: S3Client;
let reader: S3Client;
let writer: S3Client;

beforeAll(async () => {
  authz = testAuthorizer({
    AKREADER: {
      arn: roleArn('reader'),
      statements: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/public/*` },
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${B}`, Condition: { StringLike: { 's3:prefix': 'public/*' } } },
      ],
    },
    AKWRITER: {
      arn: roleArn('writer'),
      statements: [
        { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion', 's3:ListBucket'], Resource: [`arn:aws:s3:::${B}`, `arn:aws:s3:::${B}/*`] },
        { Effect: 'Allow', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${B}/public/*` },
      ],
    },
  });
  server = await startS3Server({ port: 0, authorize: authz.authorize });
  admin = client('local');
  reader = client('AKREADER');
  writer = client('AKWRITER');
  await admin.send(new CreateBucketCommand({ Bucket: B }));
  await admin.send(new CreateBucketCommand({ Bucket: OTHER }));
  await admin.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
  await admin.send(new PutObjectCommand({ Bucket: B, Key: 'public/a.txt', Body: 'a' }));
  await admin.send(new PutObjectCommand({ Bucket: B, Key: 'private/b.txt', Body: 'b' }));
  await admin.send(new PutObjectCommand({ Bucket: OTHER, Key: 'src.txt', Body: 'src' }));
});

afterAll(async () => {
  principals.destroyAll();
  await server?.close();
});

async function denied(p: Promise<unknown>): Promise<S3ServiceException> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof S3ServiceException)) throw new Error(`expected an S3 error, got ${String(err)}`);
  return err;
}

const message = (who: string, action: string, resource: string) =>
  `User: ${roleArn(who)} is not authorized to perform: ${action} on resource: "${resource}" because no identity-based policy allows the ${action} action`;

describe('S3 asks IAM for every call', () => {
  it('lets allowed calls through unchanged', async () => {
    const got = await reader.send(new GetObjectCommand({ Bucket: B, Key: 'public/a.txt' }));
    expect(await got.Body?.transformToString()).toBe('a');
    await writer.send(new PutObjectCommand({ Bucket: B, Key: 'w/1.txt', Body: 'w' }));
    const listed = await reader.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'public/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['public/a.txt']);
  });

  it('answers a denied GetObject with 403 AccessDenied and S3 wording, RequestId and HostId', async () => {
    const err = await denied(reader.send(new GetObjectCommand({ Bucket: B, Key: 'private/b.txt' })));
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toBe(message('reader', 's3:GetObject', `arn:aws:s3:::${B}/private/b.txt`));
    const res = await fetch(`${server.endpoint}/${B}/private/b.txt`, {
      headers: { authorization: `AWS4-HMAC-SHA256 Credential=AKREADER/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}` },
    });
    const body = await res.text();
    expect(res.status).toBe(403);
    expect(body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Error><Code>AccessDenied<\/Code><Message>User: [^<]+<\/Message><RequestId>[0-9A-F]+<\/RequestId><HostId>[^<]+<\/HostId><\/Error>$/);
    expect(body).toContain(`<HostId>${res.headers.get('x-amz-id-2')}</HostId>`);
  });

  it('needs s3:GetObjectVersion for a GET with versionId', async () => {
    const put = await admin.send(new PutObjectCommand({ Bucket: B, Key: 'public/v.txt', Body: 'v1' }));
    await expect(reader.send(new GetObjectCommand({ Bucket: B, Key: 'public/v.txt' }))).resolves.toBeDefined();
    const err = await denied(reader.send(new GetObjectCommand({ Bucket: B, Key: 'public/v.txt', VersionId: put.VersionId })));
    expect(err.message).toBe(message('reader', 's3:GetObjectVersion', `arn:aws:s3:::${B}/public/v.txt`));
    const asked = authz.asked.filter((a) => a.request.action === 's3:GetObjectVersion').at(-1);
    expect(asked?.request.context).toEqual({ 's3:versionid': put.VersionId });
  });

  it('answers a missing key with 403 without s3:ListBucket and 404 NoSuchKey with it', async () => {
    // The reader may list public/* only: a missing key elsewhere is not revealed.
    const writerRead = await denied(writer.send(new GetObjectCommand({ Bucket: B, Key: 'nothing-here' })));
    expect(writerRead.name).toBe('NoSuchKey');
    expect(writerRead.$metadata.httpStatusCode).toBe(404);
    const readerRead = await denied(reader.send(new GetObjectCommand({ Bucket: B, Key: 'public/nothing-here' })));
    expect(readerRead.name).toBe('AccessDenied');
    expect(readerRead.$metadata.httpStatusCode).toBe(403);
    expect(readerRead.message).toBe(message('reader', 's3:ListBucket', `arn:aws:s3:::${B}`));
    const head = await denied(reader.send(new HeadObjectCommand({ Bucket: B, Key: 'public/nothing-here' })));
    expect(head.$metadata.httpStatusCode).toBe(403);
    const writerHead = await denied(writer.send(new HeadObjectCommand({ Bucket: B, Key: 'nothing-here' })));
    expect(writerHead.$metadata.httpStatusCode).toBe(404);
  });

  it('puts s3:prefix in the ListBucket context: a listing outside the allowed prefix is denied', async () => {
    await expect(reader.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'public/' }))).resolves.toBeDefined();
    const outside = await denied(reader.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'private/' })));
    expect(outside.message).toBe(message('reader', 's3:ListBucket', `arn:aws:s3:::${B}`));
    // Without a Prefix the key is absent, and StringLike on an absent key does not match.
    await expect(denied(reader.send(new ListObjectsV2Command({ Bucket: B })))).resolves.toMatchObject({ name: 'AccessDenied' });
    const asked = authz.asked.filter((a) => a.request.action === 's3:ListBucket' && a.accessKey === 'AKREADER').map((a) => a.request.context?.['s3:prefix']);
    expect(asked).toEqual(expect.arrayContaining(['public/', 'private/']));
  });

  it('decides DeleteObjects per key: denied keys get AccessDenied entries, the others are deleted', async () => {
    await admin.send(new PutObjectCommand({ Bucket: B, Key: 'public/del.txt', Body: 'x' }));
    await admin.send(new PutObjectCommand({ Bucket: B, Key: 'private/keep.txt', Body: 'x' }));
    const out = await writer.send(
      new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: 'public/del.txt' }, { Key: 'private/keep.txt' }] } }),
    );
    expect(out.Deleted?.map((d) => d.Key)).toEqual(['public/del.txt']);
    expect(out.Errors).toEqual([{ Key: 'private/keep.txt', Code: 'AccessDenied', Message: 'Access Denied' }]);
    await expect(admin.send(new HeadObjectCommand({ Bucket: B, Key: 'private/keep.txt' }))).resolves.toBeDefined();
    await expect(denied(admin.send(new HeadObjectCommand({ Bucket: B, Key: 'public/del.txt' })))).resolves.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('checks before writing: a PutObject with tags needs s3:PutObjectTagging and stores nothing when denied', async () => {
    const err = await denied(writer.send(new PutObjectCommand({ Bucket: B, Key: 'tagged.txt', Body: 't', Tagging: 'k=v' })));
    expect(err.message).toBe(message('writer', 's3:PutObjectTagging', `arn:aws:s3:::${B}/tagged.txt`));
    await expect(denied(admin.send(new HeadObjectCommand({ Bucket: B, Key: 'tagged.txt' })))).resolves.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('needs read of the source for CopyObject', async () => {
    const err = await denied(writer.send(new CopyObjectCommand({ Bucket: B, Key: 'copied.txt', CopySource: `${OTHER}/src.txt` })));
    expect(err.message).toBe(message('writer', 's3:GetObject', `arn:aws:s3:::${OTHER}/src.txt`));
    await expect(denied(admin.send(new HeadObjectCommand({ Bucket: B, Key: 'copied.txt' })))).resolves.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    await expect(writer.send(new CopyObjectCommand({ Bucket: B, Key: 'copied.txt', CopySource: `${B}/public/a.txt` }))).resolves.toBeDefined();
  });

  it('answers ListBuckets with s3:ListAllMyBuckets, and a nonexistent bucket with NoSuchBucket whoever asks', async () => {
    const err = await denied(reader.send(new ListBucketsCommand({})));
    expect(err.message).toBe(`User: ${roleArn('reader')} is not authorized to perform: s3:ListAllMyBuckets because no identity-based policy allows the s3:ListAllMyBuckets action`);
    await expect(denied(reader.send(new GetObjectCommand({ Bucket: 'no-such-bucket-here', Key: 'k' })))).resolves.toMatchObject({ name: 'NoSuchBucket' });
  });

  it('refuses a key no principal has with InvalidAccessKeyId, and an anonymous request with Access Denied', async () => {
    const err = await denied(client('AKNOBODY').send(new GetObjectCommand({ Bucket: B, Key: 'public/a.txt' })));
    expect(err.name).toBe('InvalidAccessKeyId');
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toBe('The AWS Access Key Id you provided does not exist in our records.');
    const anonymous = await fetch(`${server.endpoint}/${B}/public/a.txt`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain('<Code>AccessDenied</Code><Message>Access Denied</Message>');
  });

  it('decides side-by-side requests of two principals each on its own', async () => {
    const calls = Array.from({ length: 10 }, (_, i) =>
      (i % 2 ? reader : writer).send(new GetObjectCommand({ Bucket: B, Key: 'private/b.txt' })).then(
        () => 'ok',
        (e: Error) => e.name,
      ),
    );
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 ? 'AccessDenied' : 'ok')));
  });

  it('names the principal of a presigned URL by its X-Amz-Credential', async () => {
    const url = await getSignedUrl(reader, new GetObjectCommand({ Bucket: B, Key: 'private/b.txt' }), { expiresIn: 60 });
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain(message('reader', 's3:GetObject', `arn:aws:s3:::${B}/private/b.txt`).replace(/"/g, '&quot;'));
    const allowed = await fetch(await getSignedUrl(reader, new GetObjectCommand({ Bucket: B, Key: 'public/a.txt' }), { expiresIn: 60 }));
    expect(allowed.status).toBe(200);
  });
});

describe('what each S3 operation asks IAM for', () => {
  const LOCKED = 'iam-locked';
  const obj = (key: string) => `arn:aws:s3:::${LOCKED}/${key}`;
  const bkt = `arn:aws:s3:::${LOCKED}`;

  /** The (action, resource) pairs one admin call made the endpoint ask, in order. */
  async function asks(call: () => Promise<unknown>): Promise<string[]> {
    const from = authz.asked.length;
    await call();
    return authz.asked.slice(from).map((a) => `${a.request.action} ${a.request.resource}`);
  }

  it('maps every operation of the router to its actions, resources and extra permissions', async () => {
    expect(await asks(() => admin.send(new CreateBucketCommand({ Bucket: LOCKED, ObjectLockEnabledForBucket: true })))).toEqual([
      `s3:CreateBucket ${bkt}`,
      `s3:PutBucketObjectLockConfiguration ${bkt}`,
      `s3:PutBucketVersioning ${bkt}`,
    ]);
    const until = new Date(Date.now() + 3600_000);
    const put = await admin.send(new PutObjectCommand({ Bucket: LOCKED, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: 'OFF' }));
    const putAsked = authz.asked.slice(-3);
    expect(putAsked.map((a) => a.request.action)).toEqual(['s3:PutObject', 's3:PutObjectRetention', 's3:PutObjectLegalHold']);
    expect(putAsked[0].request.context).toMatchObject({ 's3:object-lock-mode': 'GOVERNANCE', 's3:object-lock-legal-hold': 'OFF' });
    const v = put.VersionId as string;
    const cases: [() => Promise<unknown>, string[]][] = [
      [() => admin.send(new HeadBucketCommand({ Bucket: LOCKED })), [`s3:ListBucket ${bkt}`]],
      [() => admin.send(new GetBucketVersioningCommand({ Bucket: LOCKED })), [`s3:GetBucketVersioning ${bkt}`]],
      [() => admin.send(new GetObjectLockConfigurationCommand({ Bucket: LOCKED })), [`s3:GetBucketObjectLockConfiguration ${bkt}`]],
      [() => admin.send(new GetBucketLocationCommand({ Bucket: LOCKED })), [`s3:GetBucketLocation ${bkt}`]],
      [() => admin.send(new ListObjectVersionsCommand({ Bucket: LOCKED, Prefix: 'k' })), [`s3:ListBucketVersions ${bkt}`]],
      [() => admin.send(new ListMultipartUploadsCommand({ Bucket: LOCKED })), [`s3:ListBucketMultipartUploads ${bkt}`]],
      [() => admin.send(new HeadObjectCommand({ Bucket: LOCKED, Key: 'k', VersionId: v })), [`s3:GetObjectVersion ${obj('k')}`]],
      [() => admin.send(new GetObjectTaggingCommand({ Bucket: LOCKED, Key: 'k' })), [`s3:GetObjectTagging ${obj('k')}`]],
      [() => admin.send(new PutObjectTaggingCommand({ Bucket: LOCKED, Key: 'k', VersionId: v, Tagging: { TagSet: [] } })), [`s3:PutObjectVersionTagging ${obj('k')}`]],
      [() => admin.send(new DeleteObjectTaggingCommand({ Bucket: LOCKED, Key: 'k', VersionId: v })), [`s3:DeleteObjectVersionTagging ${obj('k')}`]],
      [() => admin.send(new GetObjectRetentionCommand({ Bucket: LOCKED, Key: 'k', VersionId: v })), [`s3:GetObjectRetention ${obj('k')}`]],
      [() => admin.send(new GetObjectLegalHoldCommand({ Bucket: LOCKED, Key: 'k' })), [`s3:GetObjectLegalHold ${obj('k')}`]],
      [() => admin.send(new PutObjectLegalHoldCommand({ Bucket: LOCKED, Key: 'k', LegalHold: { Status: 'OFF' } })), [`s3:PutObjectLegalHold ${obj('k')}`]],
      [
        () => admin.send(new PutObjectRetentionCommand({ Bucket: LOCKED, Key: 'k', VersionId: v, BypassGovernanceRetention: true, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 60_000) } })),
        [`s3:PutObjectRetention ${obj('k')}`, `s3:BypassGovernanceRetention ${obj('k')}`],
      ],
      [() => admin.send(new DeleteObjectCommand({ Bucket: LOCKED, Key: 'k', VersionId: v, BypassGovernanceRetention: true })), [`s3:DeleteObjectVersion ${obj('k')}`, `s3:BypassGovernanceRetention ${obj('k')}`]],
      [() => admin.send(new DeleteObjectCommand({ Bucket: LOCKED, Key: 'gone' })), [`s3:DeleteObject ${obj('gone')}`]],
    ];
    for (const [call, expected] of cases) expect(await asks(call)).toEqual(expected);
  });

  it('maps multipart uploads: create, part, part copy, list parts, complete, abort', async () => {
    let uploadId = '';
    const create = async () => {
      uploadId = (await admin.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mpu', Tagging: 'a=b' }))).UploadId ?? '';
    };
    expect(await asks(create)).toEqual([
      `s3:PutObject arn:aws:s3:::${B}/mpu`,
      `s3:PutObjectTagging arn:aws:s3:::${B}/mpu`,
    ]);
    expect(uploadId).not.toBe('');
    expect(await asks(() => admin.send(new UploadPartCommand({ Bucket: B, Key: 'mpu', UploadId: uploadId, PartNumber: 1, Body: 'p1' })))).toEqual([`s3:PutObject arn:aws:s3:::${B}/mpu`]);
    expect(await asks(() => admin.send(new UploadPartCopyCommand({ Bucket: B, Key: 'mpu', UploadId: uploadId, PartNumber: 2, CopySource: `${OTHER}/src.txt` })))).toEqual([
      `s3:PutObject arn:aws:s3:::${B}/mpu`,
      `s3:GetObject arn:aws:s3:::${OTHER}/src.txt`,
    ]);
    expect(await asks(() => admin.send(new ListPartsCommand({ Bucket: B, Key: 'mpu', UploadId: uploadId })))).toEqual([`s3:ListMultipartUploadParts arn:aws:s3:::${B}/mpu`]);
    expect(await asks(() => admin.send(new AbortMultipartUploadCommand({ Bucket: B, Key: 'mpu', UploadId: uploadId })))).toEqual([`s3:AbortMultipartUpload arn:aws:s3:::${B}/mpu`]);
    const { UploadId } = await admin.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mpu2' }));
    const part = await admin.send(new UploadPartCommand({ Bucket: B, Key: 'mpu2', UploadId, PartNumber: 1, Body: 'only' }));
    expect(
      await asks(() => admin.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mpu2', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }))),
    ).toEqual([`s3:PutObject arn:aws:s3:::${B}/mpu2`]);
  });
});

(hasAwsCli ? describe : describe.skip)('the aws CLI', () => {
  it('prints AccessDenied for a denied get-object', async () => {
    const run = (key: string) => awsCli(server.endpoint, ['s3api', 'get-object', '--bucket', B, '--key', key, '/dev/null'], awsCliEnv('AKREADER'));
    const [bad, good] = await Promise.all([run('private/b.txt'), run('public/a.txt')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`An error occurred (AccessDenied) when calling the GetObject operation: ${message('reader', 's3:GetObject', `arn:aws:s3:::${B}/private/b.txt`)}`);
    expect(good.code).toBe(0);
  });
});
