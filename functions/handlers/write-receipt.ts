/** WriteReceipt: the request's receipt, appended to the hash chain; the outcome decides the end state. */
import { z } from 'zod';
import type { ApplyResult } from '../connectors/types';
import { throwIfCancelled } from '../core/cancel';
import { loadConsentResult } from '../core/consent';
import { isConsentType } from '../core/purposes';
import { deferredEntries } from '../core/deferred';
import { releaseErasureLeases } from '../core/erasure-lock';
import { RequestNotFoundError, RequestStateError } from '../core/errors';
import { countRefusals, refusedFindings, type RefusalCount } from '../core/outcomes';
import { forgetIdentityWhenDone } from '../core/sweep';
import { queuedStoresOf } from '../core/log-pass-route';
import { actorHash, appendReceipt, LIFTED } from '../core/receipt';
import { docKeys, loadPlan } from '../core/request-data';
import { RequestIdSchema } from '../core/request';
import { getRuntime, type Runtime } from './runtime';
import type { RequestRecord } from '../core/ledger';
import { taskHandler } from './middleware';
import { StoreResult } from './schemas';

const State = z.object({
  request: z.object({ type: z.string(), mode: z.string() }),
  discovery: z.array(StoreResult).optional(),
  /** Absent for a rectification, which is routed to a person without discovery. */
  plan: z.object({ planHash: z.string(), totals: z.record(z.string(), z.number()), counts: z.record(z.string(), z.record(z.string(), z.number())) }).optional(),
  applied: z.array(StoreResult).optional(),
  export: z.array(StoreResult).optional(),
  bundle: z.object({ bundleKey: z.string(), bundleHash: z.string(), bytes: z.number().int().nonnegative().optional() }).passthrough().optional(),
  verification: z.object({ remaining: z.number(), unexpected: z.number() }).passthrough().optional(),
  deferred: z.object({ scheduled: z.number(), nextDue: z.string().nullable() }).optional(),
});

const Input = z.object({ requestId: RequestIdSchema, executionName: z.string().min(1).max(80).optional(), state: State.passthrough() });

export const handler = taskHandler('write-receipt', Input, async ({ requestId, executionName, state }) => {
  const rt = getRuntime();
  const now = rt.clock.now();
  const record = await rt.ledger.getRequest(requestId);
  if (!record) throw new RequestNotFoundError(requestId);
  if (record.request.type === 'rectification') return routeToPerson(rt, requestId, record, now);
  if (isConsentType(record.request.type)) return consentReceipt(rt, requestId, record, state.request.mode === 'resume' ? executionName : undefined, now);
  if (!state.plan) throw new RequestStateError(`request ${requestId} reached its receipt without a plan`, { requestId });
  // An erasure past ScheduleDeferred has done all it will: it completes. Others stop here.
  if (record.request.type !== 'erasure' && state.request.mode !== 'lift') throwIfCancelled(record);
  const failed = [...(state.discovery ?? []), ...(state.applied ?? []), ...(state.export ?? [])].filter((s) => s.status === 'failed');
  if (state.request.mode === 'lift') return liftReceipt(rt, requestId, record, state.plan.planHash, state.applied ?? [], failed, now);
  // Stores refused only because holds changed after the plan: the plan is outdated, not broken.
  const planOutdated = failed.length > 0 && failed.every((s) => s.error === 'HoldsChanged');
  const outcome = planOutdated ? 'plan-outdated' : failed.length > 0 || (state.verification?.unexpected ?? 0) > 0 ? 'failed' : 'completed';

  const plan = await loadPlan(rt, requestId, state.plan.planHash);
  // What was left in place for a stated reason (holds, Object Lock): an outcome, not a failure.
  const refusals: RefusalCount[] = [];
  for (const result of state.applied ?? []) {
    const slice = plan.stores.find((s) => s.store === result.store);
    const applied = await rt.workspace.getJson<ApplyResult>(docKeys.applied(requestId, result.store));
    if (slice) refusals.push(...countRefusals(result.store, refusedFindings(slice, applied)));
  }
  const deferrals = record.request.type === 'erasure' && state.request.mode !== 'plan'
    ? deferredEntries(plan, state.plan.planHash).map((d) => ({ store: d.store, basis: d.basis, due: d.due, count: d.findingIds.length }))
    : [];

  const receipt = await appendReceipt(rt, {
    ...receiptHead(requestId, record),
    // A resume's receipt is its own (one receipt per id), chained after the run's.
    ...(state.request.mode === 'resume' && executionName ? { id: executionName, requestId } : {}),
    planHash: state.plan.planHash,
    outcome,
    decisions: state.plan.counts,
    totals: state.plan.totals,
    applied: Object.fromEntries((state.applied ?? []).map((s) => [s.store, s.counts ?? { failed: 1 }])),
    exported: Object.fromEntries((state.export ?? []).map((s) => [s.store, s.counts ?? { failed: 1 }])),
    failedStores: failed.map((s) => ({ store: s.store, error: s.error ?? 'unknown' })),
    refusals,
    deferrals,
    verification: state.verification ? { remaining: state.verification.remaining, held: heldOf(state.verification), unexpected: state.verification.unexpected } : null,
    // The size beside the hash: an auditor sees both without reading the bundle (absent in a state from before it was recorded).
    bundle: state.bundle ? { key: state.bundle.bundleKey, sha256: state.bundle.bundleHash, ...(state.bundle.bytes !== undefined ? { bytes: state.bundle.bytes } : {}) } : null,
    // Log stores the batched pass erases later: each gets its own change receipt when it has.
    queuedLogStores: record.request.type === 'erasure' ? (await queuedStoresOf(rt, requestId)).map((q) => ({ store: q.store, dueBy: q.dueBy })) : [],
    receivedAt: record.request.receivedAt,
    dueAt: record.dueAt ?? null,
    completedAt: now.toISOString(),
  });
  await releaseErasureLeases(rt, record.request.subjectId, (state.applied ?? []).map((s) => s.store), requestId);
  // Nothing left to do and nothing deferred: the identity kept for a resume has no purpose.
  if (outcome === 'completed' && record.request.type === 'erasure') await forgetIdentityWhenDone(rt, requestId, { unlessFailed: false });
  const receiptKey = `receipt/${receipt.sequence}`;
  const status = outcome === 'completed' ? 'completed' : 'failed';
  await rt.ledger.setStatus(requestId, status, now, { receiptKey, ...(outcome === 'failed' ? { reason: 'store-failed' } : outcome === 'plan-outdated' ? { reason: 'plan-outdated' } : {}) });
  return { receiptKey, receiptHash: receipt.hash, outcome };
});

