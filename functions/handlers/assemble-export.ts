/** AssembleExport: the access report (access) or the portability bundle (portability). */
import { z } from 'zod';
import { assembleAccessReport, assemblePortabilityBundle } from '../core/bundle';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { HashSchema, StoreResult } from './schemas';

const Input = z.object({ requestId: RequestIdSchema, type: z.enum(['access', 'portability']), planHash: HashSchema, export: z.array(StoreResult) });

export const handler = taskHandler('assemble-export', Input, async ({ requestId, type, planHash, export: stores }) => {
  const rt = getRuntime();
  const storeNames = stores.filter((s) => s.status === 'ok').map((s) => s.store);
  // A failed store is named in the overview, so the subject sees what is not there.
  const failedStores = stores.filter((s) => s.status === 'failed').map((s) => s.store);
  if (type === 'access') return assembleAccessReport(rt, requestId, planHash, storeNames, { failedStores });
  const { bundleKey, bundleHash, files, records, bytes } = await assemblePortabilityBundle(rt, requestId, planHash, storeNames, { failedStores });
  return { bundleKey, bundleHash, files, records, bytes };
});
