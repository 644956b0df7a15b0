import { isIP } from 'node:net';
import { readSmallBody } from '../body';
import { errors } from '../errors';
import { flag, intParam, ownerXml, param, sendEmpty, sendXml, type Ctx } from '../http';
import { compareKeys, type DefaultRetention, type LockMode } from '../model';
import { child, escapeXml, isoDate, parseXml, S3_NS, text, type XmlNode } from '../xml';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function validBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) && !name.includes('..') && isIP(name) === 0 && !name.startsWith('xn--');
}

export function listBuckets(ctx: Ctx): void {
  const prefix = param(ctx, 'prefix') ?? '';
  const max = intParam(ctx, 'max-buckets', 10000, 10000);
  const after = param(ctx, 'continuation-token');
  const names = [...ctx.store.buckets.keys()]
    .filter((n) => n.startsWith(prefix) && (after === undefined || compareKeys(n, after) > 0))
    .sort(compareKeys);
  const page = names.slice(0, max);
  const truncated = names.length > page.length;
  const buckets: XmlNode[] = page.map((name) => {
    const b = ctx.store.bucket(name);
    return ['Bucket', [['Name', name], ['CreationDate', isoDate(b.meta.created)], ['BucketRegion', b.meta.region]]];
  });
  sendXml(ctx, 'ListAllMyBucketsResult', [
    ['Owner', ownerXml()],
    ['Buckets', buckets],
    ['ContinuationToken', truncated ? page[page.length - 1] : undefined],
    ['Prefix', param(ctx, 'prefix')],
  ]);
}

export async function createBucket(ctx: Ctx): Promise<void> {
  const name = ctx.bucket;
  if (!validBucketName(name)) throw errors.invalidBucketName(name);
  const body = await readSmallBody(ctx.req);
  let region = ctx.region;
  if (body.length) {
    const location = text(parseXml(body, 'CreateBucketConfiguration'), 'LocationConstraint');
    if (location) region = location;
  }
  const existing = ctx.store.buckets.get(name);
  if (existing) {
    // For legacy compatibility S3 answers 200 in us-east-1 (all buckets here are the caller's).
    if (existing.meta.region === 'us-east-1' && region === 'us-east-1') return sendEmpty(ctx, 200, { location: `/${name}` });
    throw errors.bucketAlreadyOwnedByYou(name);
  }
  const objectLock = flag(ctx, 'x-amz-bucket-object-lock-enabled');
  await ctx.store.createBucket({
    name,
    created: Date.now(),
    region,
    objectLock,
    // Object Lock needs versioning, so S3 turns it on with the bucket.
    versioning: objectLock ? 'Enabled' : undefined,
  });
  sendEmpty(ctx, 200, { location: `/${name}` });
}

export function headBucket(ctx: Ctx): void {
  const b = ctx.store.bucket(ctx.bucket);
  sendEmpty(ctx, 200, { 'x-amz-bucket-region': b.meta.region, 'x-amz-access-point-alias': 'false' });
}

export async function deleteBucket(ctx: Ctx): Promise<void> {
  const b = ctx.store.bucket(ctx.bucket);
  if (b.keys.size > 0) throw errors.bucketNotEmpty(ctx.bucket);
  await ctx.store.deleteBucket(b);
  sendEmpty(ctx, 204);
}

export function getBucketLocation(ctx: Ctx): void {
  const b = ctx.store.bucket(ctx.bucket);
  // us-east-1 is reported as an empty constraint, for historical reasons.
  const location = b.meta.region === 'us-east-1' ? '' : b.meta.region;
  const xml = `<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="${S3_NS}">${escapeXml(location)}</LocationConstraint>`;
  ctx.res.writeHead(200, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(xml)) });
  ctx.res.end(xml);
}

export function getBucketVersioning(ctx: Ctx): void {
  const b = ctx.store.bucket(ctx.bucket);
  sendXml(ctx, 'VersioningConfiguration', [['Status', b.meta.versioning]]);
}

export async function putBucketVersioning(ctx: Ctx): Promise<void> {
  const b = ctx.store.bucket(ctx.bucket);
  const doc = parseXml(await readSmallBody(ctx.req), 'VersioningConfiguration');
  const status = text(doc, 'Status');
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended') throw errors.malformedXml();
  if (text(doc, 'MfaDelete') === 'Enabled') throw errors.notImplemented('MFA delete');
  if (status === 'Suspended' && b.meta.objectLock) {
    throw errors.invalidBucketState(
      'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
    );
  }
  if (status) {
    b.meta.versioning = status;
    await ctx.store.saveBucket(b);
  }
  sendEmpty(ctx, 200);
}

function parseRetentionPeriod(rule: ReturnType<typeof child>): DefaultRetention | undefined {
  if (!rule) return undefined;
  const dr = child(rule, 'DefaultRetention');
  if (!dr) throw errors.malformedXml();
  const mode = text(dr, 'Mode');
  if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw errors.malformedXml();
  const days = text(dr, 'Days');
  const years = text(dr, 'Years');
  if ((days === undefined) === (years === undefined)) throw errors.malformedXml();
  const n = Number(days ?? years);
  if (!Number.isInteger(n) || n <= 0) {
    throw errors.invalidArgument('Default retention period must be a positive integer value.');
  }
  return days !== undefined ? { mode: mode as LockMode, days: n } : { mode: mode as LockMode, years: n };
}

export async function putObjectLockConfiguration(ctx: Ctx): Promise<void> {
  const b = ctx.store.bucket(ctx.bucket);
  const doc = parseXml(await readSmallBody(ctx.req, true), 'ObjectLockConfiguration');
  if (text(doc, 'ObjectLockEnabled') !== 'Enabled') throw errors.malformedXml();
  const retention = parseRetentionPeriod(child(doc, 'Rule'));
  if (!b.meta.objectLock && b.meta.versioning !== 'Enabled') {
    throw errors.invalidBucketState("Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration");
  }
  b.meta.objectLock = true;
  b.meta.defaultRetention = retention;
  await ctx.store.saveBucket(b);
  sendEmpty(ctx, 200);
}

export function getObjectLockConfiguration(ctx: Ctx): void {
  const b = ctx.store.bucket(ctx.bucket);
  if (!b.meta.objectLock) throw errors.noLockConfig();
  const r = b.meta.defaultRetention;
  const rule: XmlNode[] | undefined = r && [
    ['DefaultRetention', [['Mode', r.mode], ['Days', r.days], ['Years', r.years]]],
  ];
  sendXml(ctx, 'ObjectLockConfiguration', [['ObjectLockEnabled', 'Enabled'], ['Rule', rule]]);
}
