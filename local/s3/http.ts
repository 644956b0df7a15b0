import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from './errors';
import type { Store } from './store';
import { buildXml, type XmlNode } from './xml';

export const OWNER_ID = '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a';
export const OWNER_NAME = 'local';
export const ownerXml = (): XmlNode[] => [
  ['ID', OWNER_ID],
  ['DisplayName', OWNER_NAME],
];

/** Everything a handler needs about one request. */
export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  bucket: string;
  key: string;
  query: URLSearchParams;
  store: Store;
  region: string;
  /** The account that owns every bucket: KMS key ARNs (aws/s3, bare key ids) are in it. */
  account: string;
  /** Signed with Signature Version 2, which S3 refuses for anything SSE-KMS. */
  sigV2: boolean;
  endpoint: string;
}

export function header(ctx: Ctx, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function param(ctx: Ctx, name: string): string | undefined {
  const v = ctx.query.get(name);
  return v === null ? undefined : v;
}

export function flag(ctx: Ctx, name: string): boolean {
  return header(ctx, name)?.trim().toLowerCase() === 'true';
}

/** A non-negative integer query parameter, InvalidArgument if present and malformed. */
export function intParam(ctx: Ctx, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = param(ctx, name);
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw errors.invalidArgument(`Provided ${name} not an integer or within integer range`, name, raw);
  return Math.min(Number(raw), max);
}

export function sendXml(ctx: Ctx, root: string, body: XmlNode[], status = 200, headers: Record<string, string> = {}): void {
  const text = buildXml(root, body);
  ctx.res.writeHead(status, {
    ...headers,
    'content-type': 'application/xml',
    'content-length': String(Buffer.byteLength(text)),
  });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : text);
}

export function sendEmpty(ctx: Ctx, status: number, headers: Record<string, string> = {}): void {
  ctx.res.writeHead(status, { ...headers, 'content-length': '0' });
  ctx.res.end();
}

/** Parses "true"/"false" strictly, as S3 does for boolean request elements. */
export function parseBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw errors.malformedXml();
}
