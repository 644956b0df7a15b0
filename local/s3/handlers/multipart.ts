import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { readSmallBody, receiveBody } from '../body';
import { copyRangeToFile } from '../copyrange';
import { errors } from '../errors';
import { header, intParam, ownerXml, param, sendEmpty, sendXml, type Ctx } from '../http';
import { CHECKSUM_ALGORITHMS, compareKeys, newId, quoteEtag, type Checksum, type ObjectVersion, type PartMeta, type Segment } from '../model';
import { lockFromHeaders, storedHeaders, tagsFromHeader } from '../objectmeta';
import type { Bucket, Upload } from '../store';
import { writtenVersionHeader } from '../versions';
import { children, isoDate, parseXml, text, type XmlNode } from '../xml';
import { commitVersion, resolveCopySource } from './object';

const MIN_PART = 5 * 1024 * 1024;
const completing = new WeakSet<Upload>();

function upload(ctx: Ctx): { b: Bucket; up: Upload } {
  const b = ctx.store.bucket(ctx.bucket);
  const id = param(ctx, 'uploadId') ?? '';
  const up = b.uploads.get(id);
  if (!up || up.meta.key !== ctx.key || completing.has(up)) throw errors.noSuchUpload(id);
  return { b, up };
}

function partNumber(ctx: Ctx): number {
  const n = intParam(ctx, 'partNumber', 0);
  if (n < 1 || n > 10000) {
    throw errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', param(ctx, 'partNumber'));
  }
  return n;
}

export async function createMultipartUpload(ctx: Ctx): Promise<void> {
  const b = ctx.store.bucket(ctx.bucket);
  const algo = header(ctx, 'x-amz-checksum-algorithm')?.toUpperCase();
  const checksumAlgorithm = CHECKSUM_ALGORITHMS.find((a) => a === algo);
  if (algo !== undefined && !checksumAlgorithm) throw errors.invalidRequest('Checksum algorithm provided is unsupported.');
  const type = header(ctx, 'x-amz-checksum-type')?.toUpperCase();
  const uploadId = newId(24);
  await ctx.store.createUpload(b, {
    uploadId,
    key: ctx.key,
    initiated: Date.now(),
    headers: storedHeaders(ctx),
    tags: tagsFromHeader(ctx),
    storageClass: header(ctx, 'x-amz-storage-class'),
    ...lockFromHeaders(ctx, b, Date.now()),
    checksumAlgorithm,
    checksumType: type === 'FULL_OBJECT' ? 'FULL_OBJECT' : checksumAlgorithm ? 'COMPOSITE' : undefined,
  });
  const h: Record<string, string> = {};
  if (checksumAlgorithm) h['x-amz-checksum-algorithm'] = checksumAlgorithm;
  sendXml(ctx, 'InitiateMultipartUploadResult', [['Bucket', ctx.bucket], ['Key', ctx.key], ['UploadId', uploadId]], 200, h);
}

/** Where a part's bytes go; unreferenced .bin files are removed when the store is next opened. */
function partFile(ctx: Ctx, b: Bucket, up: Upload, n: number): { file: string; path: string } {
  const file = `part-${n}-${newId(6)}.bin`;
  return { file, path: ctx.store.partPath(b, up.meta.uploadId, file) };
}

/** Records a received part; a re-sent part number replaces the old one. */
async function storePart(ctx: Ctx, b: Bucket, up: Upload, n: number, file: string, part: Omit<PartMeta, 'file'>): Promise<PartMeta> {
  const previous = up.parts.get(n);
  const stored = { ...part, file };
  up.parts.set(n, stored);
  await ctx.store.savePart(b, up, n);
  if (previous) await rm(ctx.store.partPath(b, up.meta.uploadId, previous.file), { force: true });
  return stored;
}

export async function uploadPart(ctx: Ctx): Promise<void> {
  const { b, up } = upload(ctx);
  const n = partNumber(ctx);
  const { file, path } = partFile(ctx, b, up, n);
  const body = await receiveBody(ctx.req, path);
  try {
    upload(ctx);
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
  const part = await storePart(ctx, b, up, n, file, {
    partNumber: n,
    etag: body.md5,
    size: body.size,
    lastModified: Date.now(),
    checksum: body.checksum,
  });
  const h: Record<string, string> = { etag: quoteEtag(part.etag) };
  if (part.checksum) h[`x-amz-checksum-${part.checksum.algorithm.toLowerCase()}`] = part.checksum.value;
  sendEmpty(ctx, 200, h);
}

export async function uploadPartCopy(ctx: Ctx): Promise<void> {
  const { b, up } = upload(ctx);
  const n = partNumber(ctx);
  const src = resolveCopySource(ctx);
  const size = src.version.size;
  let start = 0;
  let end = size - 1;
  const range = header(ctx, 'x-amz-copy-source-range');
  if (range !== undefined) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(range.trim());
    if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) >= size) {
      throw errors.invalidArgument('The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', 'x-amz-copy-source-range', range);
    }
    start = Number(m[1]);
    end = Number(m[2]);
  }
  const { file, path } = partFile(ctx, b, up, n);
  const md5 = await copyRangeToFile((s) => ctx.store.blobPath(src.bucket, s.file), src.version.segments, start, end, path);
  const part = await storePart(ctx, b, up, n, file, { partNumber: n, etag: md5, size: end - start + 1, lastModified: Date.now() });
  const h: Record<string, string> = {};
  if (src.bucket.meta.versioning) h['x-amz-copy-source-version-id'] = src.version.versionId;
  sendXml(ctx, 'CopyPartResult', [['ETag', quoteEtag(part.etag)], ['LastModified', isoDate(part.lastModified)]], 200, h);
}

