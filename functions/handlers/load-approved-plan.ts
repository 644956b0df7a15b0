/** LoadApprovedPlan: the plan to apply is the one support approved, unchanged. */
import { z } from 'zod';
import { throwIfCancelled } from '../core/cancel';
import { RequestRefusedError } from '../core/errors';
import { countDecisions } from '../core/plan';
import { loadPlan } from '../core/request-data';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { HashSchema } from './schemas';

export const handler = taskHandler('load-approved-plan', z.object({ requestId: RequestIdSchema, planHash: HashSchema }), async ({ requestId, planHash }) => {
  const rt = getRuntime();
  const record = await rt.ledger.getRequest(requestId);
  throwIfCancelled(record);
  if (record?.approval?.planHash !== planHash) throw new RequestRefusedError('not-approved', 'the plan to apply is not the approved plan');
  const plan = await loadPlan(rt, requestId, planHash);
  await rt.ledger.setStatus(requestId, 'running', rt.clock.now());
  return {
    planHash,
    counts: Object.fromEntries(plan.stores.map((s) => [s.store, countDecisions(s.entries)])),
    totals: countDecisions(plan.stores.flatMap((s) => s.entries)),
  };
});
