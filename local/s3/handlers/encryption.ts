/**
 * Bucket default encryption: Put/Get/DeleteBucketEncryption. Every bucket has one on S3 ("By
 * default, all buckets have a default encryption configuration that uses server-side encryption
 * with Amazon S3 managed keys (SSE-S3)"), so GET of a bucket never configured answers AES256
 * rather than an error, and DELETE resets the bucket to it. S3 "does not validate the KMS key
 * ID provided in PutBucketEncryption requests": the id is kept as given and reported back so.
 */
import { readSmallBody } from '../body';
import { errors } from '../errors';
import { parseBool, sendEmpty, sendXml, type Ctx } from '../http';
import type { BucketEncryption } from '../model';
import { parseSseAlgorithm } from '../encryption';
import { child, children, parseXml, text } from '../xml';

function parseConfiguration(body: Buffer): BucketEncryption {
  const rules = children(parseXml(body, 'ServerSideEncryptionConfiguration'), 'Rule');
  if (rules.length !== 1) throw errors.malformedXml();
  const rule = rules[0];
  const byDefault = child(rule, 'ApplyServerSideEncryptionByDefault');
  if (!byDefault) throw errors.malformedXml();
  const raw = text(byDefault, 'SSEAlgorithm');
  if (raw === undefined) throw errors.malformedXml();
  const algorithm = parseSseAlgorithm(raw, 'SSEAlgorithm');
  const kmsMasterKeyId = text(byDefault, 'KMSMasterKeyID') || undefined;
  if (kmsMasterKeyId !== undefined && algorithm === 'AES256') {
    throw errors.invalidArgument('a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse', 'ApplyServerSideEncryptionByDefault');
  }
  const bucketKeyEnabled = parseBool(text(rule, 'BucketKeyEnabled')) ?? false;
  return kmsMasterKeyId === undefined ? { algorithm, bucketKeyEnabled } : { algorithm, kmsMasterKeyId, bucketKeyEnabled };
}

export async function putBucketEncryption(ctx: Ctx): Promise<void> {
  const b = ctx.store.bucket(ctx.bucket);
  // The API model marks the operation as needing Content-MD5 or a checksum, as S3 enforces.
  b.meta.encryption = parseConfiguration(await readSmallBody(ctx.req, true));
  await ctx.store.saveBucket(b);
  sendEmpty(ctx, 200);
}

export function getBucketEncryption(ctx: Ctx): void {
  const d = ctx.store.bucket(ctx.bucket).meta.encryption ?? { algorithm: 'AES256', bucketKeyEnabled: false };
  sendXml(ctx, 'ServerSideEncryptionConfiguration', [
    [
      'Rule',
      [
        ['ApplyServerSideEncryptionByDefault', [['SSEAlgorithm', d.algorithm], ['KMSMasterKeyID', d.kmsMasterKeyId]]],
        ['BucketKeyEnabled', d.bucketKeyEnabled],
      ],
    ],
  ]);
}

export async function deleteBucketEncryption(ctx: Ctx): Promise<void> {
  const b = ctx.store.bucket(ctx.bucket);
  delete b.meta.encryption;
  await ctx.store.saveBucket(b);
  sendEmpty(ctx, 204);
}
