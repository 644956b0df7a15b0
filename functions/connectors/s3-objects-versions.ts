/**
 * The `s3-objects` connector's view of a bucket: every version and delete marker under a
 * prefix, version ids as S3 spells them, and one wrapper that turns S3 failures into the
 * connector's typed errors.
 */
import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3ObjectsStore } from '../core/datamap';
import { DataMapError, StoreUnavailableError } from '../core/errors';
import { versionPages } from '../aws/s3-version-pages';
import { compareText, pageEntries } from './s3-shared';
import type { S3ObjectLocator } from './types';

export interface ListedVersion {
  readonly key: string;
  /** `null`: the null version. */
  readonly versionId: string | null;
  readonly isDeleteMarker: boolean;
  readonly isLatest: boolean;
  readonly size: number;
  readonly lastModified?: Date;
}

export interface ListStats {
  listRequests: number;
  /** Keys S3 returned that do not start with the prefix asked for: ignored. */
  outsidePrefix: number;
}

export const GONE = Symbol('gone');

export function locatorOf(store: S3ObjectsStore, v: ListedVersion): S3ObjectLocator {
  return { type: 's3-object', bucket: store.bucket, key: v.key, versionId: v.versionId, isDeleteMarker: v.isDeleteMarker, isLatest: v.isLatest, size: v.size };
}

/** Every version and delete marker under `prefix`, all pages, in S3's order (by key, newest first). */
export async function listVersions(s3: S3Client, store: S3ObjectsStore, prefix: string, pageSize: number | undefined, stats: ListStats): Promise<ListedVersion[]> {
  const out: ListedVersion[] = [];
  const send = (command: ListObjectVersionsCommand) => {
    stats.listRequests++;
    return call(store, 'ListObjectVersions', () => s3.send(command));
  };
  const pages = versionPages(send, { Bucket: store.bucket, Prefix: prefix, ...(pageSize ? { MaxKeys: pageSize } : {}) }, (message) => new StoreUnavailableError(store.name, message));
  for await (const page of pages) {
    for (const e of pageEntries(page)) {
      if (!e.key.startsWith(prefix)) {
        stats.outsidePrefix++;
        continue;
      }
      out.push({ key: e.key, versionId: versionOf(e.versionId), isDeleteMarker: e.deleteMarker, isLatest: e.isLatest, size: e.size, lastModified: e.lastModified });
    }
  }
  // Versions and markers come in two lists; S3's order is by key, then newest first.
  return out.sort((a, b) => compareText(a.key, b.key) || (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0));
}

export function versionOf(id: string | undefined): string | null {
  return id === undefined || id === 'null' ? null : id;
}

export function versionParam(versionId: string | null): string {
  return versionId ?? 'null';
}

export const versionKey = (key: string, versionId: string | null): string => `${key}\u0000${versionParam(versionId)}`;

export function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? 'Error';
}

export async function call<T>(store: S3ObjectsStore, operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    const name = errorName(err);
    if (name === 'NoSuchBucket') throw new DataMapError(`store ${store.name}: bucket ${store.bucket} does not exist`, { store: store.name }, { cause: err });
    throw new StoreUnavailableError(store.name, `${operation} failed (${name})`, { cause: err });
  }
}
