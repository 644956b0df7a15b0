/** StartRetentionErasures: a system-originated erasure for each subject past a subject-level limit; counts out, subject ids never. */
import { z } from 'zod';
import { enforceSubjectLimits } from '../core/enforcement-subjects';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';

const Input = z.object({
  runId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  now: z.iso.datetime({ offset: true }),
  /** The subject-request machine (an ASL substitution: this function is not part of that machine, so no cycle). */
  stateMachineArn: z.string().regex(/^arn:aws[a-z-]*:states:/),
});

export const handler = taskHandler('start-retention-erasures', Input, async ({ runId, now, stateMachineArn }) =>
  enforceSubjectLimits(getRuntime(), { runId, now: new Date(now), stateMachineArn, maxStarts: getRuntime().config.settings.enforcementMaxStartsPerRun }),
);
