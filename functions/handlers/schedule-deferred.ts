/**
 * ScheduleDeferred: retained and held records enter the deferred ledger with their due date,
 * and the subject's identity is kept (outside the expiring request prefix) for the sweep that
 * will erase them.
 */
import { z } from 'zod';
import { throwIfCancelled } from '../core/cancel';
import { scheduleDeferred } from '../core/deferred';
import { loadIdentity, loadPlan } from '../core/request-data';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from './runtime';
import { deferredIdentityKey } from '../core/sweep';
import { taskHandler } from './middleware';
import { HashSchema } from './schemas';

export const handler = taskHandler('schedule-deferred', z.object({ requestId: RequestIdSchema, planHash: HashSchema }), async ({ requestId, planHash }) => {
  const rt = getRuntime();
  // The last point a cancel stops an erasure: nothing of a cancelled request waits for the sweep.
  throwIfCancelled(await rt.ledger.getRequest(requestId));
  const plan = await loadPlan(rt, requestId, planHash);
  const result = await scheduleDeferred(rt, plan, planHash);
  if (result.scheduled > 0) await rt.workspace.putJsonOnce(deferredIdentityKey(requestId), await loadIdentity(rt, requestId));
  return result;
});
