/**
 * Object Lock and restriction tags of one version: what protects it (legal hold, retention)
 * and the `dsr-restricted` tag that restriction sets and lifts.
 */
import { GetObjectLegalHoldCommand, GetObjectRetentionCommand, GetObjectTaggingCommand, PutObjectTaggingCommand, type S3Client, type Tag } from '@aws-sdk/client-s3';
import type { S3ObjectsStore } from '../core/datamap';
import { DsrError, StoreUnavailableError } from '../core/errors';
import { isGone } from './s3-shared';
import { errorName, GONE, versionParam } from './s3-objects-versions';
import type { Finding, Protection, S3ObjectLocator } from './types';

/** The object tag that marks a version restricted (S3 allows tags on locked versions). */
export const RESTRICTED_TAG: Readonly<Tag> = { Key: 'dsr-restricted', Value: 'true' };

/** S3 allows at most 10 tags per object version. */
export const MAX_TAGS = 10;

/** A version cannot take the restriction tag: it already has S3's maximum of 10 tags. */
export class TagLimitError extends DsrError {
  constructor(store: string, findingIdValue: string) {
    super(`store ${store}: finding ${findingIdValue} already has ${MAX_TAGS} tags; the restriction tag cannot be added`, { store, findingId: findingIdValue });
    this.name = 'TagLimitExceeded';
  }
}

/** Per discovery or apply: once a bucket says it has no Object Lock, no more lock reads. */
export interface LockState {
  unlocked: boolean;
}

/**
 * A version's legal hold and retention. "No configuration" answers mean unprotected:
 * NoSuchObjectLockConfiguration (this version has none), and InvalidRequest "Bucket is missing
 * Object Lock Configuration" (the bucket has no Object Lock: nothing there can be locked).
 */
export async function readProtection(s3: S3Client, store: S3ObjectsStore, key: string, versionId: string | null, lock: LockState): Promise<Protection | typeof GONE> {
  if (lock.unlocked) return { legalHold: false };
  const params = { Bucket: store.bucket, Key: key, VersionId: versionParam(versionId) };
  const read = async <T>(operation: string, send: () => Promise<T>): Promise<T | undefined | typeof GONE> => {
    try {
      return await send();
    } catch (err) {
      const name = errorName(err);
      if (name === 'NoSuchObjectLockConfiguration') return undefined;
      if (name === 'InvalidRequest' && /object lock/i.test((err as Error).message ?? '')) {
        lock.unlocked = true;
        return undefined;
      }
      if (isGone(err)) return GONE;
      throw new StoreUnavailableError(store.name, `${operation} failed (${name})`, { cause: err });
    }
  };
  const [hold, retention] = await Promise.all([
    read('GetObjectLegalHold', () => s3.send(new GetObjectLegalHoldCommand(params))),
    read('GetObjectRetention', () => s3.send(new GetObjectRetentionCommand(params))),
  ]);
  if (hold === GONE || retention === GONE) return GONE;
  const mode = retention?.Retention?.Mode;
  const until = retention?.Retention?.RetainUntilDate;
  return {
    legalHold: hold?.LegalHold?.Status === 'ON',
    ...(mode && until ? { retention: { mode, retainUntil: new Date(until).toISOString() } } : {}),
  };
}

export async function readTags(s3: S3Client, store: S3ObjectsStore, key: string, versionId: string | null): Promise<Tag[] | typeof GONE> {
  try {
    const out = await s3.send(new GetObjectTaggingCommand({ Bucket: store.bucket, Key: key, VersionId: versionParam(versionId) }));
    return out.TagSet ?? [];
  } catch (err) {
    if (isGone(err)) return GONE;
    throw new StoreUnavailableError(store.name, `GetObjectTagging failed (${errorName(err)})`, { cause: err });
  }
}

export async function setRestricted(s3: S3Client, store: S3ObjectsStore, f: Finding, restrict: boolean): Promise<'ok' | typeof GONE> {
  const l = f.locator as S3ObjectLocator;
  // A delete marker has no tags and no content: nothing to restrict.
  if (l.isDeleteMarker) return 'ok';
  const tags = await readTags(s3, store, l.key, l.versionId);
  if (tags === GONE) return GONE;
  const others = tags.filter((t) => t.Key !== RESTRICTED_TAG.Key);
  const has = tags.some((t) => t.Key === RESTRICTED_TAG.Key && t.Value === RESTRICTED_TAG.Value);
  if (restrict ? has : !tags.some((t) => t.Key === RESTRICTED_TAG.Key)) return 'ok';
  if (restrict && others.length >= MAX_TAGS) throw new TagLimitError(store.name, f.id);
  const TagSet = restrict ? [...others, { ...RESTRICTED_TAG }] : others;
  try {
    await s3.send(new PutObjectTaggingCommand({ Bucket: store.bucket, Key: l.key, VersionId: versionParam(l.versionId), Tagging: { TagSet } }));
  } catch (err) {
    if (isGone(err)) return GONE;
    throw new StoreUnavailableError(store.name, `PutObjectTagging failed (${errorName(err)})`, { cause: err });
  }
  return 'ok';
}
