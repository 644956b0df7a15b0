import { pipeline } from 'node:stream/promises';
import { declaresIntegrity, receiveBody } from '../body';
import { checkReadConditions, checkWriteConditions, parseRange, type ByteRange } from '../conditions';
import { errors, S3Error } from '../errors';
import { header, intParam, param, sendEmpty, sendXml, type Ctx } from '../http';
import { quoteEtag, type ObjectVersion } from '../model';
import { encryptionHeaders, requestedEncryption, requestSetsEncryption } from '../encryption';
import { requireKms } from '../kms';
import { checksumHeaders, lockFromHeaders, objectHeaders, storedHeaders, tagsFromHeader } from '../objectmeta';
import { openRange } from '../reader';
import type { Bucket } from '../store';
import { addVersion, resolveVersion, versionHeader, writtenVersionHeader } from '../versions';

const getter = (ctx: Ctx) => (name: string) => header(ctx, name);

/** Bytes are in the store; add the version unless a condition fails (then free the bytes). */
export async function commitVersion(ctx: Ctx, b: Bucket, v: ObjectVersion): Promise<ObjectVersion> {
  const live = ctx.store.buckets.get(b.meta.name);
  try {
    if (live !== b) throw errors.noSuchBucket(b.meta.name);
    checkWriteConditions(getter(ctx), ctx.key, b.keys.get(ctx.key)?.versions[0]);
  } catch (err) {
    await ctx.store.removeBlobs(b, v.segments);
    throw err;
  }
  v.lastModified = Date.now();
  const { version, saved } = addVersion(ctx.store, b, ctx.key, v);
  await saved;
  return version;
}

export async function putObject(ctx: Ctx): Promise<void> {
  const b = ctx.store.bucket(ctx.bucket);
  const lock = lockFromHeaders(ctx, b, Date.now());
  // Also when the retention comes from the bucket's default rule, as on S3.
  if ((lock.retention || lock.legalHold !== undefined) && !declaresIntegrity(ctx.req)) {
    throw errors.invalidRequest('Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters');
  }
  const tags = tagsFromHeader(ctx);
  const headers = storedHeaders(ctx);
  const encryption = requestedEncryption(ctx, b);
  // Before the body is taken: S3 asks KMS for the data key the object is encrypted with.
  requireKms(ctx, 'kms:GenerateDataKey', encryption, b, ctx.key);
  const { file, path } = ctx.store.newBlob(b);
  const body = await receiveBody(ctx.req, path).catch((err: unknown) => {
    // The bucket was deleted (its directory moved away) while the body was arriving.
    throw ctx.store.buckets.get(ctx.bucket) === b ? err : errors.noSuchBucket(ctx.bucket);
  });
  const v = await commitVersion(ctx, b, {
    versionId: '',
    deleteMarker: false,
    lastModified: 0,
    etag: body.md5,
    size: body.size,
    segments: [{ file, size: body.size }],
    headers,
    tags,
    storageClass: header(ctx, 'x-amz-storage-class'),
    checksum: body.checksum,
    encryption,
    ...lock,
  });
  const h: Record<string, string> = { etag: quoteEtag(v.etag), ...writtenVersionHeader(b, v), ...encryptionHeaders(v.encryption) };
  if (v.checksum) {
    h[`x-amz-checksum-${v.checksum.algorithm.toLowerCase()}`] = v.checksum.value;
    h['x-amz-checksum-type'] = v.checksum.type;
  }
  sendEmpty(ctx, 200, h);
}

/** The byte range and status a GET/HEAD answers with: a Range header, a partNumber, or everything. */
function selectBytes(ctx: Ctx, v: ObjectVersion): { range?: ByteRange; extra: Record<string, string> } {
  const partNumber = param(ctx, 'partNumber');
  if (partNumber !== undefined && header(ctx, 'range') !== undefined) {
    throw errors.invalidRequest('Cannot specify both Range header and partNumber query parameter');
  }
  if (partNumber !== undefined) {
    const n = intParam(ctx, 'partNumber', 1);
    if (n < 1 || n > 10000) throw errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', partNumber);
    const parts = v.segments.length;
    if (n > Math.max(parts, 1)) throw new S3Error('InvalidPartNumber', 416, 'The requested partnumber is not satisfiable');
    let start = 0;
    for (let i = 0; i < n - 1; i++) start += v.segments[i].size;
    const size = v.segments[n - 1]?.size ?? 0;
    const extra = { 'x-amz-mp-parts-count': String(parts) };
    // A non-multipart object's only part is the whole object: answered as 200, as S3 does.
    if (parts <= 1 || size === 0) return { extra };
    return { range: { start, end: start + size - 1 }, extra };
  }
  return { range: parseRange(header(ctx, 'range'), v.size), extra: {} };
}

