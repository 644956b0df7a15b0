/**
 * What both S3 connectors (s3-objects: files per subject; s3-records: records inside log
 * objects) must read the same way: S3's error answers, Object Lock protection and when S3 will
 * refuse a delete because of it, the versions of a key, and copy sources. One copy, so the two
 * connectors can never disagree on whether a version is gone or protected.
 */
import type { ListObjectVersionsCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { versionPages } from '../aws/s3-version-pages';
import type { Protection, RefusalReason } from './types';

/** The HTTP status of an S3 error answer, if it has one. */
export function s3Status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** S3's error code (`NoSuchKey`, `PreconditionFailed`, ...); the SDK puts it in `name`. */
export function s3Code(err: unknown): string | undefined {
  return (err as { Code?: string })?.Code ?? (err as { name?: string })?.name;
}

/**
 * The version (or its key) no longer exists. HEAD answers carry no code, only a bare 404; a 404
 * for a missing bucket or a missing Object Lock configuration is not "gone".
 */
export function isGone(err: unknown): boolean {
  const code = s3Code(err);
  if (code === 'NoSuchVersion' || code === 'NoSuchKey' || code === 'NotFound') return true;
  return s3Status(err) === 404 && code !== 'NoSuchBucket' && code !== 'NoSuchObjectLockConfiguration';
}

/** A conditional request (If-Match) found the object changed. */
export function isPreconditionFailed(err: unknown): boolean {
  return s3Status(err) === 412 || s3Code(err) === 'PreconditionFailed';
}

/** The Object Lock state a GetObject or HeadObject answer reports for its version. */
export function protectionOf(head: { ObjectLockLegalHoldStatus?: string; ObjectLockMode?: string; ObjectLockRetainUntilDate?: Date }): Protection | undefined {
  const legalHold = head.ObjectLockLegalHoldStatus === 'ON';
  const mode = head.ObjectLockMode;
  const retention =
    (mode === 'GOVERNANCE' || mode === 'COMPLIANCE') && head.ObjectLockRetainUntilDate
      ? { mode: mode as 'GOVERNANCE' | 'COMPLIANCE', retainUntil: new Date(head.ObjectLockRetainUntilDate).toISOString() }
      : undefined;
  if (!legalHold && !retention) return undefined;
  return retention ? { legalHold, retention } : { legalHold };
}

/** Why S3 will refuse to delete a version protected so at `now`; undefined if it will not. */
export function refusalFor(p: Protection | undefined, now: Date): RefusalReason | undefined {
  if (!p) return undefined;
  if (p.legalHold) return 'legal-hold';
  if (p.retention && new Date(p.retention.retainUntil).getTime() > now.getTime()) {
    return p.retention.mode === 'COMPLIANCE' ? 'object-lock-compliance' : 'object-lock-governance';
  }
  return undefined;
}

/** One version or delete marker, as a ListObjectVersions page gives it (two lists, merged). */
export interface VersionEntry {
  readonly key: string;
  /** `'null'` for the null version of an unversioned or suspended bucket. */
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly isLatest: boolean;
  readonly lastModified?: Date;
  /** Versions only (delete markers have no size or ETag). */
  readonly size: number;
  readonly etag?: string;
}

/** The versions and delete markers of one page, in one list (unsorted: S3 gives two). */
export function pageEntries(page: ListObjectVersionsCommandOutput): VersionEntry[] {
  return [
    ...(page.Versions ?? []).map((v) => ({
      key: v.Key ?? '',
      versionId: v.VersionId ?? 'null',
      deleteMarker: false,
      isLatest: v.IsLatest === true,
      lastModified: v.LastModified,
      size: v.Size ?? 0,
      etag: v.ETag,
    })),
    ...(page.DeleteMarkers ?? []).map((m) => ({
      key: m.Key ?? '',
      versionId: m.VersionId ?? 'null',
      deleteMarker: true,
      isLatest: m.IsLatest === true,
      lastModified: m.LastModified,
      size: 0,
    })),
  ];
}

/**
 * Every version and delete marker of exactly `key`, the latest first, then newest first (by
 * LastModified). Listing stops once past the key: later keys only share it as a prefix.
 */
export async function listKeyVersions(s3: S3Client, bucket: string, key: string): Promise<VersionEntry[]> {
  const entries: VersionEntry[] = [];
  for await (const page of versionPages((command) => s3.send(command), { Bucket: bucket, Prefix: key })) {
    for (const e of pageEntries(page)) if (e.key === key) entries.push(e);
    if (page.IsTruncated && page.NextKeyMarker !== undefined && page.NextKeyMarker !== key) break;
  }
  const time = (e: VersionEntry) => e.lastModified?.getTime() ?? 0;
  return entries.sort((a, b) => Number(b.isLatest) - Number(a.isLatest) || time(b) - time(a));
}

/**
 * `listKeyVersions` for many keys at once: one listing of the keys' common prefix from just
 * before the first key to the last, page by page, instead of one listing per key (a work unit's
 * keys are consecutive in listing order, so the pages hold little else). Every key given is in
 * the answer, with no entries when it has none.
 */
export async function listVersionsOfKeys(s3: S3Client, bucket: string, keys: readonly string[], pageSize?: number): Promise<Map<string, VersionEntry[]>> {
  const sorted = [...new Set(keys)].sort(compareText);
  const byKey = new Map<string, VersionEntry[]>(sorted.map((k) => [k, []]));
  if (sorted.length === 0) return byKey;
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  let prefix = first;
  while (!last.startsWith(prefix)) prefix = prefix.slice(0, -1);
  // S3 lists the keys after KeyMarker: the first key less its last character is before it, and
  // any key in between is not one of ours.
  const marker = first.slice(0, -1);
  const input = { Bucket: bucket, Prefix: prefix || undefined, ...(marker && marker.startsWith(prefix) ? { KeyMarker: marker } : {}), ...(pageSize ? { MaxKeys: pageSize } : {}) };
  for await (const page of versionPages((command) => s3.send(command), input)) {
    for (const e of pageEntries(page)) byKey.get(e.key)?.push(e);
    if (page.IsTruncated && page.NextKeyMarker !== undefined && page.NextKeyMarker > last) break;
  }
  const time = (e: VersionEntry) => e.lastModified?.getTime() ?? 0;
  for (const entries of byKey.values()) entries.sort((a, b) => Number(b.isLatest) - Number(a.isLatest) || time(b) - time(a));
  return byKey;
}

/** The `CopySource` of a version: bucket and key, each key segment URL-encoded. */
export function copySource(bucket: string, key: string, versionId: string | undefined): string {
  const path = `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return versionId ? `${path}?versionId=${encodeURIComponent(versionId)}` : path;
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
