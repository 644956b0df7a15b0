/**
 * RecordFailure: the ledger says which step failed (the error's name), never its details. A
 * cancel seen by a Task (RequestCancelled) ends here too: the `cancelled` receipt says what each
 * store had done, and the machine ends in RequestCancelled (functions/core/cancel.ts).
 */
import { z } from 'zod';
import { recordCancellation } from '../core/cancel';
import { releaseErasureLeases } from '../core/erasure-lock';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';

export const handler = taskHandler('record-failure', z.object({ requestId: RequestIdSchema, error: z.string().max(256) }), async ({ requestId, error }) => {
  const rt = getRuntime();
  const record = await rt.ledger.getRequest(requestId);
  if (record && error === 'RequestCancelled' && record.cancelRequested) {
    const receipt = await recordCancellation(rt, record, { now: rt.clock.now() });
    return { recorded: true, cancelled: true, receiptSequence: receipt.sequence };
  }
  if (record) {
    await rt.ledger.setStatus(requestId, 'failed', rt.clock.now(), { reason: error });
    await releaseErasureLeases(rt, record.request.subjectId, rt.config.dataMap.stores.map((s) => s.name), requestId);
  }
  return { recorded: true, cancelled: false };
});
