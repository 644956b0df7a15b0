/** ValidateRequest: the request exists, is unaltered, and carries a fresh verification. */
import { z } from 'zod';
import { EXECUTION_MODES, RequestIdSchema } from '../core/request';
import { getRuntime } from './runtime';
import { checkRequest } from '../core/validation';
import { throwIfCancelled } from '../core/cancel';
import { taskHandler } from './middleware';

const Input = z.object({
  requestId: RequestIdSchema,
  requestHash: z.string(),
  mode: z.enum(EXECUTION_MODES),
  executionName: z.string(),
});

export const handler = taskHandler('validate-request', Input, async (input) => {
  const rt = getRuntime();
  const record = await rt.ledger.getRequest(input.requestId);
  // Cancelled before this execution began (or a resume of a cancelled request): it stops here.
  throwIfCancelled(record);
  const now = rt.clock.now();
  const verdict = checkRequest(record, input, rt.config.settings, now, rt.config.dataMap.purposes);
  if (verdict.decision === 'refused') {
    if (record) await rt.ledger.setStatus(input.requestId, 'refused', now, { reason: verdict.reason });
  } else if (input.mode !== 'plan') {
    await rt.ledger.setStatus(input.requestId, 'running', now);
  }
  return {
    decision: verdict.decision,
    reason: verdict.decision === 'refused' ? verdict.reason : null,
    type: record?.request.type ?? null,
    mode: input.mode,
    // A request limited to some stores (a retention limit of one category) runs on those only.
    stores: rt.config.dataMap.stores.filter((s) => !record?.request.stores || record.request.stores.includes(s.name)).map((s) => ({ name: s.name, kind: s.kind })),
    approvalRequired: rt.config.settings.approvalRequired,
  };
});
