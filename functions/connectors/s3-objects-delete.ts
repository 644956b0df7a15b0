/** Erasure in an `s3-objects` store: the planned versions and markers deleted by version id, verified by listing. */
import { DeleteObjectsCommand, type ObjectIdentifier } from '@aws-sdk/client-s3';
import { backoffDelay, sleep, type BackoffOptions } from '../core/backoff';
import type { S3ObjectsStore } from '../core/datamap';
import { StoreUnavailableError, VerificationFailedError } from '../core/errors';
import { findingId } from '../core/hash';
import { refusalFor } from './s3-shared';
import { readProtection, type LockState } from './s3-objects-protection';
import { call, GONE, listVersions, locatorOf, versionKey, versionOf, versionParam, type ListedVersion, type ListStats } from './s3-objects-versions';
import type { ConnectorContext, Finding, RefusalReason, S3ObjectLocator } from './types';

/** DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH = 1000;

export interface DeleteOutcome {
  deleted: number;
  refused: Array<{ findingId: string; reason: RefusalReason }>;
  missing: string[];
  appeared: string[];
}

/**
 * Deletes the planned versions and delete markers by version id (DeleteObjects, never the
 * bypass-governance header). Versions discovery saw protected are refused without a request;
 * a version S3 denies is re-read and refused with its protection. The keys are listed before
 * (what is gone is missing) and after (what is new appeared meanwhile and is reported).
 */
export async function deleteVersions(
  ctx: ConnectorContext,
  store: S3ObjectsStore,
  prefixes: readonly string[],
  findings: readonly Finding[],
  pageSize: number | undefined,
  backoff: BackoffOptions,
): Promise<DeleteOutcome> {
  const outcome: DeleteOutcome = { deleted: 0, refused: [], missing: [], appeared: [] };
  const stats: ListStats = { listRequests: 0, outsidePrefix: 0 };
  const keys = new Set(findings.map((f) => (f.locator as S3ObjectLocator).key));
  const touched = prefixes.filter((p) => [...keys].some((k) => k.startsWith(p)));
  const listKeys = async (): Promise<ListedVersion[]> => {
    const all: ListedVersion[] = [];
    for (const p of touched) all.push(...(await listVersions(ctx.s3, store, p, pageSize, stats)));
    return all.filter((v) => keys.has(v.key));
  };

  const listedBefore = await listKeys();
  const before = new Set(listedBefore.map((v) => versionKey(v.key, v.versionId)));
  let toDelete: Finding[] = [];
  for (const f of findings) {
    const l = f.locator as S3ObjectLocator;
    const reason = !l.isDeleteMarker && f.protection ? refusalFor(f.protection, ctx.now) : undefined;
    if (!before.has(versionKey(l.key, l.versionId))) outcome.missing.push(f.id);
    else if (reason) outcome.refused.push({ findingId: f.id, reason });
    else toDelete.push(f);
  }
  const hiding = markersHidingKeptVersions(listedBefore, toDelete);
  if (hiding.size > 0) {
    toDelete = toDelete.filter((f) => !hiding.has(f.id));
    for (const id of hiding) outcome.refused.push({ findingId: id, reason: 'marker-hides-kept-version' });
  }

  const byVersion = new Map(toDelete.map((f) => [versionKey((f.locator as S3ObjectLocator).key, (f.locator as S3ObjectLocator).versionId), f]));
  const denied: Finding[] = [];
  for (let i = 0; i < toDelete.length; i += DELETE_BATCH) {
    let pending: ObjectIdentifier[] = toDelete.slice(i, i + DELETE_BATCH).map((f) => {
      const l = f.locator as S3ObjectLocator;
      return { Key: l.key, VersionId: versionParam(l.versionId) };
    });
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > backoff.maxAttempts) throw new StoreUnavailableError(store.name, `DeleteObjects: ${pending.length} version(s) still failing after ${backoff.maxAttempts} attempts`);
      if (attempt > 1) await sleep(backoffDelay(attempt - 1, backoff));
      const batch = pending;
      const out = await call(store, 'DeleteObjects', () => ctx.s3.send(new DeleteObjectsCommand({ Bucket: store.bucket, Delete: { Objects: batch, Quiet: true } })));
      pending = [];
      for (const e of out.Errors ?? []) {
        const f = byVersion.get(versionKey(e.Key ?? '', versionOf(e.VersionId)));
        if (!f) throw new StoreUnavailableError(store.name, `DeleteObjects reported an error (${e.Code}) for a version it was not asked to delete`);
        if (e.Code === 'AccessDenied') denied.push(f);
        else if (isTransient(e.Code)) pending.push({ Key: e.Key, VersionId: e.VersionId });
        else throw new StoreUnavailableError(store.name, `DeleteObjects failed for finding ${f.id} (${e.Code})`);
      }
    }
  }

  // Denied: S3 knows a protection discovery did not see (placed since). Re-read and report it.
  const lock: LockState = { unlocked: false };
  const deniedIds = new Set<string>();
  for (const f of denied) {
    const l = f.locator as S3ObjectLocator;
    const protection = await readProtection(ctx.s3, store, l.key, l.versionId, lock);
    if (protection === GONE) {
      outcome.missing.push(f.id);
      deniedIds.add(f.id);
      continue;
    }
    // S3 decides with its own clock: any protection it reports is what denied the delete.
    const reason = refusalFor(protection, new Date(0));
    if (!reason) throw new StoreUnavailableError(store.name, `DeleteObjects: access denied for finding ${f.id}, which has no Object Lock protection (check permissions)`);
    outcome.refused.push({ findingId: f.id, reason });
    deniedIds.add(f.id);
  }
  outcome.deleted = toDelete.length - deniedIds.size;

  // After: every deleted version must be gone; anything new under these keys is reported.
  const after = await listKeys();
  const deleted = new Set(toDelete.filter((f) => !deniedIds.has(f.id)).map((f) => versionKey((f.locator as S3ObjectLocator).key, (f.locator as S3ObjectLocator).versionId)));
  const survivors = after.filter((v) => deleted.has(versionKey(v.key, v.versionId)));
  if (survivors.length > 0) {
    throw new VerificationFailedError(`store ${store.name}: ${survivors.length} deleted version(s) still listed after DeleteObjects`, { store: store.name, count: survivors.length });
  }
  for (const v of after) {
    if (!before.has(versionKey(v.key, v.versionId))) outcome.appeared.push(findingId(store.name, locatorOf(store, v)));
  }
  return outcome;
}

/**
 * The planned delete markers that are the latest entry of a key some version of which stays (held,
 * retained, or not in the plan): deleting such a marker would make the kept version the current
 * object again, served to every reader, though its owner deleted it. They stay, and are reported.
 */
function markersHidingKeptVersions(listed: readonly ListedVersion[], toDelete: readonly Finding[]): Set<string> {
  const deleting = new Map(toDelete.map((f) => [versionKey((f.locator as S3ObjectLocator).key, (f.locator as S3ObjectLocator).versionId), f.id]));
  const keysKeepingAVersion = new Set(listed.filter((v) => !v.isDeleteMarker && !deleting.has(versionKey(v.key, v.versionId))).map((v) => v.key));
  const out = new Set<string>();
  for (const v of listed) {
    if (!v.isDeleteMarker || !v.isLatest || !keysKeepingAVersion.has(v.key)) continue;
    const id = deleting.get(versionKey(v.key, v.versionId));
    if (id !== undefined) out.add(id);
  }
  return out;
}

function isTransient(code: string | undefined): boolean {
  return code === 'InternalError' || code === 'SlowDown' || code === 'ServiceUnavailable' || code === 'RequestTimeout';
}
