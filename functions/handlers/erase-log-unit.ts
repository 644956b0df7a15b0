/** EraseLogUnit: one work unit of the log-erasure pass, for every subject of the pass (a Distributed Map child). */
import { z } from 'zod';
import { eraseLogUnit } from '../core/log-pass-unit';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { unitBatchInput } from './schemas';

const PassId = z.string().regex(/^[0-9]{8}-[0-9a-f]{8}$/);

/** What the ItemBatcher hands each child: one manifest line and the pass's BatchInput. */
const Input = unitBatchInput(/^[0-9]{6,}$/, z.object({ passId: PassId, now: z.iso.datetime({ offset: true }) }));

export const handler = taskHandler('erase-log-unit', Input, async ({ Items, BatchInput }) =>
  eraseLogUnit(getRuntime(), { passId: BatchInput.passId, now: BatchInput.now, line: Items[0] }),
);
