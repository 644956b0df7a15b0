/** FinishLogPass: one chained receipt per request of the pass, queue entries done or postponed, leases and identities let go. */
import { z } from 'zod';
import { finishLogPass } from '../core/log-pass-finish';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';

export const handler = taskHandler('finish-log-pass', z.object({ passId: z.string().regex(/^[0-9]{8}-[0-9a-f]{8}$/) }), async ({ passId }) => finishLogPass(getRuntime(), passId));
