import { errors } from './errors';
import { httpDate } from './xml';
import { newVersionId, NULL_VERSION, type ObjectVersion, type Segment } from './model';
import type { Bucket, Store } from './store';

/**
 * S3's versioning state machine. Every function here inspects and mutates in-memory state
 * synchronously, so conditional checks and the change they guard cannot interleave with another
 * request; the returned promise only covers writing the result to disk.
 */

const VERSION_ID = /^[A-Za-z0-9._\-+/=]{1,1024}$/;

export function checkVersionId(versionId: string): void {
  if (versionId !== NULL_VERSION && !VERSION_ID.test(versionId)) {
    throw errors.invalidArgument('Invalid version id specified', 'versionId', versionId);
  }
}

/** x-amz-version-id is only reported once a bucket has had versioning configured. */
export function versionHeader(b: Bucket, v: { versionId: string }): Record<string, string> {
  return b.meta.versioning ? { 'x-amz-version-id': v.versionId } : {};
}

/**
 * x-amz-version-id on the answer to a write (PutObject, CopyObject, CompleteMultipartUpload):
 * S3 sends it only for a real version id, not for the null version a suspended bucket writes.
 * Reads of a null version in a bucket that has had versioning do report "null".
 */
export function writtenVersionHeader(b: Bucket, v: { versionId: string }): Record<string, string> {
  return v.versionId === NULL_VERSION ? {} : versionHeader(b, v);
}

/** The current version of a key, or NoSuchKey (flagged when the current version is a delete marker). */
export function currentVersion(b: Bucket, key: string): ObjectVersion {
  const v = b.keys.get(key)?.versions[0];
  if (!v) throw errors.noSuchKey(key);
  if (v.deleteMarker) {
    throw errors.noSuchKey(key, { 'x-amz-delete-marker': 'true', ...versionHeader(b, v) });
  }
  return v;
}

/** A specific version, or the current one; a delete marker cannot be read (405, as S3). */
export function resolveVersion(b: Bucket, key: string, versionId: string | undefined): ObjectVersion {
  if (versionId === undefined) return currentVersion(b, key);
  checkVersionId(versionId);
  const v = b.keys.get(key)?.versions.find((x) => x.versionId === versionId);
  if (!v) throw errors.noSuchVersion(key, versionId);
  if (v.deleteMarker) {
    throw errors.methodNotAllowed({
      'x-amz-delete-marker': 'true',
      'x-amz-version-id': v.versionId,
      'last-modified': httpDate(v.lastModified),
      allow: 'DELETE',
    });
  }
  return v;
}

/** Whether Object Lock forbids removing this version (a legal hold, or retention not yet over). */
export function lockBlocks(v: ObjectVersion, bypassGovernance: boolean, now = Date.now()): boolean {
  if (v.deleteMarker) return false;
  if (v.legalHold) return true;
  if (!v.retention || v.retention.until <= now) return false;
  return v.retention.mode === 'COMPLIANCE' || !bypassGovernance;
}

export interface Written {
  version: ObjectVersion;
  saved: Promise<void>;
}

/**
 * Makes `v` the current version of `key`. With versioning enabled it gets a fresh id; otherwise
 * it is the "null" version and replaces any earlier null version (whose bytes are freed).
 */
export function addVersion(store: Store, b: Bucket, key: string, v: ObjectVersion): Written {
  const entry = store.entryFor(b, key);
  let freed: Segment[] = [];
  if (b.meta.versioning === 'Enabled') {
    v.versionId = newVersionId();
  } else {
    v.versionId = NULL_VERSION;
    const i = entry.versions.findIndex((x) => x.versionId === NULL_VERSION);
    if (i !== -1) freed = entry.versions.splice(i, 1)[0].segments;
  }
  entry.versions.unshift(v);
  const saved = store.saveKey(b, key).then(() => store.removeBlobs(b, freed));
  return { version: v, saved };
}

export interface DeleteOutcome {
  versionId?: string;
  deleteMarker: boolean;
  saved: Promise<void>;
}

function marker(lastModified: number): ObjectVersion {
  return { versionId: '', deleteMarker: true, lastModified, etag: '', size: 0, segments: [], headers: {}, tags: [] };
}

/** DELETE without a version id: a delete marker when versioned, removal of the null version otherwise. */
export function deleteCurrent(store: Store, b: Bucket, key: string): DeleteOutcome {
  if (!b.meta.versioning) {
    const entry = b.keys.get(key);
    const removed = entry?.versions.splice(0) ?? [];
    if (!entry) return { deleteMarker: false, saved: Promise.resolve() };
    const saved = store.saveKey(b, key).then(() => store.removeBlobs(b, removed.flatMap((r) => r.segments)));
    return { deleteMarker: false, saved };
  }
  const { version, saved } = addVersion(store, b, key, marker(Date.now()));
  return { versionId: version.versionId, deleteMarker: true, saved };
}

/** DELETE with a version id: removes exactly that version, unless Object Lock protects it. */
export function deleteVersion(store: Store, b: Bucket, key: string, versionId: string, bypass: boolean): DeleteOutcome {
  checkVersionId(versionId);
  const entry = b.keys.get(key);
  const i = entry ? entry.versions.findIndex((x) => x.versionId === versionId) : -1;
  // Deleting a version that does not exist succeeds, as on S3.
  if (!entry || i === -1) return { versionId, deleteMarker: false, saved: Promise.resolve() };
  const v = entry.versions[i];
  if (lockBlocks(v, bypass)) throw errors.objectLocked();
  entry.versions.splice(i, 1);
  const saved = store.saveKey(b, key).then(() => store.removeBlobs(b, v.segments));
  return { versionId, deleteMarker: v.deleteMarker, saved };
}

export function deleteHeaders(b: Bucket, out: DeleteOutcome): Record<string, string> {
  const h: Record<string, string> = {};
  if (out.deleteMarker) h['x-amz-delete-marker'] = 'true';
  if (out.versionId !== undefined && b.meta.versioning) h['x-amz-version-id'] = out.versionId;
  return h;
}
