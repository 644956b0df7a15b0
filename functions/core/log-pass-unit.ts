/**
 * One work unit of a log-erasure pass: every subject of the pass, in the unit's objects, with
 * one read of each object and at most one rewrite of it.
 *
 *   1. the unit's result already exists: a resumed pass, or a retried child; nothing is done again;
 *   2. subjects whose holds changed since the pass took them are left out of this unit (they are
 *      postponed by the finish step and erased by the next pass, once the new hold is decided);
 *   3. the connector's `eraseMany`: in rounds of bounded memory, discovery for all subjects at
 *      once, then (here, `decide`) the holds checked again and each subject's decisions by the
 *      same schedule and holds an erasure request uses (planStore), then one apply for all
 *      (write, verify, replace, per object) from the round's own read of each object;
 *   4. the result (counts per subject reference, each object's write-verify outcome by key hash)
 *      is written to the work bucket before the Task returns: it is the unit's checkpoint and
 *      what the finish step reads and the receipts are made of.
 */
import type { ApplyResult, Finding, Identity, ObjectOutcome, SubjectWork } from '../connectors/types';
import { isBatchConnector } from '../connectors/types';
import { readHoldVersionsMany, type HoldVersions } from './erasure-lock';
import { DataMapError, RequestStateError } from './errors';
import { canonicalJson, sha256Hex } from './hash';
import type { ManifestLine, WorkUnit } from './log-pass-units';
import { passKeys } from './log-pass-units';
import type { PassSubject } from './log-pass';
import { deferredEntries } from './deferred';
import { countDecisions, planStore, type DecisionCounts, type Plan, type StorePlan } from './plan';
import { storeNamed } from './request-data';
import { DEFAULT_SCHEDULE, parseSchedule } from './retention';
import type { Runtime } from './runtime';

/** What one subject of the pass met in one unit: counts and bases, no personal value. */
export interface UnitSubjectResult {
  readonly findings: number;
  readonly thirdParty: number;
  readonly decisions: DecisionCounts;
  readonly applied: ApplyResult['applied'];
  /** Refused at erase time (Object Lock, a version that also holds retained records), per reason. */
  readonly refused: Record<string, number>;
  readonly missing: number;
  /** Records kept past the pass (retained by law, held), per basis and due day: the sweep's entries. */
  readonly deferred: ReadonlyArray<{ basis: string; due: string; findingIds: readonly string[] }>;
}

export interface UnitResult {
  readonly passId: string;
  readonly unit: string;
  readonly store: string;
  readonly subjects: Record<string, UnitSubjectResult>;
  /** Subject references left out of this unit because their holds changed during the pass. */
  readonly holdsChanged: readonly string[];
  readonly objects: readonly ObjectOutcome[];
}

export interface UnitSummary {
  readonly units: 1;
  readonly counts: Record<string, number>;
}

function sameVersions(a: HoldVersions, b: HoldVersions, store: string): boolean {
  return a.subject === b.subject && (a.stores[store] ?? 0) === (b.stores[store] ?? 0);
}

/** The subjects whose holds are still those the pass saw: one BatchGetItem per 100 lock items. */
async function unchangedSubjects(rt: Runtime, store: string, subjects: readonly PassSubject[]): Promise<{ keep: PassSubject[]; changed: string[] }> {
  const now = await readHoldVersionsMany(rt, subjects.map((s) => s.subjectId), store);
  const keep: PassSubject[] = [];
  const changed: string[] = [];
  for (const s of subjects) {
    const seen = now.get(s.subjectId);
    if (seen && sameVersions(seen, s.seen, store)) keep.push(s);
    else changed.push(s.ref);
  }
  return { keep, changed };
}

