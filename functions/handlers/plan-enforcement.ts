/** PlanEnforcement: the run's date, and its units of purge work (a store, or one Scan segment of it). No personal value. */
import { z } from 'zod';
import { scheduleOf } from '../core/enforcement-subjects';
import { purgeUnits, recordLimits, subjectLimits } from '../core/retention-limits';
import { runDate } from './run-date';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';

const Input = z.object({
  runId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  /** Enforce as of this date: only backwards on AWS; forwards only on the local engine (as the sweep). */
  now: z.iso.datetime({ offset: true }).optional(),
});

export const handler = taskHandler('plan-enforcement', Input, async ({ runId, now: requested }) => {
  const rt = getRuntime();
  const clockNow = rt.clock.now();
  const now = runDate(clockNow, requested, 'enforcement');
  const schedule = scheduleOf(rt);
  const units = purgeUnits(recordLimits(rt.config.dataMap, schedule));
  return { runId, now: now.toISOString(), units, subjectLimits: subjectLimits(rt.config.dataMap, schedule).map((l) => l.category) };
});
