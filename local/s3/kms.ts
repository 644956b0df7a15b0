/**
 * The KMS calls S3 makes on the caller's behalf for SSE-KMS and DSSE-KMS objects, asked of IAM
 * for the caller's own principal, as AWS does ("To upload or download an object encrypted with
 * an AWS KMS key, you need kms:GenerateDataKey and kms:Decrypt permissions on the key"):
 * - writing a KMS object (PutObject, CopyObject's target, CreateMultipartUpload, UploadPart,
 *   UploadPartCopy's target) needs kms:GenerateDataKey on the key it is written with;
 * - reading one (GetObject, the source of CopyObject and UploadPartCopy) needs kms:Decrypt;
 *   HeadObject reads metadata only and needs neither;
 * - CompleteMultipartUpload needs kms:Decrypt: S3 decrypts the parts to assemble the object.
 * The account's AWS managed key `aws/s3` needs no grant: its key policy (which AWS writes and
 * nobody can change) lets every principal of the account use it through S3, so whoever S3
 * lets through may use it. Only customer managed keys depend on the caller's policy.
 *
 * A denial is 403 AccessDenied with KMS's wording, which S3 passes on: the key ARN unquoted,
 * unlike S3's own messages ("User: … is not authorized to perform: kms:Decrypt on resource:
 * arn:aws:kms:…:key/… because no identity-based policy allows the kms:Decrypt action").
 */
import { accessDeniedMessage, type AuthzRequest } from '../iam/types';
import { callerOf, S3AccessDenied } from './authorize';
import { isAwsManagedKey } from './encryption';
import { errors } from './errors';
import type { Ctx } from './http';
import type { Encryption } from './model';
import { bucketArn, objectArn } from './operations';
import type { Bucket } from './store';

export type KmsAction = 'kms:GenerateDataKey' | 'kms:Decrypt';

/**
 * The request KMS authorizes, with the condition keys a key policy or IAM policy can test:
 * kms:ViaService and kms:CallerAccount, and the encryption context S3 sends (the object's ARN,
 * or the bucket's when the object uses an S3 Bucket Key).
 */
export function kmsRequest(action: KmsAction, keyArn: string, b: Bucket, key: string, bucketKey: boolean, account: string): AuthzRequest {
  return {
    action,
    resource: keyArn,
    context: {
      'kms:ViaService': `s3.${b.meta.region}.amazonaws.com`,
      'kms:CallerAccount': account,
      'kms:EncryptionContext:aws:s3:arn': bucketKey ? bucketArn(b.meta.name) : objectArn(b.meta.name, key),
    },
  };
}

/**
 * Throws AccessDenied unless the caller may perform `action` on the key that `e` names, for the
 * object `key` of `b`. SSE-S3 objects and the `aws/s3` key ask nothing. Any KMS key refuses a
 * request signed with SigV2, as S3 does, whoever signed it.
 */
export function requireKms(ctx: Ctx, action: KmsAction, e: Encryption | undefined, b: Bucket, key: string): void {
  const keyArn = e?.kmsKeyArn;
  if (!keyArn) return;
  if (ctx.sigV2) throw errors.invalidArgument('Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.', 'Authorization', 'null');
  if (isAwsManagedKey(keyArn)) return;
  const caller = callerOf(ctx);
  if (!caller) return;
  const request = kmsRequest(action, keyArn, b, key, e.bucketKey === true, ctx.account);
  const decision = caller.authorize(caller.accessKey, request);
  if (decision.allowed) return;
  if (!caller.accessKey) throw new S3AccessDenied('Access Denied');
  throw new S3AccessDenied(accessDeniedMessage(request, decision));
}
