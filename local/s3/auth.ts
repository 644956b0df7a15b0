import type { IncomingMessage } from 'node:http';
import { errors, S3Error } from './errors';

/**
 * Request authentication, as far as a credential-less local endpoint can take it: the
 * Authorization header and presigned-URL parameters must be well-formed, and presigned URLs
 * must not have expired (callers test that), but signatures are never verified.
 */
export function checkAuth(req: IncomingMessage, query: URLSearchParams): void {
  const auth = req.headers.authorization;
  if (auth !== undefined) checkAuthorizationHeader(auth);
  else checkPresigned(query);
}

function malformed(detail: string): S3Error {
  return new S3Error('AuthorizationHeaderMalformed', 400, `The authorization header is malformed; ${detail}`);
}

/** "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=…, Signature=…" */
function checkAuthorizationHeader(auth: string): void {
  if (auth.startsWith('AWS ')) {
    // Signature Version 2 ("AWS AccessKey:Signature"), still sent by some older tools.
    if (!/^AWS [^:\s]+:\S+$/.test(auth)) throw malformed('expected "AWS AccessKeyId:Signature".');
    return;
  }
  if (!auth.startsWith('AWS4-HMAC-SHA256 ')) {
    throw new S3Error('InvalidArgument', 400, 'Unsupported Authorization Type', { ArgumentName: 'Authorization', ArgumentValue: auth.split(' ')[0] });
  }
  const fields = new Map<string, string>();
  for (const part of auth.slice('AWS4-HMAC-SHA256 '.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  if (!credential) throw malformed('a non-empty Access Key (AKID) must be provided in the credential.');
  checkCredential(credential, malformed);
  if (!fields.get('SignedHeaders')) throw malformed('missing SignedHeaders.');
  if (!/^[0-9a-f]{64}$/.test(fields.get('Signature') ?? '')) throw malformed('missing or invalid Signature.');
}

/** AccessKey/yyyymmdd/region/service/aws4_request */
function checkCredential(credential: string, fail: (detail: string) => S3Error): void {
  const parts = credential.split('/');
  if (parts.length !== 5 || !parts[0] || !/^\d{8}$/.test(parts[1]) || !parts[2] || parts[4] !== 'aws4_request') {
    throw fail(`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
}

/** "20240102T030405Z" as used by X-Amz-Date. */
function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

function queryError(message: string): S3Error {
  return new S3Error('AuthorizationQueryParametersError', 400, message);
}

/** Presigned URLs (SigV4 X-Amz-* or SigV2 AWSAccessKeyId/Expires/Signature): expiry is enforced. */
function checkPresigned(query: URLSearchParams): void {
  const now = Date.now();
  const serverTime = new Date(now).toISOString();
  if (query.has('X-Amz-Algorithm') || query.has('X-Amz-Signature')) {
    if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') throw queryError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    checkCredential(query.get('X-Amz-Credential') ?? '', (detail) => queryError(`Error parsing the X-Amz-Credential parameter; ${detail}`));
    const signed = parseAmzDate(query.get('X-Amz-Date') ?? '');
    const ttl = Number(query.get('X-Amz-Expires') ?? '');
    if (Number.isNaN(signed)) throw queryError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
    if (!Number.isInteger(ttl) || ttl < 0) throw queryError('X-Amz-Expires should be a number');
    if (ttl > 604800) throw queryError('X-Amz-Expires must be less than a week (in seconds) that is 604800');
    if (now > signed + ttl * 1000) throw errors.expired(new Date(signed + ttl * 1000).toISOString(), serverTime);
  } else if (query.has('AWSAccessKeyId') && query.has('Signature')) {
    const expires = Number(query.get('Expires')) * 1000;
    if (!Number.isFinite(expires) || expires <= 0) throw errors.accessDenied('Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
    if (now > expires) throw errors.expired(new Date(expires).toISOString(), serverTime);
  }
}

/** Whether the request is signed with Signature Version 2 (header or presigned URL); read before the auth parameters are stripped. */
export function isSigV2(req: IncomingMessage, query: URLSearchParams): boolean {
  const auth = req.headers.authorization;
  return auth !== undefined ? auth.startsWith('AWS ') : query.has('AWSAccessKeyId') && query.has('Signature');
}

/** Query parameters that authenticate a presigned request and take no part in routing. */
export function stripAuthParams(query: URLSearchParams): void {
  const sigV2 = query.has('Signature');
  for (const k of [...query.keys()]) {
    if (/^x-amz-/i.test(k) || k === 'AWSAccessKeyId' || k === 'Signature' || (k === 'Expires' && sigV2)) {
      query.delete(k);
    }
  }
}
