/**
 * One subject's planned actions on a log store (`apply`): per object, one rewrite that removes
 * or redacts the planned records, each recognised by its fingerprint and re-matched to the
 * subject at rewrite time; per noncurrent version holding planned records, a whole-version
 * delete when every record of the subject in it is planned to go.
 */
import type { S3RecordsStore } from '../core/datamap';
import { DataMapError } from '../core/errors';
import { RecordMatcher } from '../core/matching';
import { malformedDecision } from './s3-records-malformed';
import { fieldSpecs, forEachLimit, ONE, type S3RecordsSettings } from './s3-records-common';
import { redactionToken, redactRecord } from './s3-records-redact';
import { rewriteObject } from './s3-records-rewrite';
import { removeStaleStaging, type Rewriter } from './s3-records-stage';
import { eraseNoncurrentVersion } from './s3-records-versions';
import type { Action, ApplyResult, ConnectorContext, Identity, PlannedAction, RefusalReason, S3RecordLocator } from './types';

/** The planned actions of one store, grouped: per current object, and per noncurrent version. */
export interface GroupedActions {
  /** Per key: the ETag the findings were made in, and the planned rewrites. */
  readonly byKey: Map<string, { etag: string; planned: PlannedAction[] }>;
  /** Findings in noncurrent versions: each such version is deleted whole, or not at all. */
  readonly byVersion: Map<string, { key: string; versionId: string; planned: PlannedAction[] }>;
  /** restrict / unrestrict / keep: only counted (a log record has nowhere to carry a mark). */
  readonly counted: Action[];
}

export function groupActions(store: S3RecordsStore, actions: readonly PlannedAction[]): GroupedActions {
  const grouped: GroupedActions = { byKey: new Map(), byVersion: new Map(), counted: [] };
  for (const pa of actions) {
    const loc = pa.finding.locator;
    if (pa.finding.store !== store.name || loc.type !== 's3-record' || loc.bucket !== store.bucket) {
      throw new DataMapError(`finding ${pa.finding.id.slice(0, 12)} does not belong to store ${store.name}`);
    }
    if (pa.action === 'restrict' || pa.action === 'unrestrict' || pa.action === 'keep') {
      grouped.counted.push(pa.action);
      continue;
    }
    if (loc.versionId !== undefined) {
      const id = `${loc.key}\u0000${loc.versionId}`;
      const entry = grouped.byVersion.get(id) ?? { key: loc.key, versionId: loc.versionId, planned: [] };
      entry.planned.push(pa);
      grouped.byVersion.set(id, entry);
      continue;
    }
    const entry = grouped.byKey.get(loc.key) ?? { etag: loc.etag, planned: [] };
    entry.planned.push(pa);
    grouped.byKey.set(loc.key, entry);
  }
  return grouped;
}

/** Planned actions by record fingerprint: how a rewrite recognises a planned record again. */
export function byFingerprint(planned: readonly PlannedAction[]): Map<string, PlannedAction[]> {
  const out = new Map<string, PlannedAction[]>();
  for (const pa of planned) {
    const fp = (pa.finding.locator as S3RecordLocator).fingerprint;
    out.set(fp, [...(out.get(fp) ?? []), pa]);
  }
  return out;
}

/** How a kept record of a subject is redacted for its planned action: its mentions, or the store's fields. */
export function redactionFor(store: S3RecordsStore, action: Action): 'mentions' | 'store-fields' {
  return action === 'redact-mentions' || (action === 'anonymize' && store.erase.mode === 'delete-record') ? 'mentions' : 'store-fields';
}

export async function applyOne(opt: S3RecordsSettings, store: S3RecordsStore, identity: Identity, actions: readonly PlannedAction[], ctx: ConnectorContext): Promise<ApplyResult> {
  const applied: Partial<Record<Action, number>> = {};
  const refused: Array<{ findingId: string; reason: RefusalReason }> = [];
  const missing: string[] = [];
  let malformedKept = 0;
  const count = (a: Action, n = 1) => (applied[a] = (applied[a] ?? 0) + n);

  const { byKey, byVersion, counted } = groupActions(store, actions);
  for (const a of counted) count(a);
  const matcher = new RecordMatcher(fieldSpecs(store), new Map([[ONE, identity]]), store.format, store.identifiers);
  const refs = new Set([ONE]);
  if (byKey.size > 0) await removeStaleStaging(opt, store, ctx);

  await forEachLimit([...byKey.entries()], opt.concurrency, async ([key, { etag, planned }]) => {
    const fingerprints = byFingerprint(planned);
    let seen = new Set<string>();
    let reported = new Set<string>();
    const outcome = await rewriteObject(
      opt,
      store,
      key,
      matcher,
      () => {
        seen = new Set<string>();
        reported = new Set<string>();
        const removed = new Set<string>();
        const rewriter: Rewriter = (r) => {
          // Recognised by fingerprint AND still the subject's (re-matched just now).
          const pas = fingerprints.get(r.fingerprint);
          if (!pas || !r.matches.has(ONE)) return { kind: 'keep' };
          seen.add(r.fingerprint);
          if (r.malformed) {
            const d = malformedDecision(store.malformed, r, refs, redactionToken(ctx));
            (d.kind === 'keep' ? reported : removed).add(r.fingerprint);
            return d;
          }
          const action = pas[0].action;
          if (action === 'delete' && store.erase.mode === 'delete-record') {
            removed.add(r.fingerprint);
            return { kind: 'remove' };
          }
          const bytes = redactRecord(store, r, redactionFor(store, action), refs, matcher, ctx);
          if (bytes.equals(r.bytes)) return { kind: 'keep' };
          removed.add(r.fingerprint);
          return { kind: 'replace', bytes };
        };
        return { rewriter, removed };
      },
      ctx,
      etag,
    );
    if (outcome.counts) malformedKept += outcome.counts.malformed - outcome.counts.malformedReplaced;
    for (const [fp, pas] of fingerprints) {
      for (const pa of pas) {
        if (outcome.status === 'refused') refused.push({ findingId: pa.finding.id, reason: outcome.reason as RefusalReason });
        else if (outcome.status === 'missing' || outcome.status === 'unreadable' || !seen.has(fp)) missing.push(pa.finding.id);
        else if (reported.has(fp)) refused.push({ findingId: pa.finding.id, reason: 'malformed-record' });
        else if (outcome.protectedOld) refused.push({ findingId: pa.finding.id, reason: outcome.protectedOld });
        else count(pa.action);
      }
    }
  });
  // After the rewrites: a rewrite deletes its object's older versions, which is erasure too.
  await forEachLimit([...byVersion.values()], opt.concurrency, async ({ key, versionId, planned }) => {
    const fingerprints = new Set(planned.map((pa) => (pa.finding.locator as S3RecordLocator).fingerprint));
    const outcome = await eraseNoncurrentVersion(store, key, versionId, (r) => fingerprints.has(r.fingerprint), matcher, ctx);
    for (const pa of planned) {
      if (outcome.status === 'refused') refused.push({ findingId: pa.finding.id, reason: outcome.reason });
      else count(pa.action);
    }
  });
  return { applied, refused, missing, malformedKept };
}
