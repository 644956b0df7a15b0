/** PurgeExpiredRecords: one store (or one Scan segment) purged of what is past its record-level limit, holds respected. */
import { z } from 'zod';
import { purgeUnit } from '../core/enforcement-purge';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';

const Input = z.object({
  runId: z.string(),
  now: z.iso.datetime({ offset: true }),
  unit: z.object({ store: z.string().min(1), method: z.enum(['index', 'scan']), segment: z.number().int().min(0), segments: z.number().int().min(1) }),
});

export const handler = taskHandler('purge-expired-records', Input, async ({ runId, now, unit }) => purgeUnit(getRuntime(), unit, new Date(now), runId));
