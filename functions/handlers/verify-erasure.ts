/**
 * VerifyErasure: discover again after erasing. What remains is expected (retained, restricted,
 * third-party records now redacted), held (an S3 legal hold or Object Lock, a hold from the
 * ledger: refused, and reported as such), or unexpected, and the receipt says which.
 */
import { z } from 'zod';
import type { ApplyResult } from '../connectors/types';
import { excusesRemaining, foundIdentities, isHeld, keptIdentities, refusedFindings } from '../core/outcomes';
import { docKeys, loadFindings, loadIdentity, loadPlan, storeNamed } from '../core/request-data';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { HashSchema } from './schemas';

export const handler = taskHandler('verify-erasure', z.object({ requestId: RequestIdSchema, planHash: HashSchema }), async ({ requestId, planHash }) => {
  const rt = getRuntime();
  const plan = await loadPlan(rt, requestId, planHash);
  const identity = await loadIdentity(rt, requestId);
  const byStore: Record<string, { remaining: number; held: number; unexpected: number }> = {};
  let remaining = 0;
  let held = 0;
  let unexpected = 0;
  for (const slice of plan.stores) {
    // Verified by the pass: each rewritten object is read back before it replaces the original.
    if (slice.queued) {
      byStore[slice.store] = { remaining: 0, held: 0, unexpected: 0 };
      continue;
    }
    const store = storeNamed(rt, slice.store);
    const applied = await rt.workspace.getJson<ApplyResult>(docKeys.applied(requestId, slice.store));
    const refused = refusedFindings(slice, applied);
    const kept = new Set(slice.entries.filter((e) => e.action === 'restrict' || e.action === 'keep').map((e) => e.findingId));
    for (const [id, reason] of refused) {
      if (excusesRemaining(reason)) kept.add(id);
      else kept.delete(id);
    }
    const keptAs = new Set<string>();
    const heldAs = new Set<string>();
    for (const f of await loadFindings(rt, requestId, slice.store)) {
      if (!kept.has(f.id)) continue;
      const reason = refused.get(f.id);
      for (const k of keptIdentities(f)) {
        keptAs.add(k);
        if (reason !== undefined && isHeld(reason)) heldAs.add(k);
      }
    }
    const found = await rt.connectors(store).discover(store, identity, rt.connectorContext());
    let storeHeld = 0;
    let storeUnexpected = 0;
    for (const f of found) {
      const as = foundIdentities(f);
      if (as.some((k) => heldAs.has(k))) storeHeld++;
      else if (!as.some((k) => keptAs.has(k))) storeUnexpected++;
    }
    byStore[slice.store] = { remaining: found.length, held: storeHeld, unexpected: storeUnexpected };
    remaining += found.length;
    held += storeHeld;
    unexpected += storeUnexpected;
  }
  return { remaining, held, unexpected, byStore };
});
