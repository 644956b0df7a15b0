import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, S3Error } from './errors';
import type { Ctx } from './http';
import { route } from './router';
import type { Store } from './store';
import { buildXml } from './xml';

export interface ServerContext {
  store: Store;
  region: string;
  endpoint: () => string;
  log?: (line: string) => void;
}

/** "20240102T030405Z" as used by X-Amz-Date. */
function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

/**
 * Presigned URLs carry their auth in the query. Signatures are not verified (no credentials
 * exist here), but expiry is, because callers test that an expired link stops working.
 */
function checkPresigned(query: URLSearchParams): void {
  const now = Date.now();
  const serverTime = new Date(now).toISOString();
  if (query.has('X-Amz-Algorithm') || query.has('X-Amz-Expires')) {
    const signed = parseAmzDate(query.get('X-Amz-Date') ?? '');
    const ttl = Number(query.get('X-Amz-Expires') ?? '');
    if (Number.isNaN(signed) || !Number.isInteger(ttl) || ttl < 1) {
      throw new S3Error('AuthorizationQueryParametersError', 400, 'X-Amz-Date and X-Amz-Expires must be valid in a presigned URL');
    }
    if (ttl > 604800) {
      throw new S3Error('AuthorizationQueryParametersError', 400, 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
    }
    if (now > signed + ttl * 1000) throw errors.expired(new Date(signed + ttl * 1000).toISOString(), serverTime);
  } else if (query.has('AWSAccessKeyId') && query.has('Expires')) {
    const expires = Number(query.get('Expires')) * 1000;
    if (!Number.isFinite(expires) || now > expires) throw errors.expired(new Date(expires || 0).toISOString(), serverTime);
  }
}

/** Query parameters that authenticate a presigned request and take no part in routing. */
function stripAuthParams(query: URLSearchParams): void {
  const sigV2 = query.has('Signature');
  for (const k of [...query.keys()]) {
    if (/^x-amz-/i.test(k) || k === 'AWSAccessKeyId' || k === 'Signature' || (k === 'Expires' && sigV2)) {
      query.delete(k);
    }
  }
}

/** Splits a path-style URL. The key is everything after "/bucket/", decoded, with no normalisation. */
function parseTarget(rawUrl: string): { bucket: string; key: string; query: URLSearchParams } {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
  const rest = path.replace(/^\//, '');
  const slash = rest.indexOf('/');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw errors.invalidArgument('The request path is not valid URL encoding.');
    }
  };
  if (slash === -1) return { bucket: decode(rest), key: '', query };
  return { bucket: decode(rest.slice(0, slash)), key: decode(rest.slice(slash + 1)), query };
}

function sendError(req: IncomingMessage, res: ServerResponse, err: S3Error, requestId: string, resource: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = buildXml('Error', [
    ['Code', err.code],
    ['Message', err.message],
    ...Object.entries(err.details),
    ['Resource', resource],
    ['RequestId', requestId],
  ]).replace(` xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`, '');
  const head = req.method === 'HEAD';
  res.writeHead(err.status, {
    ...err.headers,
    'content-type': 'application/xml',
    ...(head ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
  });
  res.end(head ? undefined : body);
}

export function createHandler(sc: ServerContext) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', randomBytes(24).toString('base64'));
    res.setHeader('server', 'SubjectRightsOrchestratorS3');
    const method = (req.method ?? 'GET').toUpperCase();
    let resource = req.url ?? '/';
    try {
      const { bucket, key, query } = parseTarget(req.url ?? '/');
      resource = key ? `/${bucket}/${key}` : `/${bucket}`;
      checkPresigned(query);
      stripAuthParams(query);
      const handler = route(method, bucket, key, query);
      const ctx: Ctx = { req, res, method, bucket, key, query, store: sc.store, region: sc.region, endpoint: sc.endpoint() };
      await handler(ctx);
    } catch (err) {
      let s3err: S3Error;
      if (err instanceof S3Error) s3err = err;
      else if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || req.destroyed) {
        // The client went away mid-transfer; there is nobody to answer.
        res.destroy();
        return;
      } else {
        sc.log?.(`local s3: ${method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
        s3err = errors.internal();
      }
      sendError(req, res, s3err, requestId, resource);
    }
  };
}