/** Checksum of checksums, as S3 reports for multipart uploads ("<base64>-<parts>"). */
function compositeChecksum(up: Upload, parts: PartMeta[]): Checksum | undefined {
  const algo = up.meta.checksumAlgorithm;
  if (!algo || up.meta.checksumType === 'FULL_OBJECT') return undefined;
  if (!parts.every((p) => p.checksum?.algorithm === algo)) return undefined;
  const raw = Buffer.concat(parts.map((p) => Buffer.from(p.checksum?.value ?? '', 'base64')));
  let digest: Buffer;
  if (algo === 'CRC32') {
    digest = Buffer.alloc(4);
    digest.writeUInt32BE(crc32(raw) >>> 0);
  } else if (algo === 'SHA1' || algo === 'SHA256') {
    digest = createHash(algo === 'SHA1' ? 'sha1' : 'sha256').update(raw).digest();
  } else {
    return undefined;
  }
  return { algorithm: algo, value: `${digest.toString('base64')}-${parts.length}`, type: 'COMPOSITE' };
}

interface ListedPart {
  partNumber: number;
  etag: string;
}

function listedParts(body: Buffer): ListedPart[] {
  const listed = children(parseXml(body, 'CompleteMultipartUpload'), 'Part');
  if (listed.length === 0) throw errors.malformedXml();
  let previous = 0;
  return listed.map((p) => {
    const partNumber = Number(text(p, 'PartNumber'));
    if (!Number.isInteger(partNumber)) throw errors.malformedXml();
    if (partNumber <= previous) throw errors.invalidPartOrder();
    previous = partNumber;
    return { partNumber, etag: (text(p, 'ETag') ?? '').replace(/^"|"$/g, '') };
  });
}

const partsSignature = (parts: readonly ListedPart[]): string => parts.map((p) => `${p.partNumber}:${p.etag}`).join(',');

function sendCompleted(ctx: Ctx, b: Bucket, v: ObjectVersion): void {
  const c = v.checksum;
  const result: XmlNode[] = [
    ['Location', `${ctx.endpoint}/${ctx.bucket}/${encodeURIComponent(ctx.key).replace(/%2F/g, '/')}`],
    ['Bucket', ctx.bucket],
    ['Key', ctx.key],
    ['ETag', quoteEtag(v.etag)],
  ];
  if (c) result.push([`Checksum${c.algorithm}`, c.value], ['ChecksumType', c.type]);
  sendXml(ctx, 'CompleteMultipartUploadResult', result, 200, writtenVersionHeader(b, v));
}

/**
 * A retry of a completion that already succeeded (its response was lost) is answered 200 with the
 * same result, as S3 does, without evaluating If-Match/If-None-Match again (they would now fail
 * against the object the first attempt made). It holds while the version it made exists and only
 * for the same part list; anything else about a finished upload is NoSuchUpload.
 */
function completedBefore(b: Bucket, key: string, uploadId: string, parts: readonly ListedPart[]): ObjectVersion | undefined {
  const v = b.keys.get(key)?.versions.find((x) => x.completedUpload?.uploadId === uploadId);
  return v && v.completedUpload?.parts === partsSignature(parts) ? v : undefined;
}

