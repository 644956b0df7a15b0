/** PlanEnforcement: the run's date, and its units of purge work (a store, or one Scan segment of it). No personal value. */
import { z } from 'zod';
import { scheduleOf } from '../core/enforcement-subjects';
import { InvalidInputError } from '../core/errors';
import { purgeUnits, recordLimits, subjectLimits } from '../core/retention-limits';
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
  const now = requested ? new Date(requested) : clockNow;
  // Enforcing "in the future" would erase what may still be kept.
  if (now.getTime() > clockNow.getTime() + 60_000 && process.env.DSR_ALLOW_SWEEP_IN_FUTURE !== 'true') {
    throw new InvalidInputError('the enforcement date is in the future; only a local engine allows that');
  }
  const schedule = scheduleOf(rt);
  const units = purgeUnits(recordLimits(rt.config.dataMap, schedule));
  return { runId, now: now.toISOString(), units, subjectLimits: subjectLimits(rt.config.dataMap, schedule).map((l) => l.category) };
});
