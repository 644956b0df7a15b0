/**
 * What S3 asks IAM for, per API operation, as AWS's Service Authorization Reference for Amazon S3
 * and the operations' "Permissions" sections define it: the action (its Version variant when a
 * versionId names the version), the bucket or object ARN, and the condition keys the request
 * carries. Extra permissions follow the headers that need them (x-amz-tagging → PutObjectTagging,
 * Object Lock headers → PutObjectRetention / PutObjectLegalHold, the bypass header →
 * BypassGovernanceRetention); CopyObject and UploadPartCopy also read their source.
 */
import type { AuthzRequest } from '../iam/types';

export type S3Operation =
  | 'ListBuckets'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'HeadBucket'
  | 'CreateBucket'
  | 'DeleteBucket'
  | 'GetBucketVersioning'
  | 'PutBucketVersioning'
  | 'GetObjectLockConfiguration'
  | 'PutObjectLockConfiguration'
  | 'ListObjectVersions'
  | 'ListMultipartUploads'
  | 'DeleteObjects'
  | 'GetBucketLocation'
  | 'GetBucketEncryption'
  | 'PutBucketEncryption'
  | 'DeleteBucketEncryption'
  | 'GetObject'
  | 'HeadObject'
  | 'PutObject'
  | 'CopyObject'
  | 'DeleteObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'GetObjectTagging'
  | 'PutObjectTagging'
  | 'DeleteObjectTagging'
  | 'GetObjectRetention'
  | 'PutObjectRetention'
  | 'GetObjectLegalHold'
  | 'PutObjectLegalHold';

/** The parts of a request its permissions depend on (auth parameters already removed from the query). */
export interface S3RequestFacts {
  readonly bucket: string;
  readonly key: string;
  readonly query: URLSearchParams;
  readonly headers: Record<string, string | string[] | undefined>;
}

type Context = Record<string, string>;

export const bucketArn = (bucket: string): string => `arn:aws:s3:::${bucket}`;
export const objectArn = (bucket: string, key: string): string => `arn:aws:s3:::${bucket}/${key}`;

