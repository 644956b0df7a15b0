import { errors } from '../errors';
import { intParam, ownerXml, param, sendXml, type Ctx } from '../http';
import { compareKeys, lowerBound, quoteEtag, type ObjectVersion } from '../model';
import { checkVersionId } from '../versions';
import type { Bucket } from '../store';
import { isoDate, type XmlNode } from '../xml';

interface Entry {
  key: string;
  version: ObjectVersion;
  latest: boolean;
}

interface Page {
  entries: Entry[];
  prefixes: string[];
  truncated: boolean;
  /** The last thing returned (a key's version or a common prefix), where the next page resumes. */
  last?: { key: string; versionId?: string };
}

/**
 * One page of a listing in S3 order. `versionsOf` gives the rows a key contributes (its current
 * object, or all its versions); keys sharing a common prefix collapse into one row. Resuming
 * from a marker that is itself a common prefix skips that prefix's keys, as S3 does.
 */
function listPage(
  b: Bucket,
  opts: { prefix: string; delimiter: string; after?: string; max: number },
  versionsOf: (key: string, first: boolean) => ObjectVersion[],
): Page {
  const { prefix, delimiter, after, max } = opts;
  const page: Page = { entries: [], prefixes: [], truncated: false };
  const start =
    after !== undefined && compareKeys(after, prefix) >= 0
      ? lowerBound(b.sorted, after, false)
      : lowerBound(b.sorted, prefix, true);
  let lastPrefix = after;
  let count = 0;
  let first = true;
  outer: for (let i = start; i < b.sorted.length; i++) {
    const key = b.sorted[i];
    if (!key.startsWith(prefix)) break;
    const rows = versionsOf(key, first);
    first = false;
    if (rows.length === 0) continue;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (cut !== -1) {
      const cp = key.slice(0, cut + delimiter.length);
      if (cp === lastPrefix) continue;
      if (count >= max) {
        page.truncated = true;
        break;
      }
      page.prefixes.push(cp);
      lastPrefix = cp;
      page.last = { key: cp };
      count++;
      continue;
    }
    const latestId = b.keys.get(key)?.versions[0]?.versionId;
    for (const version of rows) {
      if (count >= max) {
        page.truncated = true;
        break outer;
      }
      page.entries.push({ key, version, latest: version.versionId === latestId });
      page.last = { key, versionId: version.versionId };
      count++;
    }
  }
  return page;
}

function encoder(ctx: Ctx): (s: string | undefined) => string | undefined {
  const type = param(ctx, 'encoding-type');
  if (type !== undefined && type !== 'url') throw errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', type);
  if (type !== 'url') return (s) => s;
  return (s) => (s === undefined ? undefined : encodeURIComponent(s).replace(/%2F/g, '/'));
}

function common(ctx: Ctx) {
  const prefix = param(ctx, 'prefix') ?? '';
  const delimiter = param(ctx, 'delimiter') ?? '';
  const max = intParam(ctx, 'max-keys', 1000, 1000);
  return { prefix, delimiter, max, enc: encoder(ctx) };
}

function contents(e: Entry, enc: (s: string) => string | undefined, owner: boolean): XmlNode {
  const v = e.version;
  return [
    'Contents',
    [
      ['Key', enc(e.key)],
      ['LastModified', isoDate(v.lastModified)],
      ['ETag', quoteEtag(v.etag)],
      ['ChecksumAlgorithm', v.checksum?.algorithm],
      ['ChecksumType', v.checksum?.type],
      ['Size', v.size],
      ['StorageClass', v.storageClass ?? 'STANDARD'],
      ['Owner', owner ? ownerXml() : undefined],
    ],
  ];
}

const currentOnly = (b: Bucket) => (key: string) => {
  const v = b.keys.get(key)?.versions[0];
  return v && !v.deleteMarker ? [v] : [];
};

export function listObjectsV2(ctx: Ctx): void {
  const b = ctx.store.bucket(ctx.bucket);
  const { prefix, delimiter, max, enc } = common(ctx);
  const token = param(ctx, 'continuation-token');
  const startAfter = param(ctx, 'start-after');
  let after = startAfter;
  if (token !== undefined) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!decoded.startsWith('k:')) throw errors.invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
    after = decoded.slice(2);
  }
  const page = max === 0 ? emptyPage() : listPage(b, { prefix, delimiter, after, max }, currentOnly(b));
  const next = page.truncated && page.last ? Buffer.from(`k:${page.last.key}`).toString('base64url') : undefined;
  const owner = param(ctx, 'fetch-owner') === 'true';
  sendXml(ctx, 'ListBucketResult', [
    ['Name', ctx.bucket],
    ['Prefix', enc(prefix)],
    ['Delimiter', delimiter ? enc(delimiter) : undefined],
    ['MaxKeys', max],
    ['EncodingType', param(ctx, 'encoding-type')],
    ['KeyCount', page.entries.length + page.prefixes.length],
    ['IsTruncated', page.truncated],
    ['ContinuationToken', token],
    ['NextContinuationToken', next],
    ['StartAfter', enc(startAfter)],
    ...page.entries.map((e) => contents(e, enc, owner)),
    ...page.prefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', enc(p)]]]),
  ]);
}

