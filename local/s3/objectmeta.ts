import { storedContentEncoding } from './chunked';
import { errors } from './errors';
import { header, type Ctx } from './http';
import { quoteEtag, type BucketMeta, type LockMode, type ObjectVersion, type Retention, type Tag } from './model';
import { encryptionHeaders } from './encryption';
import { versionHeader } from './versions';
import type { Bucket } from './store';
import { httpDate, isoDate } from './xml';

const REPRESENTATION = ['content-type', 'content-disposition', 'cache-control', 'content-language', 'expires'];

/** The headers S3 stores with an object and returns on GET/HEAD. */
export function storedHeaders(ctx: Ctx): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of REPRESENTATION) {
    const v = header(ctx, name);
    if (v !== undefined) out[name] = v;
  }
  const encoding = storedContentEncoding(ctx.req.headers);
  if (encoding) out['content-encoding'] = encoding;
  for (const [name, value] of Object.entries(ctx.req.headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) out[name] = Array.isArray(value) ? value.join(',') : value;
  }
  if (!out['content-type']) out['content-type'] = 'binary/octet-stream';
  return out;
}

export function validateTags(tags: Tag[]): Tag[] {
  if (tags.length > 10) throw errors.invalidTag('Object tags cannot be greater than 10');
  const seen = new Set<string>();
  for (const t of tags) {
    if (t.key.length === 0 || t.key.length > 128) throw errors.invalidTag('The TagKey you have provided is invalid');
    if (t.value.length > 256) throw errors.invalidTag('The TagValue you have provided is invalid');
    if (seen.has(t.key)) throw errors.invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(t.key);
  }
  return tags;
}

/** x-amz-tagging is a URL query string: "k1=v1&k2=v2". */
export function tagsFromHeader(ctx: Ctx): Tag[] {
  const raw = header(ctx, 'x-amz-tagging');
  if (raw === undefined || raw === '') return [];
  return validateTags([...new URLSearchParams(raw)].map(([key, value]) => ({ key, value })));
}

export function parseLockMode(value: string | undefined): LockMode | undefined {
  if (value === undefined) return undefined;
  if (value === 'GOVERNANCE' || value === 'COMPLIANCE') return value;
  throw errors.invalidArgument('Unknown wormMode directive.', 'x-amz-object-lock-mode', value);
}

export function parseDate(value: string, name: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw errors.invalidArgument(`The ${name} is not a valid date.`, name, value);
  return ms;
}

export function defaultRetention(meta: BucketMeta, now: number): Retention | undefined {
  const rule = meta.defaultRetention;
  if (!meta.objectLock || !rule) return undefined;
  const until = new Date(now);
  if (rule.days) until.setUTCDate(until.getUTCDate() + rule.days);
  if (rule.years) until.setUTCFullYear(until.getUTCFullYear() + rule.years);
  return { mode: rule.mode, until: until.getTime() };
}

/** Object Lock settings from request headers, falling back to the bucket's default retention. */
export function lockFromHeaders(ctx: Ctx, b: Bucket, now: number): { retention?: Retention; legalHold?: boolean } {
  const mode = parseLockMode(header(ctx, 'x-amz-object-lock-mode'));
  const untilRaw = header(ctx, 'x-amz-object-lock-retain-until-date');
  const holdRaw = header(ctx, 'x-amz-object-lock-legal-hold');
  if ((mode === undefined) !== (untilRaw === undefined)) {
    throw errors.invalidArgument(
      'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
    );
  }
  if ((mode || holdRaw !== undefined) && !b.meta.objectLock) throw errors.missingLockConfig();
  if (holdRaw !== undefined && holdRaw !== 'ON' && holdRaw !== 'OFF') {
    throw errors.invalidArgument('Legal Hold must be either of ON or OFF', 'x-amz-object-lock-legal-hold', holdRaw);
  }
  let retention: Retention | undefined;
  if (mode && untilRaw !== undefined) {
    const until = parseDate(untilRaw, 'x-amz-object-lock-retain-until-date');
    if (until <= now) throw errors.invalidArgument('The retain until date must be in the future!');
    retention = { mode, until };
  } else {
    retention = defaultRetention(b.meta, now);
  }
  return { retention, legalHold: holdRaw === undefined ? undefined : holdRaw === 'ON' };
}

const OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/** Response headers describing a stored version (GET and HEAD). */
export function objectHeaders(ctx: Ctx, b: Bucket, v: ObjectVersion): Record<string, string> {
  const h: Record<string, string> = {
    ...v.headers,
    etag: quoteEtag(v.etag),
    'last-modified': httpDate(v.lastModified),
    'accept-ranges': 'bytes',
    ...versionHeader(b, v),
    ...encryptionHeaders(v.encryption),
  };
  for (const [q, name] of Object.entries(OVERRIDES)) {
    const value = ctx.query.get(q);
    if (value !== null) h[name] = value;
  }
  if (v.tags.length) h['x-amz-tagging-count'] = String(v.tags.length);
  if (v.storageClass && v.storageClass !== 'STANDARD') h['x-amz-storage-class'] = v.storageClass;
  if (v.retention) {
    h['x-amz-object-lock-mode'] = v.retention.mode;
    h['x-amz-object-lock-retain-until-date'] = isoDate(v.retention.until);
  }
  if (v.legalHold !== undefined) h['x-amz-object-lock-legal-hold'] = v.legalHold ? 'ON' : 'OFF';
  return h;
}

/** Checksum headers, sent only when asked for and only for whole-object responses. */
export function checksumHeaders(ctx: Ctx, v: ObjectVersion): Record<string, string> {
  if (!v.checksum || header(ctx, 'x-amz-checksum-mode')?.toUpperCase() !== 'ENABLED') return {};
  return {
    [`x-amz-checksum-${v.checksum.algorithm.toLowerCase()}`]: v.checksum.value,
    'x-amz-checksum-type': v.checksum.type,
  };
}
