/** ApplyRetention: a decision per finding, stored as a plan addressed by its hash. */
import { z } from 'zod';
import { throwIfCancelled } from '../core/cancel';
import { readHoldVersions } from '../core/erasure-lock';
import { RequestNotFoundError, RequestStateError } from '../core/errors';
import { findHolds } from '../core/holds';
import { countDecisions, planBreakdown, planStore, type Plan, type StorePlan } from '../core/plan';
import { docKeys, loadFindings, storeNamed } from '../core/request-data';
import { EXECUTION_MODES, isPlannedType, RequestIdSchema } from '../core/request';
import { DEFAULT_SCHEDULE, parseSchedule } from '../core/retention';
import { getRuntime } from './runtime';
import { canonicalJson, hashOf, sha256Hex } from '../core/hash';
import { taskHandler } from './middleware';
import { StoreResult } from './schemas';

/** Statuses in which a new plan of an erasure under approval becomes the plan to review. */
const REVIEWABLE = new Set(['awaiting-approval', 'rejected', 'failed']);

const Input = z.object({ requestId: RequestIdSchema, mode: z.enum(EXECUTION_MODES), discovery: z.array(StoreResult) });

export const handler = taskHandler('apply-retention', Input, async ({ requestId, mode, discovery }) => {
  const rt = getRuntime();
  const now = rt.clock.now();
  const record = await rt.ledger.getRequest(requestId);
  if (!record) throw new RequestNotFoundError(requestId);
  throwIfCancelled(record);
  const type = record.request.type;
  // The machine routes a rectification to a person before discovery.
  if (!isPlannedType(type)) throw new RequestStateError(`request ${requestId} is a ${type} request: nothing to plan`, { requestId, type });
  const schedule = rt.config.retention === undefined ? DEFAULT_SCHEDULE : parseSchedule(rt.config.retention);
  // Read before the holds themselves: a hold placed after this read makes the versions stale.
  const holdVersions = await readHoldVersions(rt, record.request.subjectId, discovery.map((d) => d.store));
  const holds = await findHolds(rt, requestId, now);
  const stores: StorePlan[] = [];
  for (const result of discovery.filter((d) => d.status === 'ok')) {
    const store = storeNamed(rt, result.store);
    const findings = await loadFindings(rt, requestId, store.name);
    const findingsHash = sha256Hex(canonicalJson(findings));
    const planned = planStore({ store, findings, findingsHash, type, now, schedule, holds: holds.forStore(store) });
    const slice = result.counts?.queued ? { ...planned, queued: true as const } : planned;
    // Lifting a restriction undoes it everywhere; nothing else changes.
    stores.push(mode === 'lift' ? { ...slice, entries: slice.entries.map((e) => ({ ...e, action: 'unrestrict' as const, basis: 'restriction-lifted' })) } : slice);
  }
  const identityHash = sha256Hex(canonicalJson((await rt.workspace.getJson(docKeys.identity(requestId))) ?? {}));
  const plan: Plan = { requestId, type, createdAt: now.toISOString(), identityHash, stores, holdVersions };
  const planHash = hashOf(plan);
  await rt.workspace.putJson(docKeys.plan(requestId, planHash), plan);
  const counts = Object.fromEntries(stores.map((s) => [s.store, countDecisions(s.entries)]));
  const totals = countDecisions(stores.flatMap((s) => s.entries));
  const failedStores = discovery.filter((d) => d.status === 'failed').length;
  // What a reviewer reads before approving (`dsr plan`), kept with the plan's hash.
  const breakdown = Object.fromEntries(stores.map((s) => [s.store, planBreakdown(s.entries)]));
  await rt.ledger.putPlanSummary(requestId, planHash, { counts, totals, failedStores, breakdown }, now);
  const underApproval = record.request.type === 'erasure' && rt.config.settings.approvalRequired && failedStores === 0;
  // Planning again (`dsr plan --replan`) an erasure whose plan awaits approval, was rejected,
  // or met a hold change replaces the plan under review; otherwise a dry run changes nothing.
  const replacesReview = mode === 'plan' && underApproval && REVIEWABLE.has(record.status);
  const awaiting = underApproval && (mode === 'run' || replacesReview);
  const dryRunOnly = mode === 'plan' && !replacesReview && record.status !== 'received' && record.status !== 'planned';
  if (!dryRunOnly) await rt.ledger.setStatus(requestId, awaiting ? 'awaiting-approval' : mode === 'plan' ? 'planned' : 'running', now, { planHash, ...(replacesReview ? { reason: null } : {}) });
  return { planHash, counts, totals, failedStores };
});