export function listObjects(ctx: Ctx): void {
  const b = ctx.store.bucket(ctx.bucket);
  const { prefix, delimiter, max, enc } = common(ctx);
  const marker = param(ctx, 'marker');
  const page = max === 0 ? emptyPage() : listPage(b, { prefix, delimiter, after: marker, max }, currentOnly(b));
  sendXml(ctx, 'ListBucketResult', [
    ['Name', ctx.bucket],
    ['Prefix', enc(prefix)],
    ['Marker', enc(marker ?? '')],
    // S3 only reports NextMarker with a delimiter; without one, clients resume from the last key.
    ['NextMarker', page.truncated && delimiter ? enc(page.last?.key) : undefined],
    ['MaxKeys', max],
    ['Delimiter', delimiter ? enc(delimiter) : undefined],
    ['EncodingType', param(ctx, 'encoding-type')],
    ['IsTruncated', page.truncated],
    ...page.entries.map((e) => contents(e, enc, true)),
    ...page.prefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', enc(p)]]]),
  ]);
}

export function listObjectVersions(ctx: Ctx): void {
  const b = ctx.store.bucket(ctx.bucket);
  const { prefix, delimiter, max, enc } = common(ctx);
  const keyMarker = param(ctx, 'key-marker') || undefined;
  const versionIdMarker = param(ctx, 'version-id-marker') || undefined;
  if (versionIdMarker !== undefined) {
    if (keyMarker === undefined) throw errors.invalidArgument('A version-id marker cannot be specified without a key marker.', 'version-id-marker', versionIdMarker);
    checkVersionId(versionIdMarker);
  }
  // With a version marker the listing resumes inside the marker key, after that version.
  const after = keyMarker !== undefined && versionIdMarker !== undefined ? beforeKey(b, keyMarker) : keyMarker;
  const versionsOf = (key: string, first: boolean): ObjectVersion[] => {
    const all = b.keys.get(key)?.versions ?? [];
    if (!first || versionIdMarker === undefined || key !== keyMarker) return all;
    const i = all.findIndex((v) => v.versionId === versionIdMarker);
    return i === -1 ? [] : all.slice(i + 1);
  };
  const page = max === 0 ? emptyPage() : listPage(b, { prefix, delimiter, after, max }, versionsOf);
  const rows: XmlNode[] = page.entries.map((e) => {
    const v = e.version;
    const base: XmlNode[] = [
      ['Key', enc(e.key)],
      ['VersionId', v.versionId],
      ['IsLatest', e.latest],
      ['LastModified', isoDate(v.lastModified)],
    ];
    if (v.deleteMarker) return ['DeleteMarker', [...base, ['Owner', ownerXml()]]];
    return [
      'Version',
      [...base, ['ETag', quoteEtag(v.etag)], ['ChecksumAlgorithm', v.checksum?.algorithm], ['ChecksumType', v.checksum?.type],
        ['Size', v.size], ['StorageClass', v.storageClass ?? 'STANDARD'], ['Owner', ownerXml()]],
    ];
  });
  const last = page.truncated ? page.last : undefined;
  sendXml(ctx, 'ListVersionsResult', [
    ['Name', ctx.bucket],
    ['Prefix', enc(prefix)],
    ['KeyMarker', enc(keyMarker ?? '')],
    ['VersionIdMarker', versionIdMarker ?? ''],
    ['NextKeyMarker', last ? enc(last.key) : undefined],
    ['NextVersionIdMarker', last?.versionId],
    ['MaxKeys', max],
    ['Delimiter', delimiter ? enc(delimiter) : undefined],
    ['EncodingType', param(ctx, 'encoding-type')],
    ['IsTruncated', page.truncated],
    ...rows,
    ...page.prefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', enc(p)]]]),
  ]);
}

/** The key just before `key` in listing order, so that a listing "after" it starts at `key`. */
function beforeKey(b: Bucket, key: string): string | undefined {
  const i = lowerBound(b.sorted, key, true);
  return i === 0 ? undefined : b.sorted[i - 1];
}

function emptyPage(): Page {
  return { entries: [], prefixes: [], truncated: false };
}
