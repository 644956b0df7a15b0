import { errors } from './errors';
import type { Ctx } from './http';
import type { S3Operation } from './operations';
import * as attrs from './handlers/attrs';
import * as bucket from './handlers/bucket';
import * as del from './handlers/delete';
import * as enc from './handlers/encryption';
import * as list from './handlers/list';
import * as mpu from './handlers/multipart';
import * as object from './handlers/object';

export type Handler = (ctx: Ctx) => void | Promise<void>;

/** An S3 API operation by its AWS name (what IAM authorizes) and the handler that serves it. */
export interface Route {
  readonly operation: S3Operation;
  readonly handler: Handler;
}

const op = (operation: S3Operation, handler: Handler): Route => ({ operation, handler });

/** Query parameters that qualify an operation rather than name one. */
const PARAMS = new Set([
  'prefix', 'delimiter', 'max-keys', 'marker', 'continuation-token', 'start-after', 'fetch-owner', 'encoding-type',
  'list-type', 'key-marker', 'version-id-marker', 'upload-id-marker', 'max-uploads', 'max-buckets', 'bucket-region',
  'versionId', 'partNumber', 'uploadId', 'part-number-marker', 'max-parts', 'x-id',
  'response-content-type', 'response-content-language', 'response-expires', 'response-cache-control',
  'response-content-disposition', 'response-content-encoding',
]);

type Table = Record<string, Partial<Record<string, (ctx: RouteInput) => Route>>>;

/** What the choice between two operations on one method and sub-resource depends on. */
export interface RouteInput {
  readonly query: URLSearchParams;
  readonly headers: Record<string, string | string[] | undefined>;
}

const fixed = (operation: S3Operation, handler: Handler) => () => op(operation, handler);
const copies = (r: RouteInput) => r.headers['x-amz-copy-source'] !== undefined;

const SERVICE: Partial<Record<string, () => Route>> = { GET: fixed('ListBuckets', bucket.listBuckets) };

/** Bucket operations by sub-resource ('' = none) and method. */
const BUCKET: Table = {
  '': {
    GET: (r) => (r.query.get('list-type') === '2' ? op('ListObjectsV2', list.listObjectsV2) : op('ListObjects', list.listObjects)),
    HEAD: fixed('HeadBucket', bucket.headBucket),
    PUT: fixed('CreateBucket', bucket.createBucket),
    DELETE: fixed('DeleteBucket', bucket.deleteBucket),
  },
  versioning: { GET: fixed('GetBucketVersioning', bucket.getBucketVersioning), PUT: fixed('PutBucketVersioning', bucket.putBucketVersioning) },
  'object-lock': {
    GET: fixed('GetObjectLockConfiguration', bucket.getObjectLockConfiguration),
    PUT: fixed('PutObjectLockConfiguration', bucket.putObjectLockConfiguration),
  },
  versions: { GET: fixed('ListObjectVersions', list.listObjectVersions) },
  uploads: { GET: fixed('ListMultipartUploads', mpu.listMultipartUploads) },
  delete: { POST: fixed('DeleteObjects', del.deleteObjects) },
  location: { GET: fixed('GetBucketLocation', bucket.getBucketLocation) },
  encryption: {
    GET: fixed('GetBucketEncryption', enc.getBucketEncryption),
    PUT: fixed('PutBucketEncryption', enc.putBucketEncryption),
    DELETE: fixed('DeleteBucketEncryption', enc.deleteBucketEncryption),
  },
};

/** Object operations by sub-resource ('' = none) and method. */
const OBJECT: Table = {
  '': {
    GET: fixed('GetObject', object.getObject),
    HEAD: fixed('HeadObject', object.getObject),
    PUT: (r) => (copies(r) ? op('CopyObject', object.copyObject) : op('PutObject', object.putObject)),
    DELETE: fixed('DeleteObject', del.deleteObject),
  },
  uploads: { POST: fixed('CreateMultipartUpload', mpu.createMultipartUpload) },
  uploadId: {
    PUT: (r) => (copies(r) ? op('UploadPartCopy', mpu.uploadPartCopy) : op('UploadPart', mpu.uploadPart)),
    POST: fixed('CompleteMultipartUpload', mpu.completeMultipartUpload),
    DELETE: fixed('AbortMultipartUpload', mpu.abortMultipartUpload),
    GET: fixed('ListParts', mpu.listParts),
  },
  tagging: {
    GET: fixed('GetObjectTagging', attrs.getObjectTagging),
    PUT: fixed('PutObjectTagging', attrs.putObjectTagging),
    DELETE: fixed('DeleteObjectTagging', attrs.deleteObjectTagging),
  },
  retention: { GET: fixed('GetObjectRetention', attrs.getObjectRetention), PUT: fixed('PutObjectRetention', attrs.putObjectRetention) },
  'legal-hold': { GET: fixed('GetObjectLegalHold', attrs.getObjectLegalHold), PUT: fixed('PutObjectLegalHold', attrs.putObjectLegalHold) },
};

/** Picks the operation for a request; anything unrecognised is NotImplemented, never a silent 200. */
export function route(method: string, bucketName: string, key: string, input: RouteInput): Route {
  const { query } = input;
  if (!bucketName) {
    const h = SERVICE[method];
    if (!h || [...query.keys()].some((k) => !PARAMS.has(k))) throw errors.notImplemented(`${method} /`);
    return h();
  }
  const subs = [...new Set([...query.keys()].filter((k) => !PARAMS.has(k)))];
  // uploadId is a parameter for most purposes but selects the multipart operations on objects.
  if (key && query.has('uploadId') && !subs.includes('uploadId')) subs.push('uploadId');
  if (subs.length > 1) throw errors.notImplemented(`sub-resources ${subs.join(', ')}`);
  const sub = subs[0] ?? '';
  const table = key ? OBJECT : BUCKET;
  const byMethod = table[sub];
  if (!byMethod) throw errors.notImplemented(`${key ? 'object' : 'bucket'} sub-resource "${sub}"`);
  const h = byMethod[method];
  if (!h) {
    // POST uploads (browser forms) and similar exist on S3 but are not offered here.
    if (method === 'POST') throw errors.notImplemented(`POST ${key ? 'object' : 'bucket'}${sub ? ` ?${sub}` : ''}`);
    throw errors.methodNotAllowed();
  }
  return h(input);
}
