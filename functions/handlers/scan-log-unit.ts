/** ScanLogUnit: one work unit of a fanned-out log store, scanned for the request's subject (a Distributed Map child). */
import { z } from 'zod';
import { scanLogUnit, UNIT_ID } from '../core/log-scan';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { ExecutionNameSchema } from './schemas';

/** What the ItemBatcher hands each child: one manifest line and the request's BatchInput. */
const Input = z.object({
  Items: z
    .array(
      z.object({
        unit: z.string().regex(UNIT_ID),
        store: z.string().min(1),
        keys: z.number().int().nonnegative(),
        versions: z.number().int().nonnegative(),
        storedBytes: z.number().nonnegative(),
        bytes: z.number().nonnegative(),
      }),
    )
    .length(1),
  BatchInput: z.object({ requestId: RequestIdSchema, executionName: ExecutionNameSchema }),
});

export const handler = taskHandler('scan-log-unit', Input, async ({ Items, BatchInput }) =>
  scanLogUnit(getRuntime(), { requestId: BatchInput.requestId, execution: BatchInput.executionName, line: Items[0] }),
);
