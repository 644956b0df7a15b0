/**
 * The local S3 endpoint driven by the real `aws` CLI (v1 from pip, or Debian's awscli 2.x in CI).
 * Only options that both major versions understand are used. Every CLI call starts a Python
 * process (~0.5-1 s), so independent scenarios run concurrently, each in its own bucket.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startS3Server, type RunningS3Server } from '../../local/s3';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- CLI JSON output, checked field by field
  json: any;
}

let server: RunningS3Server;
let sdk: S3Client;
let work: string;
let env: NodeJS.ProcessEnv;

/**
 * The aws executable. A pyenv shim re-resolves the interpreter on every call (bash + pyenv),
 * which adds up over dozens of calls, so the shim is resolved once to the real script.
 */
function resolveAws(): string {
  const found = spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).stdout.trim();
  if (found.includes('/.pyenv/shims/')) {
    const real = spawnSync('pyenv', ['which', 'aws'], { encoding: 'utf8' });
    if (real.status === 0 && real.stdout.trim()) return real.stdout.trim();
  }
  return found || 'aws';
}

const AWS = resolveAws();
const cliVersion = spawnSync(AWS, ['--version'], { encoding: 'utf8' });
// Scenarios run concurrently and each starts many Python processes: time them as a group.
const CLI_TIMEOUT = 180_000;

