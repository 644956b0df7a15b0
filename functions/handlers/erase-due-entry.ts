/** EraseDueEntry: one deferred entry swept at the sweep's date. */
import { z } from 'zod';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from './runtime';
import { sweepEntry } from '../core/sweep';
import { taskHandler } from './middleware';

const Input = z.object({
  sweepId: z.string(),
  now: z.iso.datetime({ offset: true }),
  entry: z.object({ requestId: RequestIdSchema, store: z.string().min(1), sks: z.array(z.string().min(1)).min(1) }),
});

export const handler = taskHandler('erase-due-entry', Input, async ({ now, entry }) => sweepEntry(getRuntime(), entry, new Date(now)));
