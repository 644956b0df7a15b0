/**
 * The end of a log-erasure pass: every unit's result is read (a missing one means the Map did
 * not finish, and the pass stays open for the next run to resume), and per request:
 *   - one chained change receipt (`log-erasure-<passId>`) with what the pass found, decided and
 *     did in each of its queued stores, in counts and bases, and how it was verified (each
 *     rewritten object read back and compared before it replaced the original);
 *   - the records kept past the pass (retained by law, held) enter the deferred ledger, so the
 *     sweep erases them when they come due, exactly as for an inline erasure;
 *   - the queue entry is done, or back to pending when the subject's holds changed during the
 *     pass (the next pass decides again with the new hold);
 * then the pass's leases are released, the identities it worked with are deleted (every
 * version), and so is each request's kept identity once nothing of it waits any more.
 * Every step is idempotent: a finish retried half-way writes nothing twice.
 */
import type { Action } from '../connectors/types';
import { putDeferredEntries, type DeferredEntry } from './deferred';
import { releaseErasureLeases } from './erasure-lock';
import { RequestStateError } from './errors';
import { closeLogPass, passLeaseId, type PassDocument, type PassSubject } from './log-pass';
import { markDone, markPostponed, queuedLogErasures } from './log-queue';
import type { UnitResult } from './log-pass-unit';
import { passKeys, type ManifestLine } from './log-pass-units';
import { appendReceipt } from './receipt';
import type { Runtime } from './runtime';
import { forgetIdentityWhenDone } from './sweep';

interface StoreTotals {
  units: number;
  findings: number;
  thirdParty: number;
  decisions: Record<string, number>;
  applied: Partial<Record<Action, number>>;
  refused: Record<string, number>;
  missing: number;
  holdsChanged: boolean;
  deferred: Map<string, { basis: string; due: string; findingIds: string[] }>;
}

export interface PassFinish {
  readonly passId: string;
  readonly requests: number;
  readonly erased: number;
  readonly postponed: number;
  readonly objectsRewritten: number;
  readonly objectsVerified: number;
}

function add(into: Record<string, number>, from: Partial<Record<string, number>>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + (n ?? 0);
}

/** The units of the pass, as its manifest lists them. */
async function manifestUnits(rt: Runtime, passId: string): Promise<ManifestLine[]> {
  const text = await rt.workspace.getText(passKeys.manifest(passId));
  if (text === undefined) throw new RequestStateError(`log pass ${passId} has no manifest`, { passId });
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as ManifestLine);
}