export async function completeMultipartUpload(ctx: Ctx): Promise<void> {
  const body = await readSmallBody(ctx.req);
  const b = ctx.store.bucket(ctx.bucket);
  const listed = listedParts(body);
  const before = completedBefore(b, ctx.key, param(ctx, 'uploadId') ?? '', listed);
  if (before) {
    // An upload still listed here outlived its completion (a stop between the two writes).
    const stale = b.uploads.get(before.completedUpload?.uploadId ?? '');
    if (stale && !completing.has(stale)) await ctx.store.removeUpload(b, stale.meta.uploadId);
    return sendCompleted(ctx, b, before);
  }
  const { up } = upload(ctx);
  const parts: PartMeta[] = [];
  for (const p of listed) {
    const part = up.parts.get(p.partNumber);
    if (!part || part.etag !== p.etag) throw errors.invalidPart();
    parts.push(part);
  }
  if (parts.slice(0, -1).some((p) => p.size < MIN_PART)) throw errors.entityTooSmall();
  completing.add(up);
  try {
    const segments: Segment[] = [];
    for (const p of parts) {
      segments.push({ file: await ctx.store.shareBlob(b, ctx.store.partPath(b, up.meta.uploadId, p.file)), size: p.size });
    }
    const md5s = Buffer.concat(parts.map((p) => Buffer.from(p.etag, 'hex')));
    const m = up.meta;
    const v = await commitVersion(ctx, b, {
      versionId: '',
      deleteMarker: false,
      lastModified: 0,
      etag: `${createHash('md5').update(md5s).digest('hex')}-${parts.length}`,
      size: segments.reduce((sum, s) => sum + s.size, 0),
      segments,
      headers: m.headers,
      tags: m.tags,
      storageClass: m.storageClass,
      checksum: compositeChecksum(up, parts),
      retention: m.retention,
      legalHold: m.legalHold,
      completedUpload: { uploadId: m.uploadId, parts: partsSignature(listed) },
    });
    await ctx.store.removeUpload(b, m.uploadId);
    sendCompleted(ctx, b, v);
  } finally {
    completing.delete(up);
  }
}

export async function abortMultipartUpload(ctx: Ctx): Promise<void> {
  const { b, up } = upload(ctx);
  await ctx.store.removeUpload(b, up.meta.uploadId);
  sendEmpty(ctx, 204);
}

export function listParts(ctx: Ctx): void {
  const { up } = upload(ctx);
  const marker = intParam(ctx, 'part-number-marker', 0);
  const max = intParam(ctx, 'max-parts', 1000, 1000);
  const all = [...up.parts.values()].filter((p) => p.partNumber > marker).sort((x, y) => x.partNumber - y.partNumber);
  const page = all.slice(0, max);
  const truncated = all.length > page.length;
  sendXml(ctx, 'ListPartsResult', [
    ['Bucket', ctx.bucket],
    ['Key', ctx.key],
    ['UploadId', up.meta.uploadId],
    ['PartNumberMarker', marker],
    ['NextPartNumberMarker', page.length ? page[page.length - 1].partNumber : undefined],
    ['MaxParts', max],
    ['IsTruncated', truncated],
    ...page.map((p): XmlNode => [
      'Part',
      [
        ['PartNumber', p.partNumber],
        ['LastModified', isoDate(p.lastModified)],
        ['ETag', quoteEtag(p.etag)],
        ['Size', p.size],
        [`Checksum${p.checksum?.algorithm ?? ''}`, p.checksum?.value],
      ],
    ]),
    ['Initiator', ownerXml()],
    ['Owner', ownerXml()],
    ['StorageClass', up.meta.storageClass ?? 'STANDARD'],
    ['ChecksumAlgorithm', up.meta.checksumAlgorithm],
  ]);
}

export function listMultipartUploads(ctx: Ctx): void {
  const b = ctx.store.bucket(ctx.bucket);
  const prefix = param(ctx, 'prefix') ?? '';
  const keyMarker = param(ctx, 'key-marker') ?? '';
  const idMarker = param(ctx, 'upload-id-marker') ?? '';
  const max = intParam(ctx, 'max-uploads', 1000, 1000);
  if (param(ctx, 'delimiter')) throw errors.notImplemented('ListMultipartUploads with a delimiter');
  const all = [...b.uploads.values()]
    .map((u) => u.meta)
    .filter((m) => m.key.startsWith(prefix))
    .sort((x, y) => compareKeys(x.key, y.key) || compareKeys(x.uploadId, y.uploadId))
    .filter((m) => compareKeys(m.key, keyMarker) > 0 || (m.key === keyMarker && idMarker !== '' && m.uploadId > idMarker));
  const page = all.slice(0, max);
  const truncated = all.length > page.length;
  const last = page[page.length - 1];
  sendXml(ctx, 'ListMultipartUploadsResult', [
    ['Bucket', ctx.bucket],
    ['KeyMarker', keyMarker],
    ['UploadIdMarker', idMarker],
    ['NextKeyMarker', truncated ? last?.key : undefined],
    ['NextUploadIdMarker', truncated ? last?.uploadId : undefined],
    ['Prefix', prefix],
    ['MaxUploads', max],
    ['IsTruncated', truncated],
    ...page.map((m): XmlNode => [
      'Upload',
      [
        ['Key', m.key],
        ['UploadId', m.uploadId],
        ['Initiator', ownerXml()],
        ['Owner', ownerXml()],
        ['StorageClass', m.storageClass ?? 'STANDARD'],
        ['Initiated', isoDate(m.initiated)],
        ['ChecksumAlgorithm', m.checksumAlgorithm],
      ],
    ]),
  ]);
}
