/** Input schemas of the Task states, next to the handlers that use them. */
import { z } from 'zod';
import { RequestIdSchema } from '../core/request';

const hash = z.string().regex(/^[0-9a-f]{64}$/);
/** Request ids and the suffixes of their modes (functions/core/request.ts executionName): letters, digits, `-`, `_`. */
export const ExecutionNameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/);

export const StoreTaskInput = z.object({
  requestId: RequestIdSchema,
  store: z.string().min(1),
  kind: z.enum(['dynamodb', 's3-objects', 's3-records']),
  planHash: hash.optional(),
  /** The execution's name: where a fanned-out log store's work units live (functions/core/log-scan.ts). */
  executionName: ExecutionNameSchema.optional(),
});
export type StoreTaskInput = z.infer<typeof StoreTaskInput>;

/** What each store's branch of a Map returns: a store name, a status and counts. */
export const StoreResult = z.object({
  store: z.string(),
  status: z.enum(['ok', 'failed']),
  counts: z.record(z.string(), z.number()).optional(),
  error: z.string().optional(),
});
export type StoreResult = z.infer<typeof StoreResult>;

export { hash as HashSchema };

/**
 * What a Distributed Map's ItemBatcher hands one child of a log pass or a log scan: exactly one
 * manifest line (unit id, store, sizes; no key, no personal value) and the parent's BatchInput.
 */
export function unitBatchInput<B extends z.ZodTypeAny>(unitId: RegExp, batchInput: B) {
  return z.object({
    Items: z
      .array(
        z.object({
          unit: z.string().regex(unitId),
          store: z.string().min(1),
          keys: z.number().int().nonnegative(),
          versions: z.number().int().nonnegative(),
          storedBytes: z.number().nonnegative(),
          bytes: z.number().nonnegative(),
        }),
      )
      .length(1),
    BatchInput: batchInput,
  });
}
