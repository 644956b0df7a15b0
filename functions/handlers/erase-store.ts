/** EraseStore / RestrictStore: apply one store's slice of the plan through its connector. */
import type { PlannedAction } from '../connectors/types';
import { throwIfCancelled } from '../core/cancel';
import { acquireErasureLease } from '../core/erasure-lock';
import { InvalidInputError, RequestNotFoundError, RequestStateError } from '../core/errors';
import { docKeys, loadFindings, loadIdentity, loadPlan, storeNamed } from '../core/request-data';
import { keepIdentity } from '../core/resume';
import { queueForLogPass } from '../core/log-pass-route';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { StoreTaskInput } from './schemas';

const DESTRUCTIVE = new Set(['delete', 'anonymize', 'redact-mentions']);

async function applyStorePlan({ requestId, store: storeName, planHash }: StoreTaskInput) {
  const rt = getRuntime();
  if (!planHash) throw new InvalidInputError('a plan hash is required to apply a plan');
  const store = storeNamed(rt, storeName);
  const record = await rt.ledger.getRequest(requestId);
  if (!record) throw new RequestNotFoundError(requestId);
  // A unit of work: a cancel seen here leaves this store untouched; one that comes later lets it finish whole.
  throwIfCancelled(record);
  const plan = await loadPlan(rt, requestId, planHash);
  const slice = plan.stores.find((s) => s.store === storeName);
  if (!slice) return { store: storeName, status: 'ok', counts: {} };
  if (slice.queued) {
    // The batched pass erases this store's records; it needs the identity until it has.
    await keepIdentity(rt, requestId, await loadIdentity(rt, requestId));
    await queueForLogPass(rt, { requestId, store: storeName, planHash, receivedAt: record.request.receivedAt, dueAt: record.dueAt });
    return { store: storeName, status: 'ok', counts: { queued: 1 } };
  }
  const findings = new Map((await loadFindings(rt, requestId, storeName)).map((f) => [f.id, f]));
  const actions: PlannedAction[] = slice.entries
    .filter((e) => e.action !== 'keep')
    .map((e) => {
      const finding = findings.get(e.findingId);
      if (!finding) throw new RequestStateError(`plan entry ${e.findingId.slice(0, 12)} has no finding`, { requestId, store: storeName });
      return { finding, action: e.action };
    });
  const identity = await loadIdentity(rt, requestId);
  if (actions.some((a) => DESTRUCTIVE.has(a.action))) {
    if (!plan.holdVersions) throw new RequestStateError(`request ${requestId} cannot take an erasure lease: its plan records no hold versions`, { requestId });
    // Before anything is erased (even by another request of the same subject, which may hold
    // the lease): the identity outlives the account record, for a resume.
    await keepIdentity(rt, requestId, identity);
    await acquireErasureLease(rt, { subjectId: record.request.subjectId, store: storeName, owner: requestId, leaseId: requestId, seen: plan.holdVersions });
  }
  const result = actions.length > 0 ? await rt.connectors(store).apply(store, identity, actions, rt.connectorContext()) : { applied: {}, refused: [], missing: [] };
  await rt.workspace.putJson(docKeys.applied(requestId, storeName), result);
  const counts: Record<string, number> = { ...result.applied, refused: result.refused.length, missing: result.missing.length };
  if (result.malformedKept !== undefined) counts.malformedKept = result.malformedKept;
  // Versions uploaded while the key was being erased: no plan covered them; left and reported.
  if (result.appeared?.length) counts.appeared = result.appeared.length;
  return { store: storeName, status: 'ok', counts };
}

export const handler = taskHandler('erase-store', StoreTaskInput, applyStorePlan);
export const restrictHandler = taskHandler('restrict-store', StoreTaskInput, applyStorePlan);
