/** EraseDueEntry: one deferred entry swept at the sweep's date. */
import { z } from 'zod';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from '../core/runtime';
import { sweepEntry } from '../core/sweep';
import { taskHandler } from './middleware';

const Input = z.object({
  sweepId: z.string(),
  now: z.iso.datetime({ offset: true }),
  entry: z.object({ sk: z.string().min(1), requestId: RequestIdSchema, store: z.string().min(1) }),
});

export const handler = taskHandler('erase-due-entry', Input, async ({ now, entry }) => sweepEntry(getRuntime(), entry, new Date(now)));
