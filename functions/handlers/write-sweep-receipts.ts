/** WriteSweepReceipts: one chained receipt per request the sweep changed. */
import { z } from 'zod';
import { appendReceipt } from '../core/receipt';
import { getRuntime } from './runtime';
import { forgetIdentityWhenDone } from '../core/sweep';
import { taskHandler } from './middleware';

const Result = z.object({ requestId: z.string(), store: z.string(), status: z.enum(['done', 'skipped', 'failed']), counts: z.record(z.string(), z.number()).optional(), error: z.string().optional() });
const Input = z.object({ sweepId: z.string(), now: z.iso.datetime({ offset: true }), results: z.array(Result) });

const ERASING_ACTIONS = ['delete', 'anonymize', 'redact-mentions'];

export const handler = taskHandler('write-sweep-receipts', Input, async ({ sweepId, now, results }) => {
  const rt = getRuntime();
  const byRequest = new Map<string, z.infer<typeof Result>[]>();
  for (const r of results) {
    if (r.status === 'skipped') continue;
    byRequest.set(r.requestId, [...(byRequest.get(r.requestId) ?? []), r]);
  }
  let receipts = 0;
  let erased = 0;
  for (const [requestId, entries] of byRequest) {
    const stores: Record<string, Record<string, number>> = {};
    for (const e of entries) {
      stores[e.store] = { ...(stores[e.store] ?? {}), ...(e.counts ?? {}) };
      erased += ERASING_ACTIONS.reduce((n, a) => n + (e.counts?.[a] ?? 0), 0);
    }
    await appendReceipt(rt, {
      receiptVersion: 1,
      kind: 'sweep',
      id: `${sweepId}.${requestId}`,
      sweepId,
      requestId,
      sweptAt: now,
      stores,
      failedStores: entries.filter((e) => e.status === 'failed').map((e) => ({ store: e.store, error: e.error ?? 'unknown' })),
    });
    receipts++;
    await forgetIdentityWhenDone(rt, requestId);
  }
  return { receipts, erased, failed: results.filter((r) => r.status === 'failed').length };
});
