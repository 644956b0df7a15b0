import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authorizer } from '../iam/types';
import { checkAuth, isSigV2, stripAuthParams } from './auth';
import { requestAccessKey, runAuthorized, S3AccessDenied } from './authorize';
import { errors, S3Error } from './errors';
import type { Ctx } from './http';
import { route } from './router';
import type { Store } from './store';
import { buildXml } from './xml';

export interface ServerContext {
  store: Store;
  region: string;
  account: string;
  endpoint: () => string;
  log?: (line: string) => void;
  /** Decides every request for the principal behind its access key. */
  authorize: Authorizer;
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

function sendError(req: IncomingMessage, res: ServerResponse, err: S3Error, ids: { requestId: string; hostId: string }, resource: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = buildXml('Error', [
    ['Code', err.code],
    ['Message', err.message],
    ...Object.entries(err.details),
    ...(err instanceof S3AccessDenied ? [] : [['Resource', resource] as [string, string]]),
    ['RequestId', ids.requestId],
    ['HostId', ids.hostId],
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
    const hostId = randomBytes(24).toString('base64');
    res.setHeader('x-amz-id-2', hostId);
    res.setHeader('server', 'SubjectRightsOrchestratorS3');
    const method = (req.method ?? 'GET').toUpperCase();
    let resource = req.url ?? '/';
    try {
      const { bucket, key, query } = parseTarget(req.url ?? '/');
      resource = key ? `/${bucket}/${key}` : `/${bucket}`;
      checkAuth(req, query);
      const accessKey = requestAccessKey(req, query);
      const sigV2 = isSigV2(req, query);
      stripAuthParams(query);
      const operation = route(method, bucket, key, { query, headers: req.headers });
      const ctx: Ctx = { req, res, method, bucket, key, query, store: sc.store, region: sc.region, account: sc.account, sigV2, endpoint: sc.endpoint() };
      await runAuthorized(operation, ctx, { bucket, key, query, headers: req.headers }, sc.authorize, accessKey);
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
      sendError(req, res, s3err, { requestId, hostId }, resource);
    }
  };
}
