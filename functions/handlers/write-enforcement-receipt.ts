/** WriteEnforcementReceipt: one chained receipt per enforcement run, with counts and bases per store and per limit. */
import { z } from 'zod';
import { appendReceipt } from '../core/receipt';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';

const Counts = z.object({
  itemsRead: z.number(),
  pastLimit: z.number(),
  purged: z.number(),
  kept: z.record(z.string(), z.number()),
  readUnits: z.number(),
  writeUnits: z.number(),
});
const Purge = z.object({ store: z.string(), segment: z.number(), status: z.string(), basis: z.string().optional(), counts: Counts.optional(), error: z.string().optional() });
const LimitCounts = z.record(z.string(), z.number());
const Input = z.object({
  runId: z.string(),
  now: z.iso.datetime({ offset: true }),
  /** `error`: StartRetentionErasures failed (its error name); the purges still ran. */
  subjects: z.object({ byLimit: z.record(z.string(), LimitCounts), started: z.number(), error: z.string().optional() }),
  purges: z.array(Purge),
});

export const handler = taskHandler('write-enforcement-receipt', Input, async ({ runId, now, subjects, purges }) => {
  const subjectsError = subjects.error;
  const rt = getRuntime();
  // Segments of one store add up to the store's line.
  const stores: Record<string, { basis: string | null; itemsRead: number; pastLimit: number; purged: number; kept: Record<string, number>; readUnits: number; writeUnits: number; status: string[] }> = {};
  for (const p of purges) {
    const s = (stores[p.store] ??= { basis: p.basis ?? null, itemsRead: 0, pastLimit: 0, purged: 0, kept: {}, readUnits: 0, writeUnits: 0, status: [] });
    s.basis ||= p.basis || null;
    s.status.push(p.status === 'failed' ? `failed:${p.error ?? 'unknown'}` : p.status);
    if (!p.counts) continue;
    s.itemsRead += p.counts.itemsRead;
    s.pastLimit += p.counts.pastLimit;
    s.purged += p.counts.purged;
    s.readUnits = Math.round((s.readUnits + p.counts.readUnits) * 1000) / 1000;
    s.writeUnits += p.counts.writeUnits;
    for (const [basis, n] of Object.entries(p.counts.kept)) s.kept[basis] = (s.kept[basis] ?? 0) + n;
  }
  const failed = purges.filter((p) => p.status === 'failed').length + (subjectsError ? 1 : 0);
  const receipt = await appendReceipt(rt, {
    receiptVersion: 1,
    kind: 'retention',
    id: runId,
    runId,
    enforcedAt: now,
    subjectLimits: subjects.byLimit,
    subjectLimitsError: subjectsError ?? null,
    stores: Object.fromEntries(Object.entries(stores).map(([name, s]) => [name, { ...s, status: [...new Set(s.status)].sort() }])),
  });
  const purged = Object.values(stores).reduce((n, s) => n + s.purged, 0);
  return { receiptKey: `receipt/${receipt.sequence}`, purged, started: subjects.started, failed };
});
