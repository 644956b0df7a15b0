import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { readSmallBody } from '../body';
import { errors } from '../errors';
import { param, sendXml, type Ctx } from '../http';
import { quoteEtag, type Checksum, type ObjectVersion, type PartMeta, type Segment } from '../model';
import type { Bucket, Upload } from '../store';
import { encryptionHeaders } from '../encryption';
import { requireKms } from '../kms';
import { writtenVersionHeader } from '../versions';
import { children, parseXml, text, type XmlNode } from '../xml';
import { commitVersion } from './object';
import { completing, openUpload } from './open-upload';

/** S3's floor for every part but the last. */
const MIN_PART = 5 * 1024 * 1024;

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
  sendXml(ctx, 'CompleteMultipartUploadResult', result, 200, { ...writtenVersionHeader(b, v), ...encryptionHeaders(v.encryption) });
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
  const { up } = openUpload(ctx);
  const parts: PartMeta[] = [];
  for (const p of listed) {
    const part = up.parts.get(p.partNumber);
    if (!part || part.etag !== p.etag) throw errors.invalidPart();
    parts.push(part);
  }
  if (parts.slice(0, -1).some((p) => p.size < MIN_PART)) throw errors.entityTooSmall();
  // S3 decrypts the parts to assemble the object: completing needs kms:Decrypt on the upload's key.
  requireKms(ctx, 'kms:Decrypt', up.meta.encryption, b, ctx.key);
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
      encryption: m.encryption,
      completedUpload: { uploadId: m.uploadId, parts: partsSignature(listed) },
    });
    await ctx.store.removeUpload(b, m.uploadId);
    sendCompleted(ctx, b, v);
  } finally {
    completing.delete(up);
  }
}

