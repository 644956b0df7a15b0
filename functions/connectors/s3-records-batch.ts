/**
 * The batched log pass (BatchConnector): a work unit is a list of keys of one store, and every
 * queued subject is discovered in it with one read of each object version, then erased with at
 * most one rewrite per object. Per subject the outcome is what `apply` would report for that
 * subject alone; the objects are left as applying the plans one after another leaves them when
 * the plans do not disagree over a record (see applyMany for when they do).
 */
import type { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { versionPages } from '../aws/s3-version-pages';
import type { S3RecordsStore } from '../core/datamap';
import { DataMapError } from '../core/errors';
import { byFingerprint, groupActions, redactionFor } from './s3-records-apply';
import { checkStore, fieldSpecs, forEachLimit, keyHash, unavailable, type S3RecordsSettings } from './s3-records-common';
import { malformedDecision } from './s3-records-malformed';
import { isScannedKey, scanFindings, type ObjectRead } from './s3-records-read';
import { applyRedaction, redactionOf, redactionToken } from './s3-records-redact';
import { rewriteObject } from './s3-records-rewrite';
import { removeStaleStaging, type Rewriter } from './s3-records-stage';
import { eraseNoncurrentVersion } from './s3-records-versions';
import { compareText, listVersionsOfKeys, pageEntries } from './s3-shared';
import type { Action, ApplyResult, BatchApplyResult, ConnectorContext, Finding, Identity, ListedKey, ObjectOutcome, PlannedAction, RefusalReason, SubjectWork } from './types';
import { recordMatcherFor } from '../core/matcher-cache';
import type { RecordMatcher } from '../core/matching';
import type { RetainedScan } from './s3-records-replay';

/**
 * The store's keys in listing order, each with its versions (delete markers included) and the
 * stored bytes of all its versions. Page by page: a key's entries may run over a page break, so
 * the last key of a truncated page waits for the next page. Keys with no version to read (only
 * delete markers) are left out, as are the connector's staged bodies.
 */
export async function* listKeys(opt: S3RecordsSettings, store: S3RecordsStore, ctx: ConnectorContext): AsyncIterable<ListedKey> {
  checkStore(store);
  const send = (command: ListObjectVersionsCommand) =>
    ctx.s3.send(command).catch((err: unknown) => {
      throw unavailable(store, 'ListObjectVersions', err);
    });
  const input = { Bucket: store.bucket, Prefix: store.prefix || undefined, ...(opt.pageSize ? { MaxKeys: opt.pageSize } : {}) };
  let pending = new Map<string, { versions: number; storedBytes: number; readable: boolean }>();
  const ready = function* (upTo: string | undefined): Generator<ListedKey> {
    const keys = [...pending.keys()].sort(compareText);
    const left = new Map<string, { versions: number; storedBytes: number; readable: boolean }>();
    for (const key of keys) {
      const k = pending.get(key) as { versions: number; storedBytes: number; readable: boolean };
      if (upTo !== undefined && key >= upTo) left.set(key, k);
      else if (k.readable) yield { key, versions: k.versions, storedBytes: k.storedBytes };
    }
    pending = left;
  };
  for await (const page of versionPages(send, input)) {
    for (const e of pageEntries(page)) {
      if (!e.key || !isScannedKey(opt, e.key) || !e.key.startsWith(store.prefix)) continue;
      const k = pending.get(e.key) ?? { versions: 0, storedBytes: 0, readable: false };
      k.versions++;
      k.storedBytes += e.size;
      if (!e.deleteMarker) k.readable = true;
      pending.set(e.key, k);
    }
    yield* ready(page.IsTruncated ? page.NextKeyMarker : undefined);
  }
  yield* ready(undefined);
}

/** The versions to read of the given keys: the current one, then every noncurrent version, with their stored sizes. */
export async function readsOf(opt: S3RecordsSettings, store: S3RecordsStore, keys: readonly string[], ctx: ConnectorContext): Promise<Array<ObjectRead & { storedBytes: number }>> {
  const unique = [...new Set(keys)].sort(compareText);
  for (const key of unique) {
    if (!key.startsWith(store.prefix) || !isScannedKey(opt, key)) throw new DataMapError(`a work unit of store ${store.name} names a key that is not one of its log objects`, { keyHash: keyHash(store.bucket, key) });
  }
  let listed;
  try {
    listed = await listVersionsOfKeys(ctx.s3, store.bucket, unique, opt.pageSize);
  } catch (err) {
    throw unavailable(store, 'ListObjectVersions', err);
  }
  const byKey = new Map<string, Array<ObjectRead & { storedBytes: number }>>();
  for (const [key, entries] of listed) {
    const versions = entries.filter((e) => !e.deleteMarker);
    byKey.set(key, [
      ...versions.filter((e) => e.isLatest).map((e) => ({ key, storedBytes: e.size })),
      ...versions.filter((e) => !e.isLatest).map((e) => ({ key, versionId: e.versionId, storedBytes: e.size })),
    ]);
  }
  return unique.flatMap((key) => byKey.get(key) ?? []);
}

/** Every subject's findings in the given keys: exactly what `discover` finds for it there. */
export async function discoverMany(
  opt: S3RecordsSettings,
  store: S3RecordsStore,
  subjects: ReadonlyMap<string, Identity>,
  keys: readonly string[],
  ctx: ConnectorContext,
): Promise<Map<string, Finding[]>> {
  checkStore(store);
  const { findings } = await scanFindings(opt, store, subjects, (c) => readsOf(opt, store, keys, c), ctx);
  return new Map([...subjects.keys()].map((ref) => [ref, findings.get(ref) ?? []]));
}

/** One subject's result as it is built up. */
interface Tally {
  readonly applied: Partial<Record<Action, number>>;
  readonly refused: Array<{ findingId: string; reason: RefusalReason }>;
  readonly missing: string[];
  malformedKept: number;
}

function count(t: Tally, a: Action): void {
  t.applied[a] = (t.applied[a] ?? 0) + 1;
}

/**
 * Every subject's plan at once, one rewrite per key. Per record, the subjects that planned it
 * and still match it decide together: removed if any of them deletes it (delete-record stores);
 * otherwise the store's fields anonymized if any asks, and the mentions of every subject that
 * asks redacted, in one edit. Applying the plans one after another leaves the same bytes when
 * no record is planned by two subjects with different actions; when it is, the sequence leaves
 * whatever the first subject's action made of it and reports the others "missing" (the record
 * no longer has the fingerprint they planned), so a later subject's mention may stay readable:
 * the batch redacts them all. A noncurrent version is deleted whole only when every matched
 * record in it, of every subject of the batch, is planned to go; else every planned finding in
 * it is refused `version-holds-retained-records`.
 */
export function applyMany(opt: S3RecordsSettings, store: S3RecordsStore, work: ReadonlyMap<string, SubjectWork>, ctx: ConnectorContext): Promise<BatchApplyResult> {
  checkStore(store);
  const matcher = recordMatcherFor(fieldSpecs(store), new Map([...work].map(([ref, w]) => [ref, w.identity])), store.format, store.identifiers);
  return applyWork(opt, store, work, matcher, ctx);
}

/**
 * applyMany's work with a given matcher (of the work's subjects, or of more: a round of the
 * pass uses its scan's, so no subject set is compiled twice), and, per key, what the scan kept
 * of the version it read, for the rewrite to use instead of reading it again.
 */
export async function applyWork(
  opt: S3RecordsSettings,
  store: S3RecordsStore,
  work: ReadonlyMap<string, SubjectWork>,
  matcher: RecordMatcher,
  ctx: ConnectorContext,
  kept: ReadonlyMap<string, RetainedScan> = new Map(),
  staleStagingRemoved = false,
): Promise<BatchApplyResult> {
  const tallies = new Map<string, Tally>();
  const perKey = new Map<string, Map<string, { etag: string; fingerprints: Map<string, PlannedAction[]> }>>();
  const perVersion = new Map<string, { key: string; versionId: string; refs: Map<string, PlannedAction[]> }>();
  for (const [ref, { actions }] of work) {
    const t: Tally = { applied: {}, refused: [], missing: [], malformedKept: 0 };
    tallies.set(ref, t);
    const grouped = groupActions(store, actions);
    for (const a of grouped.counted) count(t, a);
    for (const [key, { etag, planned }] of grouped.byKey) {
      const plans = perKey.get(key) ?? new Map();
      plans.set(ref, { etag, fingerprints: byFingerprint(planned) });
      perKey.set(key, plans);
    }
    for (const [id, { key, versionId, planned }] of grouped.byVersion) {
      const v = perVersion.get(id) ?? { key, versionId, refs: new Map<string, PlannedAction[]>() };
      v.refs.set(ref, planned);
      perVersion.set(id, v);
    }
  }
  const outcomes = new Map<string, ObjectOutcome>();
  if (perKey.size > 0 && !staleStagingRemoved) await removeStaleStaging(opt, store, ctx);

  await forEachLimit([...perKey.keys()].sort(compareText), opt.concurrency, async (key) => {
    const plans = perKey.get(key) as Map<string, { etag: string; fingerprints: Map<string, PlannedAction[]> }>;
    let seen = new Map<string, Set<string>>();
    let reported = new Map<string, Set<string>>();
    // Per subject, the malformed records its own decision redacted: what `apply` alone counts.
    let malformedRedacted = new Map<string, number>();
    const mark = (m: Map<string, Set<string>>, ref: string, fp: string) => m.set(ref, (m.get(ref) ?? new Set()).add(fp));
    const rewriter: () => { rewriter: Rewriter; removed: Set<string> } = () => {
      seen = new Map();
      reported = new Map();
      malformedRedacted = new Map();
      const removed = new Set<string>();
      const decide: Rewriter = (r) => {
        // Recognised by fingerprint AND still the subject's (re-matched just now), per subject.
        const who: Array<{ ref: string; action: Action }> = [];
        for (const [ref, plan] of plans) {
          const pas = plan.fingerprints.get(r.fingerprint);
          if (!pas || !r.matches.has(ref)) continue;
          who.push({ ref, action: pas[0].action });
          mark(seen, ref, r.fingerprint);
        }
        if (who.length === 0) return { kind: 'keep' };
        if (r.malformed) {
          const d = malformedDecision(store.malformed, r, new Set(who.map((w) => w.ref)), redactionToken(ctx));
          for (const w of who) {
            if (d.kind === 'keep') mark(reported, w.ref, r.fingerprint);
            else malformedRedacted.set(w.ref, (malformedRedacted.get(w.ref) ?? 0) + 1);
          }
          if (d.kind !== 'keep') removed.add(r.fingerprint);
          return d;
        }
        if (store.erase.mode === 'delete-record' && who.some((w) => w.action === 'delete')) {
          removed.add(r.fingerprint);
          return { kind: 'remove' };
        }
        // Each subject's redaction as `apply` makes it, united: one edit of the record.
        const parts = who.map((w) => redactionOf(store, redactionFor(store, w.action), new Set([w.ref])));
        const redaction = { storeFields: parts.some((p) => p.storeFields), mentions: new Set(parts.flatMap((p) => [...p.mentions])) };
        const bytes = applyRedaction(store, r, redaction, matcher, ctx);
        if (bytes.equals(r.bytes)) return { kind: 'keep' };
        removed.add(r.fingerprint);
        return { kind: 'replace', bytes };
      };
      return { rewriter: decide, removed };
    };
    const etag = [...plans.values()][0].etag;
    const retained = kept.get(key);
    const outcome = await rewriteObject(opt, store, key, matcher, rewriter, ctx, etag, retained?.etag === etag ? retained : undefined);
    outcomes.set(key, { keyHash: keyHash(store.bucket, key), status: outcome.status, ...(outcome.verified ? { verified: outcome.verified } : {}) });
    for (const [ref, plan] of plans) {
      const t = tallies.get(ref) as Tally;
      if (outcome.counts) t.malformedKept += outcome.counts.malformed - (malformedRedacted.get(ref) ?? 0);
      for (const [fp, pas] of plan.fingerprints) {
        for (const pa of pas) {
          if (outcome.status === 'refused') t.refused.push({ findingId: pa.finding.id, reason: outcome.reason as RefusalReason });
          else if (outcome.status === 'missing' || outcome.status === 'unreadable' || !seen.get(ref)?.has(fp)) t.missing.push(pa.finding.id);
          else if (reported.get(ref)?.has(fp)) t.refused.push({ findingId: pa.finding.id, reason: 'malformed-record' });
          else if (outcome.protectedOld) t.refused.push({ findingId: pa.finding.id, reason: outcome.protectedOld });
          else count(t, pa.action);
        }
      }
    }
  });

  // After the rewrites: a rewrite deletes its object's older versions, which is erasure too.
  const versionOutcomes = new Map<string, Array<'deleted' | 'gone' | 'refused'>>();
  await forEachLimit([...perVersion.values()], opt.concurrency, async ({ key, versionId, refs }) => {
    const planned = new Map([...refs].map(([ref, pas]) => [ref, new Set(byFingerprint(pas).keys())]));
    // Every subject of the batch that the record matches must plan it to go, not only those with plans here.
    const covers = (r: { fingerprint: string; matches: ReadonlyMap<string, unknown> }) => [...r.matches.keys()].every((ref) => planned.get(ref)?.has(r.fingerprint));
    const outcome = await eraseNoncurrentVersion(store, key, versionId, covers, matcher, ctx);
    versionOutcomes.set(key, [...(versionOutcomes.get(key) ?? []), outcome.status]);
    for (const [ref, pas] of refs) {
      const t = tallies.get(ref) as Tally;
      for (const pa of pas) {
        if (outcome.status === 'refused') t.refused.push({ findingId: pa.finding.id, reason: outcome.reason });
        else count(t, pa.action);
      }
    }
  });
  for (const [key, statuses] of versionOutcomes) {
    if (outcomes.has(key)) continue;
    const status = statuses.includes('refused') ? 'refused' : statuses.includes('deleted') ? 'version-deleted' : 'missing';
    outcomes.set(key, { keyHash: keyHash(store.bucket, key), status });
  }

  const perSubject = new Map<string, ApplyResult>(
    [...tallies].map(([ref, t]) => [ref, { applied: t.applied, refused: t.refused, missing: t.missing, malformedKept: t.malformedKept }]),
  );
  const objects = [...outcomes.keys()].sort(compareText).map((key) => outcomes.get(key) as ObjectOutcome);
  ctx.log('s3-records.batch-applied', {
    store: store.name,
    subjects: work.size,
    objects: objects.length,
    rewritten: objects.filter((o) => o.status === 'rewritten').length,
    versionsDeleted: objects.filter((o) => o.status === 'version-deleted').length,
    refused: objects.filter((o) => o.status === 'refused').length,
  });
  return { perSubject, objects };
}
