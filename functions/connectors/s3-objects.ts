/**
 * The `s3-objects` connector: media files (recordings, voicemail, fax) kept per subject under a
 * key prefix. Discovery lists every version and delete marker under the subject's prefixes and
 * reads each version's Object Lock state; erasure deletes exactly the planned versions and
 * markers by version id and never bypasses governance retention; restriction tags versions;
 * export streams the latest version of each key.
 *
 * Logs and errors carry the store name, counts and finding ids: never a key or a value.
 */
import { DEFAULT_BACKOFF, type BackoffOptions } from '../core/backoff';
import type { S3ObjectsStore } from '../core/datamap';
import { findingId } from '../core/hash';
import { mapLimit } from '../core/map-limit';
import { compareText, refusalFor } from './s3-shared';
import { deleteVersions } from './s3-objects-delete';
import { headVersion, lastSegment, openVersion, UniqueNames } from './s3-objects-export';
import { readProtection, readTags, RESTRICTED_TAG, setRestricted, type LockState } from './s3-objects-protection';
import { checkFinding, groupActions, subjectPrefixes } from './s3-objects-scope';
import { GONE, listVersions, locatorOf, type ListedVersion, type ListStats } from './s3-objects-versions';
import type { Action, ApplyResult, Connector, ExportItem, Finding, RefusalReason, S3ObjectLocator } from './types';

export { RESTRICTED_TAG, TagLimitError } from './s3-objects-protection';
export { subjectPrefixes } from './s3-objects-scope';

export interface S3ObjectsConnectorOptions {
  /** MaxKeys per ListObjectVersions page; absent: S3's 1000. */
  readonly pageSize?: number;
  /** Requests in flight at once (protection and tag reads, tagging, HeadObject). */
  readonly concurrency?: number;
  /** Retries of DeleteObjects entries that failed with a transient error. */
  readonly backoff?: Partial<BackoffOptions>;
}

export function createS3ObjectsConnector(options: S3ObjectsConnectorOptions = {}): Connector<S3ObjectsStore> {
  const concurrency = options.concurrency ?? 8;
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };

  return {
    kind: 's3-objects',

    async discover(store, identity, ctx) {
      const { prefixes, skippedValues } = subjectPrefixes(store, identity);
      const stats: ListStats = { listRequests: 0, outsidePrefix: 0 };
      const listed: ListedVersion[] = [];
      for (const prefix of prefixes) listed.push(...(await listVersions(ctx.s3, store, prefix, options.pageSize, stats)));

      const lock: LockState = { unlocked: false };
      let vanished = 0;
      let protectionReads = 0;
      let tagReads = 0;
      const findings = await mapLimit(listed, concurrency, async (v): Promise<Finding | undefined> => {
        const locator = locatorOf(store, v);
        const base = { id: findingId(store.name, locator), store: store.name, role: 'owner' as const, locator, ...(v.lastModified ? { date: v.lastModified.toISOString() } : {}) };
        if (v.isDeleteMarker) return base;
        const lockKnownAbsent = lock.unlocked;
        const [protection, tags] = await Promise.all([readProtection(ctx.s3, store, v.key, v.versionId, lock), readTags(ctx.s3, store, v.key, v.versionId)]);
        protectionReads += lockKnownAbsent ? 0 : 2;
        tagReads++;
        if (protection === GONE || tags === GONE) {
          vanished++;
          return undefined;
        }
        const restricted = tags.some((t) => t.Key === RESTRICTED_TAG.Key && t.Value === RESTRICTED_TAG.Value);
        return { ...base, protection, ...(restricted ? { restricted: true } : {}) };
      });
      const result = findings.filter((f): f is Finding => f !== undefined);
      ctx.log('s3-objects.discover', {
        store: store.name,
        prefixes: prefixes.length,
        skippedValues,
        listRequests: stats.listRequests,
        outsidePrefix: stats.outsidePrefix,
        protectionReads,
        tagReads,
        versions: result.filter((f) => !(f.locator as S3ObjectLocator).isDeleteMarker).length,
        deleteMarkers: result.filter((f) => (f.locator as S3ObjectLocator).isDeleteMarker).length,
        protected: result.filter((f) => f.protection && refusalFor(f.protection, ctx.now) !== undefined).length,
        restricted: result.filter((f) => f.restricted).length,
        vanished,
        bucketWithoutObjectLock: lock.unlocked,
      });
      return result;
    },

    async apply(store, identity, actions, ctx) {
      const { prefixes } = subjectPrefixes(store, identity);
      const byAction = groupActions(store, prefixes, actions);
      const applied: Partial<Record<Action, number>> = {};
      const count = (action: Action, n: number): void => {
        if (n > 0) applied[action] = (applied[action] ?? 0) + n;
      };
      const refused: Array<{ findingId: string; reason: RefusalReason }> = [];
      const missing: string[] = [];
      const appeared: string[] = [];
      count('keep', byAction.keep.length);

      if (byAction.delete.length > 0) {
        const out = await deleteVersions(ctx, store, prefixes, byAction.delete, options.pageSize, backoff);
        count('delete', out.deleted);
        refused.push(...out.refused);
        missing.push(...out.missing);
        appeared.push(...out.appeared);
      }
      for (const action of ['restrict', 'unrestrict'] as const) {
        const findings = byAction[action];
        const outcomes = await mapLimit(findings, concurrency, (f) => setRestricted(ctx.s3, store, f, action === 'restrict'));
        findings.forEach((f, i) => {
          if (outcomes[i] === GONE) missing.push(f.id);
        });
        count(action, outcomes.filter((o) => o !== GONE).length);
      }

      ctx.log('s3-objects.apply', {
        store: store.name,
        ...Object.fromEntries(Object.entries(applied).map(([a, n]) => [`applied.${a}`, n])),
        refused: refused.length,
        missing: missing.length,
        appeared: appeared.length,
      });
      return { applied, refused, missing, ...(appeared.length > 0 ? { appeared } : {}) } satisfies ApplyResult;
    },

    async *export(store, identity, findings, ctx): AsyncIterable<ExportItem> {
      const { prefixes } = subjectPrefixes(store, identity);
      for (const f of findings) checkFinding(store, prefixes, f);
      const latest = findings
        .filter((f) => {
          const l = f.locator as S3ObjectLocator;
          return l.isLatest && !l.isDeleteMarker;
        })
        .sort((a, b) => compareText((a.locator as S3ObjectLocator).key, (b.locator as S3ObjectLocator).key));
      const heads = await mapLimit(latest, concurrency, (f) => headVersion(ctx.s3, store, f.locator as S3ObjectLocator));
      const names = new UniqueNames();
      let files = 0;
      let gone = 0;
      for (const [i, f] of latest.entries()) {
        const head = heads[i];
        if (head === GONE) {
          gone++;
          yield { type: 'missing', findingId: f.id, reason: 'version-gone' };
          continue;
        }
        const locator = f.locator as S3ObjectLocator;
        files++;
        yield {
          type: 'file',
          findingId: f.id,
          name: names.take(lastSegment(locator.key)),
          size: head.size,
          ...(head.contentType ? { contentType: head.contentType } : {}),
          open: () => openVersion(ctx.s3, store, locator),
        };
      }
      ctx.log('s3-objects.export', { store: store.name, files, missing: gone, notLatest: findings.length - latest.length });
    },
  };
}

/** The connector with default options. */
export const s3ObjectsConnector: Connector<S3ObjectsStore> = createS3ObjectsConnector();