function header(r: S3RequestFacts, name: string): string | undefined {
  const v = r.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

const isTrue = (v: string | undefined) => v?.trim().toLowerCase() === 'true';

/** Condition keys named after request headers (s3:x-amz-acl, s3:x-amz-server-side-encryption, …). */
const HEADER_KEYS = [
  'x-amz-acl',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-storage-class',
  'x-amz-copy-source',
  'x-amz-metadata-directive',
  'x-amz-grant-read',
  'x-amz-grant-full-control',
];

function writeContext(r: S3RequestFacts): Context {
  const ctx: Context = {};
  for (const name of HEADER_KEYS) {
    const v = header(r, name);
    if (v !== undefined) ctx[`s3:${name}`] = v;
  }
  const mode = header(r, 'x-amz-object-lock-mode');
  const until = header(r, 'x-amz-object-lock-retain-until-date');
  const hold = header(r, 'x-amz-object-lock-legal-hold');
  if (mode !== undefined) ctx['s3:object-lock-mode'] = mode;
  if (until !== undefined) ctx['s3:object-lock-retain-until-date'] = until;
  if (hold !== undefined) ctx['s3:object-lock-legal-hold'] = hold;
  return ctx;
}

/** s3:prefix, s3:delimiter and s3:max-keys, present only when the request sends them. */
function listContext(r: S3RequestFacts): Context {
  const ctx: Context = {};
  for (const name of ['prefix', 'delimiter', 'max-keys']) {
    const v = r.query.get(name);
    if (v !== null) ctx[`s3:${name}`] = v;
  }
  return ctx;
}

function req(action: string, resource: string, context?: Context): AuthzRequest {
  return context && Object.keys(context).length > 0 ? { action, resource, context } : { action, resource };
}

/** An object action, or its Version variant (with s3:versionid) when a versionId is given. */
function versioned(action: string, versionAction: string, resource: string, versionId: string | undefined, context: Context = {}): AuthzRequest {
  return versionId === undefined ? req(action, resource, context) : req(versionAction, resource, { ...context, 's3:versionid': versionId });
}

/** s3:PutObject and what the upload's headers add to it. */
function writeObject(r: S3RequestFacts): AuthzRequest[] {
  const arn = objectArn(r.bucket, r.key);
  const ctx = writeContext(r);
  const out = [req('s3:PutObject', arn, ctx)];
  if (header(r, 'x-amz-tagging') !== undefined) out.push(req('s3:PutObjectTagging', arn, ctx));
  if (header(r, 'x-amz-object-lock-mode') !== undefined || header(r, 'x-amz-object-lock-retain-until-date') !== undefined) {
    out.push(req('s3:PutObjectRetention', arn, ctx));
  }
  if (header(r, 'x-amz-object-lock-legal-hold') !== undefined) out.push(req('s3:PutObjectLegalHold', arn, ctx));
  if (['x-amz-acl', 'x-amz-grant-read', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control'].some((h) => header(r, h) !== undefined)) {
    out.push(req('s3:PutObjectAcl', arn, ctx));
  }
  return out;
}

/** Reading the source of a copy: "bucket/key[?versionId=…]", URL-encoded, leading slash optional. */
export function copySourceRead(r: S3RequestFacts): AuthzRequest | undefined {
  const raw = header(r, 'x-amz-copy-source');
  if (raw === undefined) return undefined;
  const q = raw.indexOf('?');
  let path: string;
  try {
    path = decodeURIComponent(q === -1 ? raw : raw.slice(0, q)).replace(/^\//, '');
  } catch {
    return undefined; // the handler answers InvalidArgument for the encoding
  }
  const versionId = q === -1 ? undefined : (new URLSearchParams(raw.slice(q + 1)).get('versionId') ?? undefined);
  const slash = path.indexOf('/');
  if (slash <= 0) return undefined;
  return versioned('s3:GetObject', 's3:GetObjectVersion', objectArn(path.slice(0, slash), path.slice(slash + 1)), versionId);
}

const withBypass = (r: S3RequestFacts, resource: string, out: AuthzRequest[]): AuthzRequest[] =>
  isTrue(header(r, 'x-amz-bypass-governance-retention')) ? [...out, req('s3:BypassGovernanceRetention', resource)] : out;

type Rule = (r: S3RequestFacts) => AuthzRequest[];

const onBucket = (action: string): Rule => (r) => [req(action, bucketArn(r.bucket))];
const onObject = (action: string, versionAction?: string): Rule => (r) => {
  const versionId = r.query.get('versionId') ?? undefined;
  return [versionAction ? versioned(action, versionAction, objectArn(r.bucket, r.key), versionId) : req(action, objectArn(r.bucket, r.key))];
};

/**
 * The permissions of every operation the router offers. DeleteObjects has none of its own: S3
 * authorizes each key as a DeleteObject (see deleteObjectsKey).
 */
export const PERMISSIONS: Record<S3Operation, Rule> = {
  ListBuckets: () => [req('s3:ListAllMyBuckets', '*')],
  ListObjects: (r) => [req('s3:ListBucket', bucketArn(r.bucket), listContext(r))],
  ListObjectsV2: (r) => [req('s3:ListBucket', bucketArn(r.bucket), listContext(r))],
  HeadBucket: onBucket('s3:ListBucket'),
  CreateBucket: (r) => {
    const arn = bucketArn(r.bucket);
    const out = [req('s3:CreateBucket', arn)];
    // "If ObjectLockEnabledForBucket is set to true, s3:PutBucketObjectLockConfiguration and s3:PutBucketVersioning are required."
    if (isTrue(header(r, 'x-amz-bucket-object-lock-enabled'))) {
      out.push(req('s3:PutBucketObjectLockConfiguration', arn), req('s3:PutBucketVersioning', arn));
    }
    return out;
  },
  DeleteBucket: onBucket('s3:DeleteBucket'),
  GetBucketVersioning: onBucket('s3:GetBucketVersioning'),
  PutBucketVersioning: onBucket('s3:PutBucketVersioning'),
  GetObjectLockConfiguration: onBucket('s3:GetBucketObjectLockConfiguration'),
  PutObjectLockConfiguration: onBucket('s3:PutBucketObjectLockConfiguration'),
  ListObjectVersions: (r) => [req('s3:ListBucketVersions', bucketArn(r.bucket), listContext(r))],
  ListMultipartUploads: onBucket('s3:ListBucketMultipartUploads'),
  DeleteObjects: () => [],
  GetBucketLocation: onBucket('s3:GetBucketLocation'),
  GetBucketEncryption: onBucket('s3:GetEncryptionConfiguration'),
  PutBucketEncryption: onBucket('s3:PutEncryptionConfiguration'),
  // No action of its own: deleting the configuration is changing it.
  DeleteBucketEncryption: onBucket('s3:PutEncryptionConfiguration'),
  GetObject: onObject('s3:GetObject', 's3:GetObjectVersion'),
  HeadObject: onObject('s3:GetObject', 's3:GetObjectVersion'),
  PutObject: writeObject,
  CopyObject: (r) => {
    const source = copySourceRead(r);
    return source ? [...writeObject(r), source] : writeObject(r);
  },
  DeleteObject: (r) => {
    const versionId = r.query.get('versionId') ?? undefined;
    const arn = objectArn(r.bucket, r.key);
    const del = versioned('s3:DeleteObject', 's3:DeleteObjectVersion', arn, versionId);
    return versionId === undefined ? [del] : withBypass(r, arn, [del]);
  },
  CreateMultipartUpload: writeObject,
  UploadPart: (r) => [req('s3:PutObject', objectArn(r.bucket, r.key))],
  UploadPartCopy: (r) => {
    const source = copySourceRead(r);
    const write = req('s3:PutObject', objectArn(r.bucket, r.key));
    return source ? [write, source] : [write];
  },
  CompleteMultipartUpload: (r) => [req('s3:PutObject', objectArn(r.bucket, r.key))],
  AbortMultipartUpload: onObject('s3:AbortMultipartUpload'),
  ListParts: onObject('s3:ListMultipartUploadParts'),
  GetObjectTagging: onObject('s3:GetObjectTagging', 's3:GetObjectVersionTagging'),
  PutObjectTagging: onObject('s3:PutObjectTagging', 's3:PutObjectVersionTagging'),
  DeleteObjectTagging: onObject('s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'),
  // Retention and legal hold have no Version actions: one action covers every version.
  GetObjectRetention: onObject('s3:GetObjectRetention'),
  PutObjectRetention: (r) => withBypass(r, objectArn(r.bucket, r.key), onObject('s3:PutObjectRetention')(r)),
  GetObjectLegalHold: onObject('s3:GetObjectLegalHold'),
  PutObjectLegalHold: onObject('s3:PutObjectLegalHold'),
};

/** One key of a DeleteObjects request: authorized as the DeleteObject (or DeleteObjectVersion) it stands for. */
export function deleteObjectsKey(bucket: string, key: string, versionId: string | undefined, bypass: boolean): AuthzRequest[] {
  const arn = objectArn(bucket, key);
  const del = versioned('s3:DeleteObject', 's3:DeleteObjectVersion', arn, versionId);
  return versionId !== undefined && bypass ? [del, req('s3:BypassGovernanceRetention', arn)] : [del];
}