/** Held records VerifyErasure found: summed from its per-store counts (the state keeps those). */
function heldOf(verification: Record<string, unknown>): number {
  if (typeof verification.held === 'number') return verification.held;
  const byStore = (verification.byStore ?? {}) as Record<string, { held?: unknown }>;
  return Object.values(byStore).reduce((n, s) => n + (typeof s?.held === 'number' ? s.held : 0), 0);
}

type StoreOutcome = StoreResult;

/**
 * Lifting a restriction is a change to a request that already has its receipt: it gets a
 * receipt of its own in the chain (who asked — as a hash —, when, what was unmarked), and the
 * request points at it.
 */
async function liftReceipt(rt: Runtime, requestId: string, record: RequestRecord, planHash: string, applied: StoreOutcome[], failed: StoreOutcome[], now: Date) {
  const outcome = failed.length > 0 ? 'failed' : 'completed';
  const actor = await rt.ledger.getActor(requestId, LIFTED);
  const receipt = await appendReceipt(rt, {
    receiptVersion: 1,
    kind: 'change',
    id: LIFTED,
    requestId,
    type: record.request.type,
    change: LIFTED,
    actorHash: actor ? actorHash(requestId, LIFTED, actor.by) : null,
    requestedAt: actor?.at ?? null,
    planHash,
    outcome,
    applied: Object.fromEntries(applied.map((s) => [s.store, s.counts ?? { failed: 1 }])),
    failedStores: failed.map((s) => ({ store: s.store, error: s.error ?? 'unknown' })),
    at: now.toISOString(),
  });
  const receiptKey = `receipt/${receipt.sequence}`;
  await rt.ledger.setStatus(requestId, outcome, now, { receiptKey, ...(outcome === 'failed' ? { reason: 'store-failed' } : { reason: 'restriction-lifted' }) });
  return { receiptKey, receiptHash: receipt.hash, outcome };
}

/** A rectification's receipt: the request and its verification are on record, for a person to act on. */
async function routeToPerson(rt: Runtime, requestId: string, record: RequestRecord, now: Date) {
  const receipt = await appendReceipt(rt, {
    ...receiptHead(requestId, record),
    planHash: null,
    outcome: 'routed-to-person',
    // Log stores the batched pass erases later: each gets its own change receipt when it has.
    queuedLogStores: record.request.type === 'erasure' ? (await queuedStoresOf(rt, requestId)).map((q) => ({ store: q.store, dueBy: q.dueBy })) : [],
    receivedAt: record.request.receivedAt,
    dueAt: record.dueAt ?? null,
    completedAt: now.toISOString(),
  });
  const receiptKey = `receipt/${receipt.sequence}`;
  await rt.ledger.setStatus(requestId, 'routed-to-person', now, { receiptKey });
  return { receiptKey, receiptHash: receipt.hash, outcome: 'routed-to-person' };
}

/**
 * A withdrawal's or objection's receipt: per purpose its basis and outcome (applied, or refused
 * with the overriding basis and its citation), and per place the counts and the keyed hashes
 * of the values before and after. A resume's receipt is its own, chained after the run's.
 */
async function consentReceipt(rt: Runtime, requestId: string, record: RequestRecord, resumeName: string | undefined, now: Date) {
  throwIfCancelled(record);
  const result = await loadConsentResult(rt, requestId);
  const receipt = await appendReceipt(rt, {
    ...receiptHead(requestId, record),
    ...(resumeName ? { id: resumeName, requestId } : {}),
    planHash: null,
    outcome: 'completed',
    purposes: result.purposes,
    consentTotals: result.totals,
    receivedAt: record.request.receivedAt,
    dueAt: record.dueAt ?? null,
    completedAt: now.toISOString(),
  });
  const receiptKey = `receipt/${receipt.sequence}`;
  await rt.ledger.setStatus(requestId, 'completed', now, { receiptKey });
  return { receiptKey, receiptHash: receipt.hash, outcome: 'completed' };
}

/** What every request receipt starts with: which request, of what type, verified how. */
function receiptHead(requestId: string, record: RequestRecord) {
  return {
    receiptVersion: 1 as const,
    kind: 'request' as const,
    id: requestId,
    type: record.request.type,
    verificationReference: record.request.verification?.reference ?? null,
    verificationMethod: record.request.verification?.method ?? null,
    // A system-originated erasure: the limit it enforces, in place of a verification (no date, no subject value).
    ...(record.request.origin
      ? { origin: record.request.origin, retentionBasis: record.request.retentionBasis ? { category: record.request.retentionBasis.category, basis: record.request.retentionBasis.basis, from: record.request.retentionBasis.from, after: record.request.retentionBasis.after, runId: record.request.retentionBasis.runId } : null, stores: record.request.stores ?? null }
      : {}),
  };
}
