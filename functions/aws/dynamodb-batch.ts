/**
 * BatchGetItem and BatchWriteItem (deletes, puts) with the retries DynamoDB asks for: whatever comes
 * back as UnprocessedKeys / UnprocessedItems is sent again after a jittered exponential backoff,
 * a bounded number of times, then the work fails with a typed error naming the store and the
 * count left (never a key).
 */
import { BatchGetItemCommand, BatchWriteItemCommand, type DynamoDBClient, type KeysAndAttributes, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { backoffDelay, sleep, type BackoffOptions } from '../core/backoff';
import { StoreUnavailableError } from '../core/errors';
import { keyOf, keyString, type Item } from './dynamodb-keys';

export const BATCH_GET_LIMIT = 100;
export const BATCH_WRITE_LIMIT = 25;

/** Batch work left unprocessed after every attempt. Same `name` as StoreUnavailable: the state machine retries it. */
export class UnprocessedItemsError extends StoreUnavailableError {
  public readonly store: string;
  public readonly left: number;
  constructor(store: string, operation: string, left: number, attempts: number) {
    super(store, `${operation}: ${left} item(s) still unprocessed after ${attempts} attempts`);
    this.store = store;
    this.left = left;
    if (this.details) Object.assign(this.details, { left, operation });
  }
}

export interface BatchTarget {
  readonly client: DynamoDBClient;
  readonly store: string;
  readonly table: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
}

export interface BatchStats {
  requests: number;
  retries: number;
}

/** Reads whole items by key (strongly consistent). Result: keyString → item; absent keys are absent. */
export async function batchGetItems(target: BatchTarget, keys: readonly Item[], backoff: BackoffOptions, stats?: BatchStats): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  const unique = uniqueKeys(keys);
  for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
    let pending: KeysAndAttributes | undefined = { Keys: unique.slice(i, i + BATCH_GET_LIMIT), ConsistentRead: true };
    for (let attempt = 1; pending?.Keys?.length; attempt++) {
      if (attempt > backoff.maxAttempts) throw new UnprocessedItemsError(target.store, 'BatchGetItem', pending.Keys.length, backoff.maxAttempts);
      if (attempt > 1) {
        if (stats) stats.retries++;
        await sleep(backoffDelay(attempt - 1, backoff));
      }
      if (stats) stats.requests++;
      const out = await send(target, () => target.client.send(new BatchGetItemCommand({ RequestItems: { [target.table]: pending as KeysAndAttributes } })), 'BatchGetItem');
      for (const item of out.Responses?.[target.table] ?? []) {
        found.set(keyString(keyOf(item, target.partitionKey, target.sortKey)), item);
      }
      pending = out.UnprocessedKeys?.[target.table];
    }
  }
  return found;
}

/** Deletes items by key in chunks of 25. Deleting an absent key is not an error in DynamoDB. */
export async function batchDeleteItems(target: BatchTarget, keys: readonly Item[], backoff: BackoffOptions, stats?: BatchStats): Promise<number> {
  const unique = uniqueKeys(keys);
  await batchWrite(
    target,
    unique.map((Key) => ({ DeleteRequest: { Key } })),
    backoff,
    stats,
  );
  return unique.length;
}

/** Puts whole items in chunks of 25; a put replaces the item with the same key, as PutItem does. */
export async function batchPutItems(target: BatchTarget, items: readonly Item[], backoff: BackoffOptions, stats?: BatchStats): Promise<number> {
  await batchWrite(
    target,
    items.map((Item) => ({ PutRequest: { Item } })),
    backoff,
    stats,
  );
  return items.length;
}

async function batchWrite(target: BatchTarget, all: readonly WriteRequest[], backoff: BackoffOptions, stats?: BatchStats): Promise<void> {
  for (let i = 0; i < all.length; i += BATCH_WRITE_LIMIT) {
    let pending: WriteRequest[] = all.slice(i, i + BATCH_WRITE_LIMIT);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > backoff.maxAttempts) {
        const left = pending.length + (all.length - Math.min(all.length, i + BATCH_WRITE_LIMIT));
        throw new UnprocessedItemsError(target.store, 'BatchWriteItem', left, backoff.maxAttempts);
      }
      if (attempt > 1) {
        if (stats) stats.retries++;
        await sleep(backoffDelay(attempt - 1, backoff));
      }
      if (stats) stats.requests++;
      const requests = pending;
      const out = await send(target, () => target.client.send(new BatchWriteItemCommand({ RequestItems: { [target.table]: requests } })), 'BatchWriteItem');
      pending = out.UnprocessedItems?.[target.table] ?? [];
    }
  }
}

function uniqueKeys(keys: readonly Item[]): Item[] {
  const seen = new Map<string, Item>();
  for (const key of keys) seen.set(keyString(key), key);
  return [...seen.values()];
}

async function send<T>(target: BatchTarget, call: () => Promise<T>, operation: string): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new StoreUnavailableError(target.store, `${operation} failed (${(err as Error).name})`, { cause: err });
  }
}
