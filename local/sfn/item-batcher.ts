/**
 * ItemBatcher: groups items into child inputs `{ BatchInput?, Items: [...] }` by MaxItemsPerBatch
 * and MaxInputBytesPerBatch (UTF-8 bytes of the child input; AWS caps the latter at 256 KiB).
 */
import { simplePath } from './definition';
import { MapRunFailure } from './item-reader';
import { MAX_PAYLOAD_BYTES } from './limits';
import { resolveTemplate } from './paths';

interface BatcherSpec {
  MaxItemsPerBatch?: number;
  MaxItemsPerBatchPath?: string;
  MaxInputBytesPerBatch?: number;
  MaxInputBytesPerBatchPath?: string;
  BatchInput?: unknown;
}

const positive = (value: unknown, field: string, cap: number): number => {
  if (value === undefined) return cap;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new MapRunFailure('States.Runtime', `${field} must be a positive integer, got ${JSON.stringify(value)}`);
  return Math.min(value, cap);
};

export function batchItems(spec: BatcherSpec, items: unknown[], input: unknown, context: unknown): unknown[] {
  const maxItems = positive(spec.MaxItemsPerBatchPath ? simplePath(spec.MaxItemsPerBatchPath, input) : spec.MaxItemsPerBatch, 'MaxItemsPerBatch', Infinity);
  const maxBytes = positive(spec.MaxInputBytesPerBatchPath ? simplePath(spec.MaxInputBytesPerBatchPath, input) : spec.MaxInputBytesPerBatch, 'MaxInputBytesPerBatch', MAX_PAYLOAD_BYTES);
  const batchInput = spec.BatchInput === undefined ? undefined : resolveTemplate(spec.BatchInput, input, context);
  // `{"BatchInput":…,"Items":[` + items joined by commas + `]}`: sized incrementally, not re-serialised.
  const base = Buffer.byteLength(JSON.stringify(batchInput === undefined ? { Items: [] } : { BatchInput: batchInput, Items: [] }), 'utf8');
  const batches: unknown[] = [];
  let current: unknown[] = [];
  let bytes = base;
  const flush = (): void => {
    if (current.length === 0) return;
    batches.push(batchInput === undefined ? { Items: current } : { BatchInput: batchInput, Items: current });
    current = [];
    bytes = base;
  };
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item ?? null), 'utf8') + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && (current.length >= maxItems || bytes + size > maxBytes)) flush();
    const own = Buffer.byteLength(JSON.stringify(item ?? null), 'utf8');
    if (base + own > maxBytes) throw new MapRunFailure('States.Runtime', `An item is larger than MaxInputBytesPerBatch (${maxBytes} bytes) on its own.`);
    bytes += current.length > 0 ? own + 1 : own;
    current.push(item);
  }
  flush();
  return batches;
}
