/**
 * Server-side encryption as S3 records and reports it. Nothing is encrypted on disk: what
 * matters locally is which key a version names, because that decides the KMS permissions a
 * caller needs (kms.ts) exactly as on AWS. S3's documented rules:
 * - every new object is encrypted; without SSE headers it takes the bucket's default
 *   encryption, and a bucket without one has SSE-S3 (AES256), S3's base level since 2023;
 * - `aws:kms` / `aws:kms:dsse` without a key id use the account's AWS managed key `aws/s3`;
 * - the S3 Bucket Key setting of a request overrides the bucket's, which applies otherwise
 *   (Bucket Keys exist for SSE-KMS only, not for DSSE-KMS);
 * - a copy without SSE headers takes the destination bucket's default, not the source's.
 */
import { createHash } from 'node:crypto';
import { errors } from './errors';
import { header, type Ctx } from './http';
import { SSE_ALGORITHMS, type BucketEncryption, type Encryption, type SseAlgorithm } from './model';
import type { Bucket } from './store';

const SSE = 'x-amz-server-side-encryption';
const KEY_ID = 'x-amz-server-side-encryption-aws-kms-key-id';
const BUCKET_KEY = 'x-amz-server-side-encryption-bucket-key-enabled';

/**
 * The ARN of an account's `aws/s3` key in a region. On AWS it is a random key id KMS creates on
 * first use; here a stable one derived from account and region, so tests and reruns agree.
 */
export function awsManagedKeyArn(region: string, account: string): string {
  const h = createHash('sha256').update(`aws/s3:${account}:${region}`).digest('hex');
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return `arn:aws:kms:${region}:${account}:key/${id}`;
}

/** Whether a key ARN is the `aws/s3` AWS managed key of its own account and region. */
export function isAwsManagedKey(arn: string): boolean {
  const m = /^arn:aws[a-z-]*:kms:([^:]+):(\d+):(?:key|alias)\/(.+)$/.exec(arn);
  if (!m) return false;
  return m[3] === 'aws/s3' || arn === awsManagedKeyArn(m[1], m[2]);
}

/**
 * A key as a request or default names it (key id, key ARN, alias name or alias ARN) as the ARN
 * S3 reports. A bare id is in the bucket's region and account. Aliases other than `aws/s3` stay
 * alias ARNs: there is no KMS here to resolve them to a key (a known difference).
 */
export function kmsKeyArn(id: string, region: string, account: string): string {
  if (id === 'alias/aws/s3' || /^arn:aws[a-z-]*:kms:[^:]+:\d+:alias\/aws\/s3$/.test(id)) {
    const m = /^arn:aws[a-z-]*:kms:([^:]+):(\d+):/.exec(id);
    return awsManagedKeyArn(m?.[1] ?? region, m?.[2] ?? account);
  }
  if (id.startsWith('arn:')) return id;
  if (id.startsWith('alias/')) return `arn:aws:kms:${region}:${account}:${id}`;
  return `arn:aws:kms:${region}:${account}:key/${id}`;
}

export function parseSseAlgorithm(value: string, argument: string): SseAlgorithm {
  const algorithm = SSE_ALGORITHMS.find((a) => a === value);
  if (!algorithm) throw errors.invalidArgument('The encryption method specified is not supported', argument, value);
  return algorithm;
}

function bucketKeyHeader(ctx: Ctx): boolean | undefined {
  const raw = header(ctx, BUCKET_KEY);
  if (raw === undefined) return undefined;
  const v = raw.trim().toLowerCase();
  if (v !== 'true' && v !== 'false') throw errors.invalidArgument('Invalid value for the S3 Bucket Key header.', BUCKET_KEY, raw);
  return v === 'true';
}

function kmsEncryption(algorithm: SseAlgorithm, keyId: string | undefined, bucketKey: boolean, b: Bucket, account: string): Encryption {
  const e: Encryption = { algorithm, kmsKeyArn: keyId ? kmsKeyArn(keyId, b.meta.region, account) : awsManagedKeyArn(b.meta.region, account) };
  if (algorithm === 'aws:kms' && bucketKey) e.bucketKey = true;
  return e;
}

/** What a bucket's default encryption makes of a new object written without SSE headers. */
export function defaultEncryption(b: Bucket, account: string, bucketKey?: boolean): Encryption {
  const d: BucketEncryption | undefined = b.meta.encryption;
  if (!d || d.algorithm === 'AES256') return { algorithm: 'AES256' };
  return kmsEncryption(d.algorithm, d.kmsMasterKeyId, bucketKey ?? d.bucketKeyEnabled, b, account);
}

/** The encryption of the object a PutObject, CreateMultipartUpload or CopyObject writes into `b`. */
export function requestedEncryption(ctx: Ctx, b: Bucket): Encryption {
  // SSE-C would need the caller's key on every read; nothing here models it, so refuse it loudly.
  if (header(ctx, 'x-amz-server-side-encryption-customer-algorithm') !== undefined || header(ctx, 'x-amz-copy-source-server-side-encryption-customer-algorithm') !== undefined) {
    throw errors.notImplemented('server-side encryption with customer-provided keys (SSE-C)');
  }
  const raw = header(ctx, SSE);
  const keyId = header(ctx, KEY_ID);
  const bucketKey = bucketKeyHeader(ctx);
  const algorithm = raw === undefined ? undefined : parseSseAlgorithm(raw, SSE);
  if (keyId !== undefined && algorithm !== 'aws:kms' && algorithm !== 'aws:kms:dsse') {
    throw errors.invalidArgument('Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', KEY_ID, keyId);
  }
  if (algorithm === undefined) return defaultEncryption(b, ctx.account, bucketKey);
  if (algorithm === 'AES256') return { algorithm };
  return kmsEncryption(algorithm, keyId, bucketKey ?? b.meta.encryption?.bucketKeyEnabled ?? false, b, ctx.account);
}

/** Whether the request names an encryption (a copy onto itself may then keep everything else). */
export const requestSetsEncryption = (ctx: Ctx): boolean => header(ctx, SSE) !== undefined;

/** The SSE response headers of a version or upload; a version stored without a record is AES256. */
export function encryptionHeaders(e: Encryption | undefined): Record<string, string> {
  const h: Record<string, string> = { [SSE]: e?.algorithm ?? 'AES256' };
  if (e?.kmsKeyArn) h[KEY_ID] = e.kmsKeyArn;
  if (e?.bucketKey) h[BUCKET_KEY] = 'true';
  return h;
}
