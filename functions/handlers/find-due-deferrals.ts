/** FindDueDeferrals: the sweep's date, and the deferred entries due at it (at most sweepMaxEntries; `remaining` says how many wait for the next run). */
import { z } from 'zod';
import { deadlineSettings } from '../core/deadline-settings';
import { deadlineCounts, deadlineMetricLine } from '../core/deadlines';
import { emitMetricLine } from '../core/metrics';
import { runDate } from './run-date';
import { getRuntime } from './runtime';
import { duePage } from '../core/sweep';
import { taskHandler } from './middleware';

const Input = z.object({
  sweepId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  /** Sweep as of this date instead of now: only backwards on AWS; forwards only where the operator allows it (the local engine). */
  now: z.iso.datetime({ offset: true }).optional(),
});

export const handler = taskHandler('find-due-deferrals', Input, async ({ sweepId, now: requested }) => {
  const rt = getRuntime();
  const clockNow = rt.clock.now();
  const now = runDate(clockNow, requested, 'sweep');
  // One run takes a bounded page (its state and history have limits); the next run goes on from there.
  const { due, total } = await duePage(rt, now, rt.config.settings.sweepMaxEntries);
  // The daily sweep is also the deadline check: the alarm on RequestsNearingDeadline reads this line (EMF).
  // The real clock, not the sweep's date: a deadline is now or never.
  const deadlines = await deadlineCounts(rt, clockNow, deadlineSettings(rt.config.settings).nearingDays);
  emitMetricLine(deadlineMetricLine(deadlines, clockNow));
  return { sweepId, now: now.toISOString(), due, count: due.length, remaining: total - due.length, deadlines };
});
