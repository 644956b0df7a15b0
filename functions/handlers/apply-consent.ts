/** ApplyConsent: withdraw consent, or uphold an objection, per purpose the request names (functions/core/consent.ts). */
import { z } from 'zod';
import { applyConsent } from '../core/consent';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';

const Input = z.object({ requestId: RequestIdSchema });

export const handler = taskHandler('apply-consent', Input, async ({ requestId }) => applyConsent(getRuntime(), requestId));
