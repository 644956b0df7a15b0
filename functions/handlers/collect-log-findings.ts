/** CollectLogFindings: the work units' findings of each fanned-out log store, joined into its findings document. */
import { z } from 'zod';
import { collectLogFindings } from '../core/log-scan';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { ExecutionNameSchema, StoreResult } from './schemas';

const Input = z.object({ requestId: RequestIdSchema, executionName: ExecutionNameSchema, discovery: z.array(StoreResult) });

export const handler = taskHandler('collect-log-findings', Input, async ({ requestId, executionName, discovery }) => ({
  discovery: await collectLogFindings(getRuntime(), { requestId, execution: executionName, discovery }),
}));
