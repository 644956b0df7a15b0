/**
 * IAM on every S3 request, before anything is read or written: the operation's permissions
 * (operations.ts) are asked of the authorizer for the request's access key, and a denial is
 * S3's own 403 AccessDenied, worded as S3 words it since its enhanced same-account messages
 * (the resource ARN in double quotes). Two S3 behaviours that depend on a second permission
 * live here too: GET/HEAD of a missing key is 403 unless the caller may s3:ListBucket, and
 * DeleteObjects decides each key on its own.
 */
import type { IncomingMessage } from 'node:http';
import { accessKeyFromAuthorization, accessKeyFromQuery } from '../iam/access-key';
import type { AuthzDecision, AuthzRequest, Authorizer } from '../iam/types';
import { isUnknownAccessKey } from '../iam/unknown-key';
import { S3Error } from './errors';
import type { Ctx } from './http';
import { bucketArn, deleteObjectsKey, PERMISSIONS, type S3Operation, type S3RequestFacts } from './operations';
import type { Route } from './router';

type Denial = Extract<AuthzDecision, { allowed: false }>;

/** A denial by IAM (or of an unknown key): sent without the <Resource> element, as S3 sends it. */
export class S3AccessDenied extends S3Error {
  constructor(message: string, code = 'AccessDenied', details: Record<string, string> = {}) {
    super(code, 403, message, details);
  }
}

/** "User: <arn> is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k" because …" */
export function s3DeniedMessage(request: AuthzRequest, decision: Denial): string {
  const on = request.resource === '*' ? '' : ` on resource: "${request.resource}"`;
  return `User: ${decision.principalArn} is not authorized to perform: ${request.action}${on} ${decision.reason}`;
}

/** The access key of a signed request or presigned URL; '' for an anonymous request. Read before the auth parameters are stripped. */
export function requestAccessKey(req: IncomingMessage, query: URLSearchParams): string {
  return accessKeyFromAuthorization(req.headers.authorization) ?? accessKeyFromQuery(query) ?? '';
}

function firstDenial(authorize: Authorizer, accessKey: string, requests: readonly AuthzRequest[]): S3AccessDenied | undefined {
  for (const request of requests) {
    const decision = authorize(accessKey, request);
    if (decision.allowed) continue;
    if (!accessKey) return new S3AccessDenied('Access Denied');
    if (isUnknownAccessKey(decision)) {
      return new S3AccessDenied('The AWS Access Key Id you provided does not exist in our records.', 'InvalidAccessKeyId', { AWSAccessKeyId: accessKey });
    }
    return new S3AccessDenied(s3DeniedMessage(request, decision));
  }
  return undefined;
}

interface KeyCheck {
  readonly authorize: Authorizer;
  readonly accessKey: string;
}

const keyChecks = new WeakMap<IncomingMessage, KeyCheck>();

/** Who made an authorized request, for the checks a handler can only make once it knows the object (KMS, kms.ts). */
export const callerOf = (ctx: Ctx): KeyCheck | undefined => keyChecks.get(ctx.req);

/**
 * For DeleteObjects: the AccessDenied one key of the request gets in its <Error> entry, or
 * undefined when the caller may delete it. S3 reports the plain "Access Denied" per key.
 */
export function deniedKey(ctx: Ctx, key: string, versionId: string | undefined, bypass: boolean): S3Error | undefined {
  const check = keyChecks.get(ctx.req);
  if (!check) return undefined;
  const denial = firstDenial(check.authorize, check.accessKey, deleteObjectsKey(ctx.bucket, key, versionId, bypass));
  return denial ? new S3AccessDenied('Access Denied') : undefined;
}

const READS: ReadonlySet<S3Operation> = new Set(['GetObject', 'HeadObject']);

/**
 * Runs the operation's handler for an authorized caller; throws AccessDenied before the handler
 * runs otherwise. A bucket that does not exist is NoSuchBucket whoever asks (S3 looks the bucket
 * up before it evaluates the caller's policies), except for CreateBucket.
 */
export async function runAuthorized(route: Route, ctx: Ctx, facts: S3RequestFacts, authorize: Authorizer, accessKey: string): Promise<void> {
  if (facts.bucket && route.operation !== 'CreateBucket') ctx.store.bucket(facts.bucket);
  const denial = firstDenial(authorize, accessKey, PERMISSIONS[route.operation](facts));
  if (denial) throw denial;
  keyChecks.set(ctx.req, { authorize, accessKey });
  try {
    await route.handler(ctx);
  } catch (err) {
    // S3 tells a caller that a key is missing only if it may list the bucket.
    if (READS.has(route.operation) && err instanceof S3Error && err.code === 'NoSuchKey') {
      const listDenied = firstDenial(authorize, accessKey, [{ action: 's3:ListBucket', resource: bucketArn(facts.bucket) }]);
      if (listDenied) throw listDenied;
    }
    throw err;
  }
}
