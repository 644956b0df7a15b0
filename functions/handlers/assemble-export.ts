/** AssembleExport: the access report (access) or the portability bundle (portability). */
import { z } from 'zod';
import { assembleAccessReport, assemblePortabilityBundle } from '../core/bundle';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from '../core/runtime';
import { taskHandler } from './middleware';
import { HashSchema, StoreResult } from './schemas';

const Input = z.object({ requestId: RequestIdSchema, type: z.enum(['access', 'portability']), planHash: HashSchema, export: z.array(StoreResult) });

export const handler = taskHandler('assemble-export', Input, async ({ requestId, type, planHash, export: stores }) => {
  const rt = getRuntime();
  const storeNames = stores.filter((s) => s.status === 'ok').map((s) => s.store);
  const result = type === 'access' ? await assembleAccessReport(rt, requestId, planHash, storeNames) : await assemblePortabilityBundle(rt, requestId, planHash, storeNames);
  return result;
});
