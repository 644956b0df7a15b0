import { rm } from 'node:fs/promises';
import { receiveBody } from '../body';
import { copyRangeToFile } from '../copyrange';
import { errors } from '../errors';
import { header, intParam, ownerXml, param, sendEmpty, sendXml, type Ctx } from '../http';
import { CHECKSUM_ALGORITHMS, compareKeys, newId, quoteEtag, type PartMeta } from '../model';
import { encryptionHeaders, requestedEncryption } from '../encryption';
import { requireKms } from '../kms';
import { lockFromHeaders, storedHeaders, tagsFromHeader } from '../objectmeta';
import type { Bucket, Upload } from '../store';
import { isoDate, type XmlNode } from '../xml';
import { resolveCopySource } from './object';
import { openUpload } from './open-upload';

export { completeMultipartUpload } from './multipart-complete';

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
  const encryption = requestedEncryption(ctx, b);
  requireKms(ctx, 'kms:GenerateDataKey', encryption, b, ctx.key);
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
    encryption,
  });
  const h: Record<string, string> = encryptionHeaders(encryption);
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
  const { b, up } = openUpload(ctx);
  const n = partNumber(ctx);
  // Each part is encrypted with a data key of the upload's key.
  requireKms(ctx, 'kms:GenerateDataKey', up.meta.encryption, b, ctx.key);
  const { file, path } = partFile(ctx, b, up, n);
  const body = await receiveBody(ctx.req, path);
  try {
    openUpload(ctx);
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
  const h: Record<string, string> = { etag: quoteEtag(part.etag), ...encryptionHeaders(up.meta.encryption) };
  if (part.checksum) h[`x-amz-checksum-${part.checksum.algorithm.toLowerCase()}`] = part.checksum.value;
  sendEmpty(ctx, 200, h);
}

export async function uploadPartCopy(ctx: Ctx): Promise<void> {
  const { b, up } = openUpload(ctx);
  const n = partNumber(ctx);
  const src = resolveCopySource(ctx);
  requireKms(ctx, 'kms:Decrypt', src.version.encryption, src.bucket, src.key);
  requireKms(ctx, 'kms:GenerateDataKey', up.meta.encryption, b, ctx.key);
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
  const h: Record<string, string> = encryptionHeaders(up.meta.encryption);
  if (src.bucket.meta.versioning) h['x-amz-copy-source-version-id'] = src.version.versionId;
  sendXml(ctx, 'CopyPartResult', [['ETag', quoteEtag(part.etag)], ['LastModified', isoDate(part.lastModified)]], 200, h);
}

export async function abortMultipartUpload(ctx: Ctx): Promise<void> {
  const { b, up } = openUpload(ctx);
  await ctx.store.removeUpload(b, up.meta.uploadId);
  sendEmpty(ctx, 204);
}

export function listParts(ctx: Ctx): void {
  const { up } = openUpload(ctx);
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