export async function eraseLogUnit(rt: Runtime, input: { passId: string; now: string; line: ManifestLine }): Promise<UnitSummary> {
  const { passId, line } = input;
  const resultKey = passKeys.result(passId, line.unit);
  const done = await rt.workspace.getJson<UnitResult>(resultKey);
  if (done) return summarize(done, true);

  const unit = await rt.workspace.getJson<WorkUnit>(passKeys.unit(passId, line.unit));
  if (!unit || unit.store !== line.store) throw new RequestStateError(`log pass ${passId} has no work unit ${line.unit} for store ${line.store}`, { passId, unit: line.unit });
  const all = await rt.workspace.getJson<PassSubject[]>(passKeys.subjects(passId, unit.store));
  if (!all) throw new RequestStateError(`log pass ${passId} has no subjects for store ${unit.store} (finished already?)`, { passId, store: unit.store });
  const store = storeNamed(rt, unit.store);
  const connector = rt.connectors(store);
  if (!isBatchConnector(connector)) throw new DataMapError(`store ${store.name} (${store.kind}) cannot be erased by the log pass`);
  const ctx = rt.connectorContext();
  const now = new Date(input.now);
  const schedule = rt.config.retention === undefined ? DEFAULT_SCHEDULE : parseSchedule(rt.config.retention);

  const first = await unchangedSubjects(rt, store.name, all);
  const changed = new Set(first.changed);
  // Per subject, its plan of each round; a round's findings are decided just before its rewrites.
  const slices = new Map<string, StorePlan[]>();
  const decide = async (found: ReadonlyMap<string, Finding[]>): Promise<Map<string, SubjectWork>> => {
    const withFindings = first.keep.filter((s) => !changed.has(s.ref) && (found.get(s.ref)?.length ?? 0) > 0);
    // Again just before anything is rewritten: a hold placed while the round was read wins.
    const current = await unchangedSubjects(rt, store.name, withFindings);
    for (const ref of current.changed) changed.add(ref);
    const work = new Map<string, SubjectWork>();
    for (const s of current.keep) {
      const findings = found.get(s.ref) as Finding[];
      const slice = planStore({ store, findings, findingsHash: sha256Hex(canonicalJson(findings)), type: 'erasure', now, schedule, holds: s.holds });
      slices.set(s.ref, [...(slices.get(s.ref) ?? []), slice]);
      const byId = new Map(findings.map((f) => [f.id, f]));
      const actions = slice.entries.filter((e) => e.action !== 'keep').map((e) => ({ finding: byId.get(e.findingId)!, action: e.action }));
      if (actions.length > 0) work.set(s.ref, { identity: s.identity, actions });
    }
    return work;
  };
  const applied = await connector.eraseMany(store, new Map(first.keep.map((s) => [s.ref, s.identity as Identity])), unit.keys, decide, ctx, { roundBytes: rt.config.settings.logPass.roundBytes });
  const holdsChanged = [...changed].sort();

  const subjects: Record<string, UnitSubjectResult> = {};
  for (const [ref, parts] of slices) {
    const slice: StorePlan = parts.length === 1 ? parts[0] : { ...parts[0], entries: parts.flatMap((p) => p.entries) };
    const result = applied.perSubject.get(ref);
    const refused: Record<string, number> = {};
    for (const r of result?.refused ?? []) refused[r.reason] = (refused[r.reason] ?? 0) + 1;
    subjects[ref] = {
      findings: slice.entries.length,
      thirdParty: slice.entries.filter((e) => e.role === 'third-party').length,
      decisions: countDecisions(slice.entries),
      applied: result?.applied ?? {},
      refused,
      missing: result?.missing.length ?? 0,
      deferred: deferredOf(slice),
    };
  }
  const result: UnitResult = { passId, unit: unit.unit, store: store.name, subjects, holdsChanged, objects: applied.objects };
  await rt.workspace.putJson(resultKey, result);
  rt.logger.info('log-pass.unit', { passId, unit: unit.unit, store: store.name, ...summarize(result, false).counts });
  return summarize(result, false);
}

/** The slice's kept records as the deferred ledger groups them (per basis and due day). */
function deferredOf(slice: StorePlan): UnitSubjectResult['deferred'] {
  const plan = { requestId: '-', type: 'erasure', createdAt: '', identityHash: '', stores: [slice] } satisfies Plan;
  return deferredEntries(plan, '').map((d) => ({ basis: d.basis, due: d.due, findingIds: d.findingIds }));
}

/** What the child execution's history shows: counts only (object keys and subjects stay in the bucket). */
function summarize(result: UnitResult, resumed: boolean): UnitSummary {
  const counts: Record<string, number> = { subjectsFound: Object.keys(result.subjects).length, holdsChanged: result.holdsChanged.length, objects: result.objects.length };
  for (const o of result.objects) counts[o.status] = (counts[o.status] ?? 0) + 1;
  for (const s of Object.values(result.subjects)) for (const [action, n] of Object.entries(s.applied)) counts[action] = (counts[action] ?? 0) + (n ?? 0);
  if (resumed) counts.alreadyDone = 1;
  return { units: 1, counts };
}
