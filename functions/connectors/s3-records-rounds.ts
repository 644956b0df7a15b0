/**
 * A work unit of the batched log pass erased with one read of each object: the unit's keys go
 * in rounds of about `roundBytes` of records; each round is scanned for every subject with its
 * objects kept in memory, the caller decides what goes (`decide`: the retention schedule, the
 * holds, checked again per round), and the round's objects are rewritten from what the scan
 * kept (s3-records-replay.ts) — write, verify, replace as ever, without reading, inflating and
 * matching each object a second time. Rounds bound the memory; a round's result per subject
 * is what `applyMany` reports, and the unit's is their sum.
 */
import type { S3RecordsStore } from '../core/datamap';
import { recordMatcherFor } from '../core/matcher-cache';
import { applyWork, readsOf } from './s3-records-batch';
import { checkStore, fieldSpecs, type S3RecordsSettings } from './s3-records-common';
import type { ObjectRead } from './s3-records-read';
import { RoundArena } from './s3-records-replay';
import { estimatedRecordBytes, scanFindings, type KeepForRewrite } from './s3-records-read';
import type { ApplyResult, BatchApplyResult, ConnectorContext, Finding, Identity, ObjectOutcome, SubjectWork } from './types';


/** The reads in rounds of about `budget` estimated bytes; every version of a key in the same round (a rewrite deletes the older ones). */
export function roundsOf(store: S3RecordsStore, reads: ReadonlyArray<ObjectRead & { storedBytes: number }>, budget: number): Array<Array<ObjectRead & { storedBytes: number }>> {
  const rounds: Array<Array<ObjectRead & { storedBytes: number }>> = [];
  let open: Array<ObjectRead & { storedBytes: number }> = [];
  let bytes = 0;
  for (let i = 0; i < reads.length; ) {
    const key = reads[i].key;
    let j = i;
    let keyBytes = 0;
    for (; j < reads.length && reads[j].key === key; j++) keyBytes += estimatedRecordBytes(store, key, reads[j].storedBytes);
    if (open.length > 0 && bytes + keyBytes > budget) {
      rounds.push(open);
      open = [];
      bytes = 0;
    }
    for (let r = i; r < j; r++) open.push({ key, storedBytes: reads[r].storedBytes, ...(reads[r].versionId ? { versionId: reads[r].versionId } : {}) });
    bytes += keyBytes;
    i = j;
  }
  if (open.length > 0) rounds.push(open);
  return rounds;
}

/**
 * The reads in rounds (by `opt.roundBytes`), each with where its scan keeps objects for their
 * rewrite: the same slabs every round, reused once the caller asks for the next round (so its
 * rewrites of the last one are done). `roundBytes: 0` keeps nothing, and so needs no rounds.
 */
export function* keptRounds(
  opt: S3RecordsSettings,
  store: S3RecordsStore,
  reads: ReadonlyArray<ObjectRead & { storedBytes: number }>,
): Generator<{ reads: Array<ObjectRead & { storedBytes: number }>; keep: KeepForRewrite | undefined }> {
  const arena = new RoundArena();
  for (const round of roundsOf(store, reads, opt.roundBytes > 0 ? opt.roundBytes : Infinity)) {
    arena.reset();
    yield { reads: round, keep: opt.roundBytes > 0 ? { into: new Map(), maxBytes: opt.roundBytes, bytes: 0, arena } : undefined };
  }
}

/** One subject's sum over the rounds. */
interface Tally {
  applied: Record<string, number>;
  refused: Array<ApplyResult['refused'][number]>;
  missing: string[];
  malformedKept: number;
}

function mergeInto(into: Map<string, Tally>, from: BatchApplyResult): void {
  for (const [ref, r] of from.perSubject) {
    const t = into.get(ref) ?? { applied: {}, refused: [], missing: [], malformedKept: 0 };
    for (const [action, n] of Object.entries(r.applied)) t.applied[action] = (t.applied[action] ?? 0) + (n ?? 0);
    t.refused.push(...r.refused);
    t.missing.push(...r.missing);
    t.malformedKept += r.malformedKept ?? 0;
    into.set(ref, t);
  }
}

/** BatchConnector.eraseMany: the unit's keys in rounds, each scanned, decided (`decide`) and rewritten from its own read. */
export async function eraseMany(
  opt: S3RecordsSettings,
  store: S3RecordsStore,
  subjects: ReadonlyMap<string, Identity>,
  keys: readonly string[],
  decide: (found: ReadonlyMap<string, Finding[]>) => Promise<ReadonlyMap<string, SubjectWork>>,
  ctx: ConnectorContext,
): Promise<BatchApplyResult> {
  checkStore(store);
  const matcher = recordMatcherFor(fieldSpecs(store), subjects, store.format, store.identifiers);
  const perSubject = new Map<string, Tally>();
  const objects: ObjectOutcome[] = [];
  if (matcher.empty) return { perSubject, objects };
  let staleStagingRemoved = false;
  for (const { reads, keep } of keptRounds(opt, store, await readsOf(opt, store, keys, ctx))) {
    const { findings } = await scanFindings(opt, store, subjects, reads, ctx, keep);
    if (findings.size === 0) continue;
    const work = await decide(new Map([...subjects.keys()].map((ref) => [ref, findings.get(ref) ?? []])));
    if (work.size === 0) continue;
    const applied = await applyWork(opt, store, work, matcher, ctx, keep?.into, staleStagingRemoved);
    staleStagingRemoved = true;
    mergeInto(perSubject, applied);
    objects.push(...applied.objects);
    ctx.log('s3-records.round', { store: store.name, reads: reads.length, subjects: work.size, objects: applied.objects.length, keptObjects: keep?.into.size ?? 0, keptBytes: keep?.bytes ?? 0 });
  }
  return { perSubject: perSubject as ReadonlyMap<string, ApplyResult>, objects };
}
