/** ScanLogUnit: one work unit of a fanned-out log store, scanned for the request's subject and, for access and portability, exported (a Distributed Map child). */
import { z } from 'zod';
import { scanLogUnit, UNIT_ID } from '../core/log-scan';
import { REQUEST_TYPES, RequestIdSchema } from '../core/request';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { ExecutionNameSchema, unitBatchInput } from './schemas';

/** What the ItemBatcher hands each child: one manifest line and the request's BatchInput (its type says whether the unit exports too). */
const Input = unitBatchInput(UNIT_ID, z.object({ requestId: RequestIdSchema, executionName: ExecutionNameSchema, requestType: z.enum(REQUEST_TYPES).optional() }));

export const handler = taskHandler('scan-log-unit', Input, async ({ Items, BatchInput }) =>
  scanLogUnit(getRuntime(), { requestId: BatchInput.requestId, execution: BatchInput.executionName, line: Items[0], requestType: BatchInput.requestType }),
);
