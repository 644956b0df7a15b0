/** BeginLogScan: the fanned-out log stores' manifests joined into the one the request's Distributed Map reads. */
import { z } from 'zod';
import { beginLogScan } from '../core/log-scan';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { ExecutionNameSchema, StoreResult } from './schemas';

const Input = z.object({ requestId: RequestIdSchema, executionName: ExecutionNameSchema, discovery: z.array(StoreResult) });

export const handler = taskHandler('begin-log-scan', Input, async ({ requestId, executionName, discovery }) =>
  beginLogScan(getRuntime(), { requestId, execution: executionName, discovery }),
);