export async function getObject(ctx: Ctx): Promise<void> {
  const b = ctx.store.bucket(ctx.bucket);
  for (let attempt = 0; ; attempt++) {
    const v = resolveVersion(b, ctx.key, param(ctx, 'versionId'));
    const base = objectHeaders(ctx, b, v);
    if (checkReadConditions(getter(ctx), v) === 304) {
      sendEmpty(ctx, 304, { etag: base.etag, 'last-modified': base['last-modified'], ...versionHeader(b, v) });
      return;
    }
    const { range, extra } = selectBytes(ctx, v);
    // HEAD answers from metadata; any bytes of a KMS object need its key.
    if (ctx.method !== 'HEAD') requireKms(ctx, 'kms:Decrypt', v.encryption, b, ctx.key);
    const start = range?.start ?? 0;
    const end = range?.end ?? v.size - 1;
    const headers: Record<string, string> = {
      ...base,
      ...extra,
      ...(range ? { 'content-range': `bytes ${start}-${end}/${v.size}` } : checksumHeaders(ctx, v)),
      'content-length': String(end - start + 1),
    };
    if (ctx.method === 'HEAD') {
      ctx.res.writeHead(range ? 206 : 200, headers);
      ctx.res.end();
      return;
    }
    let stream;
    try {
      stream = await openRange((s) => ctx.store.blobPath(b, s.file), v.segments, start, end);
    } catch (err) {
      // The version was replaced or deleted between lookup and open: answer for the new state.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt === 0) continue;
      throw err;
    }
    ctx.res.writeHead(range ? 206 : 200, headers);
    await pipeline(stream, ctx.res);
    return;
  }
}

interface CopySource {
  bucket: Bucket;
  key: string;
  version: ObjectVersion;
  versionIdGiven: boolean;
}

/** Resolves x-amz-copy-source ("bucket/key[?versionId=…]", URL-encoded) and its conditions. */
export function resolveCopySource(ctx: Ctx): CopySource {
  const raw = header(ctx, 'x-amz-copy-source') ?? '';
  const q = raw.indexOf('?');
  const path = safeDecode(q === -1 ? raw : raw.slice(0, q)).replace(/^\//, '');
  const versionId = q === -1 ? undefined : (new URLSearchParams(raw.slice(q + 1)).get('versionId') ?? undefined);
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) throw errors.invalidArgument('Invalid copy source object key', 'x-amz-copy-source', raw);
  const bucket = ctx.store.bucket(path.slice(0, slash));
  const key = path.slice(slash + 1);
  let version: ObjectVersion;
  try {
    version = resolveVersion(bucket, key, versionId);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'MethodNotAllowed') {
      throw errors.invalidRequest('The source of a copy request may not specifically refer to a delete marker by version id.');
    }
    throw err;
  }
  if (checkReadConditions(getter(ctx), version, 'x-amz-copy-source-') === 304) {
    throw errors.preconditionFailed('x-amz-copy-source-If-None-Match');
  }
  return { bucket, key, version, versionIdGiven: versionId !== undefined };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw errors.invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', s);
  }
}

export async function copyObject(ctx: Ctx): Promise<void> {
  const b = ctx.store.bucket(ctx.bucket);
  const src = resolveCopySource(ctx);
  const metaDirective = (header(ctx, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  const tagDirective = (header(ctx, 'x-amz-tagging-directive') ?? 'COPY').toUpperCase();
  if (!['COPY', 'REPLACE'].includes(metaDirective)) throw errors.invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', metaDirective);
  if (!['COPY', 'REPLACE'].includes(tagDirective)) throw errors.invalidArgument('Unknown tagging directive.', 'x-amz-tagging-directive', tagDirective);
  const sameObject = src.bucket === b && src.key === ctx.key && src.version === b.keys.get(ctx.key)?.versions[0];
  if (sameObject && metaDirective === 'COPY' && header(ctx, 'x-amz-storage-class') === undefined && !requestSetsEncryption(ctx)) {
    throw errors.invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const lock = lockFromHeaders(ctx, b, Date.now());
  const s = src.version;
  // The target takes the request's encryption or the destination bucket's default, never the source's.
  const encryption = requestedEncryption(ctx, b);
  requireKms(ctx, 'kms:Decrypt', s.encryption, src.bucket, src.key);
  requireKms(ctx, 'kms:GenerateDataKey', encryption, b, ctx.key);
  const segments = [];
  for (const seg of s.segments) {
    segments.push({ file: await ctx.store.shareBlob(b, ctx.store.blobPath(src.bucket, seg.file)), size: seg.size });
  }
  const v = await commitVersion(ctx, b, {
    versionId: '',
    deleteMarker: false,
    lastModified: 0,
    etag: s.etag,
    size: s.size,
    segments,
    headers: metaDirective === 'REPLACE' ? storedHeaders(ctx) : { ...s.headers },
    tags: tagDirective === 'REPLACE' ? tagsFromHeader(ctx) : [...s.tags],
    storageClass: header(ctx, 'x-amz-storage-class') ?? s.storageClass,
    checksum: s.checksum,
    encryption,
    ...lock,
  });
  const h: Record<string, string> = { ...writtenVersionHeader(b, v), ...encryptionHeaders(v.encryption) };
  if (src.bucket.meta.versioning) h['x-amz-copy-source-version-id'] = s.versionId;
  sendXml(ctx, 'CopyObjectResult', [
    ['ETag', quoteEtag(v.etag)],
    ['LastModified', new Date(v.lastModified).toISOString()],
    [`Checksum${v.checksum?.algorithm ?? ''}`, v.checksum?.value],
  ], 200, h);
}
