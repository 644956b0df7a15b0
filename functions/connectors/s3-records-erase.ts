/**
 * The retention sweep's erasure: every record of a batch of subjects out of a store, one read
 * and at most one rewrite per object (in rounds, the rewrite from what the scan kept, as the log
 * pass does: s3-records-rounds.ts). Only where the subjects are is kept in memory (keys, and
 * noncurrent versions with per-subject counts): a finding per record would hold hundreds of MB
 * for a busy archive object.
 */
import type { S3RecordsStore } from '../core/datamap';
import { fieldSpecs, forEachLimit, keyHash, newTotals, type S3RecordsSettings, type ScanTotals, type StoreEraseResult, type UnreadableObject } from './s3-records-common';
import { malformedDecision } from './s3-records-malformed';
import { listReads, scanObjects, type KeepForRewrite, type ObjectRead } from './s3-records-read';
import type { RetainedScan } from './s3-records-replay';
import { keptRounds } from './s3-records-rounds';
import { redactionToken, redactRecord } from './s3-records-redact';
import { rewriteObject } from './s3-records-rewrite';
import { removeStaleStaging, type Rewriter } from './s3-records-stage';
import type { UnreadableReason } from './s3-records-stream';
import { compareText } from './s3-shared';
import { eraseNoncurrentVersion } from './s3-records-versions';
import type { ConnectorContext, Identity, RefusalReason } from './types';
import { recordMatcherFor } from '../core/matcher-cache';

export async function eraseFromStore(opt: S3RecordsSettings, store: S3RecordsStore, subjects: ReadonlyMap<string, Identity>, ctx: ConnectorContext): Promise<StoreEraseResult> {
  const matcher = recordMatcherFor(fieldSpecs(store), subjects, store.format, store.identifiers);
  const versions = new Map<string, { key: string; versionId: string; refs: Map<string, number> }>();
  const unreadable: UnreadableObject[] = [];
  const totals = newTotals();
  const scanRound = async (reads: readonly ObjectRead[], keep: KeepForRewrite | undefined) => {
    const keys = new Set<string>();
    const scan = await scanObjects(
      opt,
      store,
      matcher,
      ctx,
      reads,
      // A current version only needs to be known to match; a noncurrent one, by whom.
      ({ key, versionId }, r) => (versionId === undefined ? key : { key, versionId, refs: [...r.matches.keys()] }),
      (found) => {
        for (const f of found) {
          if (typeof f === 'string') {
            keys.add(f);
            continue;
          }
          const { key, versionId, refs } = f;
          const id = `${key}\u0000${versionId}`;
          const v = versions.get(id) ?? { key, versionId, refs: new Map<string, number>() };
          for (const ref of refs) v.refs.set(ref, (v.refs.get(ref) ?? 0) + 1);
          versions.set(id, v);
        }
      },
      keep,
    );
    unreadable.push(...scan.unreadable);
    for (const k of Object.keys(totals) as Array<keyof ScanTotals>) totals[k] += scan.totals[k];
    return keys;
  };
  const refs = new Set(subjects.keys());
  const erased = new Map<string, number>();
  const refusedOut: Array<{ key: string; keyHash: string; reason: RefusalReason }> = [];
  let rewritten = 0;
  let removedTotal = 0;
  let redactedTotal = 0;
  let malformedKept = 0;
  /** One object's rewrite (from what its round's scan kept, if it did), and its counts. */
  const rewriteKey = async (key: string, kept: RetainedScan | undefined): Promise<void> => {
    let perSubject = new Map<string, number>();
    let reportedMalformed = 0;
    const outcome = await rewriteObject(
      opt,
      store,
      key,
      matcher,
      () => {
        perSubject = new Map();
        reportedMalformed = 0;
        const removed = new Set<string>();
        const rewriter: Rewriter = (r) => {
          if (r.malformed && store.malformed === 'report') {
            reportedMalformed++;
            return { kind: 'keep' };
          }
          for (const ref of r.matches.keys()) perSubject.set(ref, (perSubject.get(ref) ?? 0) + 1);
          if (r.malformed) {
            const d = malformedDecision(store.malformed, r, refs, redactionToken(ctx));
            if (d.kind === 'replace') removed.add(r.fingerprint);
            return d;
          }
          if (store.erase.mode === 'delete-record') {
            removed.add(r.fingerprint);
            return { kind: 'remove' };
          }
          const bytes = redactRecord(store, r, 'store-fields', refs, matcher, ctx);
          if (bytes.equals(r.bytes)) return { kind: 'keep' };
          removed.add(r.fingerprint);
          return { kind: 'replace', bytes };
        };
        return { rewriter, removed };
      },
      ctx,
      undefined,
      kept,
    );
    const kh = keyHash(store.bucket, key);
    if (outcome.status === 'refused') refusedOut.push({ key, keyHash: kh, reason: outcome.reason as RefusalReason });
    if (outcome.status !== 'refused' && reportedMalformed > 0) refusedOut.push({ key, keyHash: kh, reason: 'malformed-record' });
    if (outcome.status === 'unreadable') unreadable.push({ key, keyHash: kh, reason: outcome.unreadable as UnreadableReason });
    if (outcome.status !== 'rewritten' || !outcome.counts) return;
    rewritten++;
    removedTotal += outcome.counts.removed;
    redactedTotal += outcome.counts.replaced;
    malformedKept += outcome.counts.malformed - outcome.counts.malformedReplaced;
    if (outcome.protectedOld) refusedOut.push({ key, keyHash: kh, reason: outcome.protectedOld });
    for (const [ref, n] of perSubject) erased.set(ref, (erased.get(ref) ?? 0) + n);
  };
  let staleStagingRemoved = false;
  // In rounds, as the log pass: a round's objects are scanned and kept, then rewritten from what the scan kept.
  for (const { reads, keep } of matcher.empty ? [] : keptRounds(opt, store, await listReads(opt, store, ctx))) {
    const keys = await scanRound(reads, keep);
    if (keys.size > 0 && !staleStagingRemoved) {
      await removeStaleStaging(opt, store, ctx);
      staleStagingRemoved = true;
    }
    await forEachLimit([...keys].sort(compareText), opt.concurrency, (key) => rewriteKey(key, keep?.into.get(key)));
  }
  // Noncurrent versions (after the rewrites, which delete their objects' older versions).
  let versionsDeleted = 0;
  await forEachLimit([...versions.values()], opt.concurrency, async ({ key, versionId, refs: found }) => {
    const outcome = await eraseNoncurrentVersion(store, key, versionId, 'all', matcher, ctx);
    if (outcome.status === 'refused') {
      refusedOut.push({ key, keyHash: keyHash(store.bucket, key), reason: outcome.reason });
      return;
    }
    if (outcome.status === 'deleted') versionsDeleted++;
    for (const [ref, n] of found) erased.set(ref, (erased.get(ref) ?? 0) + n);
  });
  return { rewritten, versionsDeleted, erased, removed: removedTotal, redacted: redactedTotal, malformedKept, refused: refusedOut, unreadable, totals };
}
