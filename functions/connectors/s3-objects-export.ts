/** Export from an `s3-objects` store: a version's size and body, and file names safe in a bundle. */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { S3ObjectsStore } from '../core/datamap';
import { StoreUnavailableError } from '../core/errors';
import { isGone } from './s3-shared';
import { call, errorName, GONE, versionParam } from './s3-objects-versions';
import type { S3ObjectLocator } from './types';

export async function headVersion(s3: S3Client, store: S3ObjectsStore, l: S3ObjectLocator): Promise<{ size: number; contentType?: string } | typeof GONE> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: l.key, VersionId: versionParam(l.versionId) }));
    return { size: out.ContentLength ?? l.size, ...(out.ContentType ? { contentType: out.ContentType } : {}) };
  } catch (err) {
    if (isGone(err)) return GONE;
    throw new StoreUnavailableError(store.name, `HeadObject failed (${errorName(err)})`, { cause: err });
  }
}

export async function openVersion(s3: S3Client, store: S3ObjectsStore, l: S3ObjectLocator): Promise<Readable> {
  const out = await call(store, 'GetObject', () => s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: l.key, VersionId: versionParam(l.versionId) })));
  if (!out.Body) throw new StoreUnavailableError(store.name, 'GetObject returned no body');
  return out.Body as Readable;
}

/** The last segment of a key as a file name: no separators or control characters, never "." or "..". */
export function lastSegment(key: string): string {
  // eslint-disable-next-line no-control-regex
  const name = (key.split('/').pop() ?? '').replace(/[\u0000-\u001f\u007f\\]/g, '_');
  return name === '' || name === '.' || name === '..' ? 'object' : name;
}

/** File names unique within one export, also on case-insensitive file systems: `a.wav`, `a-2.wav`, ... */
export class UniqueNames {
  private readonly taken = new Set<string>();
  take(name: string): string {
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let candidate = name;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}${ext}`;
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}