export async function finishLogPass(rt: Runtime, passId: string): Promise<PassFinish> {
  const pass = await rt.workspace.getJson<PassDocument>(passKeys.pass(passId));
  if (!pass) throw new RequestStateError(`log pass ${passId} has no pass document`, { passId });
  const at = rt.clock.now().toISOString();
  const lines = await manifestUnits(rt, passId);

  // Per store and subject reference, the sum over the units; per store, the objects' outcomes.
  const totals = new Map<string, Map<string, StoreTotals>>();
  let objectsRewritten = 0;
  let objectsVerified = 0;
  for (const line of lines) {
    const result = await rt.workspace.getJson<UnitResult>(passKeys.result(passId, line.unit));
    if (!result) throw new RequestStateError(`log pass ${passId} is not finished: unit ${line.unit} has no result (run the pass again to resume it)`, { passId, unit: line.unit });
    const byRef = totals.get(result.store) ?? new Map<string, StoreTotals>();
    totals.set(result.store, byRef);
    const entry = (ref: string) => {
      let t = byRef.get(ref);
      if (!t) byRef.set(ref, (t = { units: 0, findings: 0, thirdParty: 0, decisions: {}, applied: {}, refused: {}, missing: 0, holdsChanged: false, deferred: new Map() }));
      return t;
    };
    for (const ref of result.holdsChanged) entry(ref).holdsChanged = true;
    for (const [ref, s] of Object.entries(result.subjects)) {
      const t = entry(ref);
      t.units++;
      t.findings += s.findings;
      t.thirdParty += s.thirdParty;
      add(t.decisions, s.decisions);
      add(t.applied, s.applied);
      add(t.refused, s.refused);
      t.missing += s.missing;
      for (const d of s.deferred) {
        const key = `${d.due}#${d.basis}`;
        const group = t.deferred.get(key) ?? { basis: d.basis, due: d.due, findingIds: [] };
        group.findingIds.push(...d.findingIds);
        t.deferred.set(key, group);
      }
    }
    for (const o of result.objects) {
      if (o.status !== 'rewritten') continue;
      objectsRewritten++;
      if (o.verified) objectsVerified++;
    }
  }

  const queue = new Map((await queuedLogErasures(rt, { includeDone: true })).filter((e) => e.passId === passId).map((e) => [`${e.store}#${e.requestId}`, e]));
  const perRequest = new Map<string, Array<{ store: string; subject: PassSubject; totals: StoreTotals | undefined }>>();
  const subjectsOf = new Map<string, PassSubject[]>();
  for (const storeName of Object.keys(pass.stores)) {
    const subjects = (await rt.workspace.getJson<PassSubject[]>(passKeys.subjects(passId, storeName))) ?? [];
    subjectsOf.set(storeName, subjects);
    for (const subject of subjects) {
      for (const requestId of subject.requestIds) {
        const list = perRequest.get(requestId) ?? [];
        list.push({ store: storeName, subject, totals: totals.get(storeName)?.get(subject.ref) });
        perRequest.set(requestId, list);
      }
    }
  }

  let erased = 0;
  let postponed = 0;
  for (const [requestId, stores] of perRequest) {
    const deferred: DeferredEntry[] = [];
    const body: Record<string, unknown> = {};
    for (const { store, totals: t } of stores) {
      const planHash = queue.get(`${store}#${requestId}`)?.planHash ?? '';
      const groups = [...(t?.deferred.values() ?? [])];
      deferred.push(...groups.map((g) => ({ requestId, planHash, store, basis: g.basis, due: g.due, findingIds: g.findingIds })));
      body[store] = {
        outcome: t?.holdsChanged ? 'postponed-holds-changed' : 'erased',
        unitsWithRecords: t?.units ?? 0,
        findings: t?.findings ?? 0,
        thirdParty: t?.thirdParty ?? 0,
        decisions: t?.decisions ?? {},
        applied: t?.applied ?? {},
        refusals: t?.refused ?? {},
        missing: t?.missing ?? 0,
        deferrals: groups.map((g) => ({ basis: g.basis, due: g.due, count: g.findingIds.length })),
      };
    }
    await putDeferredEntries(rt, deferred);
    await appendReceipt(rt, {
      receiptVersion: 1,
      kind: 'change',
      id: `log-erasure-${passId}`,
      requestId,
      change: 'log-erasure',
      passId,
      stores: body,
      verification: { method: 'write-verify-replace', objectsRewritten, objectsVerified },
      at,
    });
    for (const { store, totals: t } of stores) {
      if (t?.holdsChanged) {
        await markPostponed(rt, store, requestId, 'holds-changed');
        postponed++;
      } else {
        await markDone(rt, store, requestId, passId, at);
        erased++;
      }
    }
  }

  const leaseId = passLeaseId(passId);
  for (const [storeName, subjects] of subjectsOf) {
    for (const s of subjects) await releaseErasureLeases(rt, s.subjectId, [storeName], leaseId);
  }
  for (const storeName of Object.keys(pass.stores)) await rt.workspace.deleteEveryVersion(passKeys.subjects(passId, storeName));
  for (const requestId of perRequest.keys()) await forgetIdentityWhenDone(rt, requestId);
  await closeLogPass(rt, passId, at);
  rt.logger.info('log-pass.finished', { passId, requests: perRequest.size, erased, postponed, objectsRewritten, objectsVerified });
  return { passId, requests: perRequest.size, erased, postponed, objectsRewritten, objectsVerified };
}