function aws(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(AWS, ['--endpoint-url', server.endpoint, '--output', 'json', ...args], { env, cwd: work, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      let json: unknown;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** A CLI call that must succeed; its stderr is shown if it does not. */
async function ok(...args: string[]): Promise<CliResult> {
  const r = await aws(...args);
  if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** A CLI call that must fail with the given S3 error code. */
async function fails(code: string, ...args: string[]): Promise<void> {
  const r = await aws(...args);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(`(${code})`);
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

beforeAll(async () => {
  if (cliVersion.error || cliVersion.status !== 0) {
    throw new Error(
      'The `aws` CLI is not installed or does not run, and these endpoint tests need it. ' +
        'Install the Debian package awscli (`apt-get install awscli`), or `pip install awscli`.',
    );
  }
  server = await startS3Server({ port: 0 });
  sdk = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' } });
  work = await mkdtemp(join(tmpdir(), 'dsr-s3-cli-'));
  await writeFile(join(work, 'config'), '[default]\ns3 =\n  addressing_style = path\n');
  await writeFile(join(work, 'credentials'), '');
  env = {
    PATH: process.env.PATH,
    HOME: work,
    AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
    AWS_SECRET_ACCESS_KEY: 'local-secret',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(work, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'credentials'),
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
    PYENV_VERSION: process.env.PYENV_VERSION,
    PYENV_ROOT: process.env.PYENV_ROOT,
  };
});

afterAll(async () => {
  sdk?.destroy();
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test.concurrent('versions: three puts, a delete marker, list, read an old version, delete one for good', async () => {
  const B = 'cli-versions';
  await ok('s3api', 'create-bucket', '--bucket', B);
  await sdk.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
  const ids: string[] = [];
  for (const n of [1, 2, 3]) {
    const file = join(work, `v${n}.txt`);
    await writeFile(file, `version ${n}`);
    ids.push((await ok('s3api', 'put-object', '--bucket', B, '--key', 'notes.txt', '--body', file)).json.VersionId);
  }
  expect(new Set(ids).size).toBe(3);
  const del = await ok('s3api', 'delete-object', '--bucket', B, '--key', 'notes.txt');
  expect(del.json.DeleteMarker).toBe(true);
  const out = join(work, 'old.txt');
  const [listing] = await Promise.all([
    ok('s3api', 'list-object-versions', '--bucket', B),
    ok('s3api', 'get-object', '--bucket', B, '--key', 'notes.txt', '--version-id', ids[0], out),
  ]);
  const listed = listing.json;
  expect(listed.Versions.map((v: { VersionId: string }) => v.VersionId)).toEqual([...ids].reverse());
  expect(listed.DeleteMarkers).toEqual([expect.objectContaining({ VersionId: del.json.VersionId, IsLatest: true })]);
  expect(await readFile(out, 'utf8')).toBe('version 1');
  await ok('s3api', 'delete-object', '--bucket', B, '--key', 'notes.txt', '--version-id', ids[0]);
  const after = await sdk.send(new ListObjectVersionsCommand({ Bucket: B }));
  expect(after.Versions?.map((v) => v.VersionId)).toEqual([ids[2], ids[1]]);
}, CLI_TIMEOUT);

test.concurrent('object lock: legal hold, governance with and without bypass, compliance', async () => {
  const L = 'cli-locked';
  await ok('s3api', 'create-bucket', '--bucket', L, '--object-lock-enabled-for-bucket');
  const file = join(work, 'locked.txt');
  await writeFile(file, 'keep me');
  const [held, gov, comp] = await Promise.all([
    ok('s3api', 'put-object', '--bucket', L, '--key', 'held', '--body', file, '--object-lock-legal-hold-status', 'ON'),
    ok('s3api', 'put-object', '--bucket', L, '--key', 'gov', '--body', file, '--object-lock-mode', 'GOVERNANCE', '--object-lock-retain-until-date', inDays(1)),
    sdk.send(new PutObjectCommand({ Bucket: L, Key: 'comp', Body: 'c', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(inDays(1)) })),
  ]);
  const [h, g, c] = [held.json.VersionId, gov.json.VersionId, comp.VersionId!];
  await Promise.all([
    fails('AccessDenied', 's3api', 'delete-object', '--bucket', L, '--key', 'held', '--version-id', h),
    fails('AccessDenied', 's3api', 'delete-object', '--bucket', L, '--key', 'gov', '--version-id', g),
    fails('AccessDenied', 's3api', 'delete-object', '--bucket', L, '--key', 'comp', '--version-id', c, '--bypass-governance-retention'),
  ]);
  await Promise.all([
    ok('s3api', 'put-object-legal-hold', '--bucket', L, '--key', 'held', '--version-id', h, '--legal-hold', 'Status=OFF'),
    ok('s3api', 'delete-object', '--bucket', L, '--key', 'gov', '--version-id', g, '--bypass-governance-retention'),
  ]);
  await ok('s3api', 'delete-object', '--bucket', L, '--key', 'held', '--version-id', h);
  const left = await sdk.send(new ListObjectVersionsCommand({ Bucket: L }));
  expect(left.Versions?.map((v) => v.Key)).toEqual(['comp']);
}, CLI_TIMEOUT);

test.concurrent('s3 cp of a big file uses multipart both ways; DeleteObjects reports a locked version', async () => {
  const M = 'cli-multipart';
  await sdk.send(new CreateBucketCommand({ Bucket: M, ObjectLockEnabledForBucket: true }));
  const big = randomBytes(18 * 1024 * 1024 + 333);
  const src = join(work, 'big.bin');
  const dst = join(work, 'big-back.bin');
  await writeFile(src, big);
  await ok('s3', 'cp', '--only-show-errors', src, `s3://${M}/dumps/big.bin`);
  const head = await sdk.send(new HeadObjectCommand({ Bucket: M, Key: 'dumps/big.bin' }));
  expect(head.ContentLength).toBe(big.length);
  expect(head.ETag).toMatch(/^"[0-9a-f]{32}-\d+"$/);
  await ok('s3', 'cp', '--only-show-errors', `s3://${M}/dumps/big.bin`, dst);
  expect(md5(await readFile(dst))).toBe(md5(big));

  const locked = await sdk.send(new PutObjectCommand({ Bucket: M, Key: 'held', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }));
  const spec = JSON.stringify({ Objects: [{ Key: 'held', VersionId: locked.VersionId }, { Key: 'dumps/big.bin', VersionId: head.VersionId }] });
  const res = (await aws('s3api', 'delete-objects', '--bucket', M, '--delete', spec)).json;
  expect(res.Errors).toEqual([expect.objectContaining({ Key: 'held', Code: 'AccessDenied' })]);
  expect(res.Deleted).toEqual([expect.objectContaining({ Key: 'dumps/big.bin', VersionId: head.VersionId })]);
}, CLI_TIMEOUT);

test.concurrent('CLI auto-pagination of list-objects-v2 and list-object-versions (markers split inside keys)', async () => {
  const P = 'cli-pages';
  await sdk.send(new CreateBucketCommand({ Bucket: P }));
  await sdk.send(new PutBucketVersioningCommand({ Bucket: P, VersioningConfiguration: { Status: 'Enabled' } }));
  const keys = Array.from({ length: 260 }, (_, i) => `k/${String(i).padStart(4, '0')}`);
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < keys.length) {
      const Key = keys[next++];
      await fetch(`${server.endpoint}/${P}/${Key}`, { method: 'PUT', body: Key });
      if (Key.endsWith('7')) await fetch(`${server.endpoint}/${P}/${Key}`, { method: 'PUT', body: `${Key}+` });
    }
  }));
  const [objects, versions] = await Promise.all([
    ok('s3api', 'list-objects-v2', '--bucket', P, '--page-size', '50'),
    ok('s3api', 'list-object-versions', '--bucket', P, '--page-size', '45'),
  ]);
  expect(objects.json.Contents.map((o: { Key: string }) => o.Key)).toEqual(keys);
  const ids = versions.json.Versions.map((v: { Key: string; VersionId: string }) => `${v.Key}@${v.VersionId}`);
  expect(ids).toHaveLength(260 + 26);
  expect(new Set(ids).size).toBe(260 + 26);
}, CLI_TIMEOUT);

test.concurrent('NoSuchBucket, copy of an old version, tagging by version and a presigned URL', async () => {
  const O = 'cli-objects';
  await sdk.send(new CreateBucketCommand({ Bucket: O }));
  await sdk.send(new PutBucketVersioningCommand({ Bucket: O, VersioningConfiguration: { Status: 'Enabled' } }));
  const v1 = await sdk.send(new PutObjectCommand({ Bucket: O, Key: 'doc', Body: 'first' }));
  await sdk.send(new PutObjectCommand({ Bucket: O, Key: 'doc', Body: 'second' }));
  await Promise.all([
    fails('NoSuchBucket', 's3api', 'list-objects-v2', '--bucket', 'cli-no-such-bucket'),
    ok('s3api', 'copy-object', '--bucket', O, '--key', 'restored', '--copy-source', `${O}/doc?versionId=${v1.VersionId}`),
    ok('s3api', 'put-object-tagging', '--bucket', O, '--key', 'doc', '--version-id', v1.VersionId!, '--tagging', 'TagSet=[{Key=erase,Value=due}]'),
  ]);
  const presigned = await ok('s3', 'presign', `s3://${O}/restored`, '--expires-in', '300');
  const tags = await sdk.send(new GetObjectTaggingCommand({ Bucket: O, Key: 'doc', VersionId: v1.VersionId }));
  expect(tags.TagSet).toEqual([{ Key: 'erase', Value: 'due' }]);
  const res = await fetch(presigned.stdout.trim());
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('first');
}, CLI_TIMEOUT);

test.concurrent('S3 strictness the CLI sees: conditional delete-objects, a retried completion, retention mode changes, create-bucket again', async () => {
  const S = 'cli-strict';
  await ok('s3api', 'create-bucket', '--bucket', S, '--object-lock-enabled-for-bucket');
  // us-east-1 answers a re-create of one's own bucket with 200.
  await ok('s3api', 'create-bucket', '--bucket', S);
  const file = join(work, 'strict.txt');
  await writeFile(file, 'strict');
  const [a, b] = await Promise.all([
    ok('s3api', 'put-object', '--bucket', S, '--key', 'a', '--body', file),
    ok('s3api', 'put-object', '--bucket', S, '--key', 'b', '--body', file, '--object-lock-mode', 'GOVERNANCE', '--object-lock-retain-until-date', inDays(1)),
  ]);

  // CLIs whose botocore predates conditional deletes (Debian's 2.9) refuse the ETag element themselves.
  const spec = JSON.stringify({ Objects: [{ Key: 'a', ETag: '"00000000000000000000000000000000"' }, { Key: 'b', ETag: b.json.ETag }] });
  const del = await aws('s3api', 'delete-objects', '--bucket', S, '--delete', spec);
  if (/Unknown parameter in Delete\.Objects\[0\]: "ETag"/.test(del.stderr)) {
    expect(del.code).not.toBe(0);
  } else {
    expect(del.code).toBe(0);
    expect(del.json.Errors).toEqual([expect.objectContaining({ Key: 'a', Code: 'PreconditionFailed' })]);
    expect(del.json.Deleted).toEqual([expect.objectContaining({ Key: 'b', DeleteMarker: true })]);
    const left = await sdk.send(new HeadObjectCommand({ Bucket: S, Key: 'a' }));
    expect(left.VersionId).toBe(a.json.VersionId);
  }

  const retention = (mode: string, days: number) => `Mode=${mode},RetainUntilDate=${inDays(days)}`;
  const vb = b.json.VersionId;
  await fails('AccessDenied', 's3api', 'put-object-retention', '--bucket', S, '--key', 'b', '--version-id', vb, '--retention', retention('COMPLIANCE', 2));
  await ok('s3api', 'put-object-retention', '--bucket', S, '--key', 'b', '--version-id', vb, '--retention', retention('COMPLIANCE', 2), '--bypass-governance-retention');
  await fails('AccessDenied', 's3api', 'put-object-retention', '--bucket', S, '--key', 'b', '--version-id', vb, '--retention', retention('GOVERNANCE', 3), '--bypass-governance-retention');

  const created = await ok('s3api', 'create-multipart-upload', '--bucket', S, '--key', 'mpu');
  const uploadId = created.json.UploadId;
  const part = await ok('s3api', 'upload-part', '--bucket', S, '--key', 'mpu', '--upload-id', uploadId, '--part-number', '1', '--body', file);
  const parts = JSON.stringify({ Parts: [{ PartNumber: 1, ETag: part.json.ETag }] });
  const first = await ok('s3api', 'complete-multipart-upload', '--bucket', S, '--key', 'mpu', '--upload-id', uploadId, '--multipart-upload', parts);
  const again = await ok('s3api', 'complete-multipart-upload', '--bucket', S, '--key', 'mpu', '--upload-id', uploadId, '--multipart-upload', parts);
  expect([again.json.ETag, again.json.VersionId]).toEqual([first.json.ETag, first.json.VersionId]);
  await fails('NoSuchUpload', 's3api', 'list-parts', '--bucket', S, '--key', 'mpu', '--upload-id', uploadId);
}, CLI_TIMEOUT);
