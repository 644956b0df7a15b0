/**
 * Deleting versions of a log object. After a rewrite, every older version and delete marker of
 * the key still holds the erased records, so they go too, except those S3 Object Lock protects:
 * refused, never bypassed, reported. A noncurrent version holding records to erase cannot be
 * rewritten: it is deleted whole, and only when every matched record in it is planned to go.
 */
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3RecordsStore } from '../core/datamap';
import { VerificationFailedError } from '../core/errors';
import type { RecordMatcher } from '../core/matching';
import { keyHash, unavailable } from './s3-records-common';
import { readObject } from './s3-records-read';
import type { MatchedRecord } from './s3-records-stream';
import { isGone, listKeyVersions, protectionOf, refusalFor, s3Status } from './s3-shared';
import type { ConnectorContext, Protection, RefusalReason } from './types';

/** Deletes every version and delete marker of `key` older than `keepVersionId`; protected ones are refused. */
export async function deleteOlderVersions(
  store: S3RecordsStore,
  key: string,
  keepVersionId: string | undefined,
  ctx: ConnectorContext,
): Promise<{ deleted: number; refused?: RefusalReason }> {
  const entries = await listKeyVersions(ctx.s3, store.bucket, key);
  // An unversioned bucket: the copy replaced the only version.
  if ((keepVersionId === undefined || keepVersionId === 'null') && entries.every((e) => e.versionId === 'null')) return { deleted: 0 };
  const ours = entries.find((e) => e.versionId === (keepVersionId ?? 'null'));
  if (!ours) throw new VerificationFailedError('the new version is not listed', { keyHash: keyHash(store.bucket, key) });
  const time = (e: { lastModified?: Date }) => e.lastModified?.getTime() ?? 0;
  let deleted = 0;
  let refused: RefusalReason | undefined;
  for (const e of entries) {
    // Keep ours, and anything written after it by someone else.
    if (e === ours || time(e) > time(ours) || (e.isLatest && !ours.isLatest)) continue;
    if (!e.deleteMarker) {
      let reason: RefusalReason | undefined;
      try {
        const head = await ctx.s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key, VersionId: e.versionId }));
        reason = refusalFor(protectionOf(head), ctx.now);
      } catch (err) {
        if (isGone(err)) continue;
        throw unavailable(store, 'HeadObject', err);
      }
      if (reason) {
        refused ??= reason;
        ctx.log('s3-records.version-refused', { store: store.name, keyHash: keyHash(store.bucket, key), reason });
        continue;
      }
    }
    try {
      await ctx.s3.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key, VersionId: e.versionId }));
      deleted++;
    } catch (err) {
      if (s3Status(err) === 403) {
        // S3 refused (Object Lock applied between the check and the delete): never bypassed.
        refused ??= 'object-lock-governance';
        continue;
      }
      if (isGone(err)) continue;
      throw unavailable(store, 'DeleteObject', err);
    }
  }
  return { deleted, refused };
}

/**
 * Which records of a noncurrent version may go: `all` for a batch erasure of every record of
 * the subjects (the retention sweep), else a test of each matched record (planned to go for
 * every subject it matches).
 */
export type VersionPlan = 'all' | ((r: MatchedRecord) => boolean);

/**
 * Erases from a noncurrent version, which cannot be rewritten: the version is deleted whole, and
 * only when every matched record in it is planned to go. Everyone else's records in it are old
 * copies: the current version, if any, keeps them.
 */
export async function eraseNoncurrentVersion(
  store: S3RecordsStore,
  key: string,
  versionId: string,
  planned: VersionPlan,
  matcher: RecordMatcher,
  ctx: ConnectorContext,
): Promise<{ status: 'deleted' | 'gone' } | { status: 'refused'; reason: RefusalReason }> {
  const kh = keyHash(store.bucket, key);
  let protection: Protection | undefined;
  if (planned === 'all') {
    // Every record of the subjects goes: whether S3 lets the version go is all there is to ask.
    try {
      protection = protectionOf(await ctx.s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key, VersionId: versionId })));
    } catch (err) {
      if (isGone(err)) return { status: 'gone' };
      throw unavailable(store, 'HeadObject', err);
    }
  } else {
    let uncovered = false;
    const read = await readObject(
      store,
      key,
      matcher,
      (r) => {
        if (r.matches.size > 0 && !planned(r)) uncovered = true;
      },
      ctx,
      versionId,
    );
    if (read === 'missing') return { status: 'gone' };
    if (uncovered) {
      ctx.log('s3-records.version-refused', { store: store.name, keyHash: kh, reason: 'version-holds-retained-records' });
      return { status: 'refused', reason: 'version-holds-retained-records' };
    }
    protection = read.protection;
  }
  const protectedBy = refusalFor(protection, ctx.now);
  if (protectedBy) {
    ctx.log('s3-records.version-refused', { store: store.name, keyHash: kh, reason: protectedBy });
    return { status: 'refused', reason: protectedBy };
  }
  try {
    await ctx.s3.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key, VersionId: versionId }));
  } catch (err) {
    // S3 refused (Object Lock applied since the read): never bypassed.
    if (s3Status(err) === 403) return { status: 'refused', reason: 'object-lock-governance' };
    if (isGone(err)) return { status: 'gone' };
    throw unavailable(store, 'DeleteObject', err);
  }
  ctx.log('s3-records.version-deleted', { store: store.name, keyHash: kh });
  return { status: 'deleted' };
}
