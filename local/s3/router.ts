import { errors } from './errors';
import type { Ctx } from './http';
import * as attrs from './handlers/attrs';
import * as bucket from './handlers/bucket';
import * as del from './handlers/delete';
import * as list from './handlers/list';
import * as mpu from './handlers/multipart';
import * as object from './handlers/object';

export type Handler = (ctx: Ctx) => void | Promise<void>;

/** Query parameters that qualify an operation rather than name one. */
const PARAMS = new Set([
  'prefix', 'delimiter', 'max-keys', 'marker', 'continuation-token', 'start-after', 'fetch-owner', 'encoding-type',
  'list-type', 'key-marker', 'version-id-marker', 'upload-id-marker', 'max-uploads', 'max-buckets', 'bucket-region',
  'versionId', 'partNumber', 'uploadId', 'part-number-marker', 'max-parts', 'x-id',
  'response-content-type', 'response-content-language', 'response-expires', 'response-cache-control',
  'response-content-disposition', 'response-content-encoding',
]);

type Table = Record<string, Partial<Record<string, Handler>>>;

const SERVICE: Partial<Record<string, Handler>> = { GET: bucket.listBuckets };

/** Bucket operations by sub-resource ('' = none) and method. */
const BUCKET: Table = {
  '': {
    GET: (ctx) => (ctx.query.get('list-type') === '2' ? list.listObjectsV2(ctx) : list.listObjects(ctx)),
    HEAD: bucket.headBucket,
    PUT: bucket.createBucket,
    DELETE: bucket.deleteBucket,
  },
  versioning: { GET: bucket.getBucketVersioning, PUT: bucket.putBucketVersioning },
  'object-lock': { GET: bucket.getObjectLockConfiguration, PUT: bucket.putObjectLockConfiguration },
  versions: { GET: list.listObjectVersions },
  uploads: { GET: mpu.listMultipartUploads },
  delete: { POST: del.deleteObjects },
  location: { GET: bucket.getBucketLocation },
};

/** Object operations by sub-resource ('' = none) and method. */
const OBJECT: Table = {
  '': {
    GET: object.getObject,
    HEAD: object.getObject,
    PUT: (ctx) => (ctx.req.headers['x-amz-copy-source'] ? object.copyObject(ctx) : object.putObject(ctx)),
    DELETE: del.deleteObject,
  },
  uploads: { POST: mpu.createMultipartUpload },
  uploadId: {
    PUT: (ctx) => (ctx.req.headers['x-amz-copy-source'] ? mpu.uploadPartCopy(ctx) : mpu.uploadPart(ctx)),
    POST: mpu.completeMultipartUpload,
    DELETE: mpu.abortMultipartUpload,
    GET: mpu.listParts,
  },
  tagging: { GET: attrs.getObjectTagging, PUT: attrs.putObjectTagging, DELETE: attrs.deleteObjectTagging },
  retention: { GET: attrs.getObjectRetention, PUT: attrs.putObjectRetention },
  'legal-hold': { GET: attrs.getObjectLegalHold, PUT: attrs.putObjectLegalHold },
};

/** Picks the handler for a request; anything unrecognised is NotImplemented, never a silent 200. */
export function route(method: string, bucketName: string, key: string, query: URLSearchParams): Handler {
  if (!bucketName) {
    const h = SERVICE[method];
    if (!h || [...query.keys()].some((k) => !PARAMS.has(k))) throw errors.notImplemented(`${method} /`);
    return h;
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
  return h;
}
