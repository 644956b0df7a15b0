/** BeginLogPass: take the queued log erasures (or resume an unfinished pass) and write the pass's work units. */
import { z } from 'zod';
import { beginLogPass } from '../core/log-pass';
import { LOG_QUEUE_METRICS } from '../core/log-queue';
import { emitMetricLine, metricLine } from '../core/metrics';
import { runDate } from './run-date';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';

const Input = z.object({
  executionName: z.string().min(1).max(80),
  input: z
    .object({
      /** Run a pass now even if none is due (`dsr logs erase-pending`). */
      force: z.boolean().default(false),
      /** Decide as of this date: only backwards on AWS; forwards only where the operator allows it (the local engine). */
      now: z.iso.datetime({ offset: true }).optional(),
    })
    .strict(),
});

export const handler = taskHandler('begin-log-pass', Input, async ({ input }) => {
  const rt = getRuntime();
  const clockNow = rt.clock.now();
  const now = runDate(clockNow, input.now, 'pass');
  const start = await beginLogPass(rt, { force: input.force, now });
  // Every run is also the queue check: the LogErasuresOverdue alarm reads this line (EMF).
  emitMetricLine(metricLine({ [LOG_QUEUE_METRICS.queued]: start.queue.queued, [LOG_QUEUE_METRICS.overdue]: start.queue.overdue }, clockNow));
  return start;
});
