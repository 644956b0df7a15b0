/**
 * How the connector's requests reach DynamoDB: SDK failures become StoreUnavailable naming the
 * store and the operation (never a key or a value), and a failed condition is an answer, not an
 * error.
 */
import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDbStore } from '../core/datamap';
import { DataMapError, StoreUnavailableError } from '../core/errors';
import type { BatchTarget } from '../aws/dynamodb-batch';
import type { TableInfo } from './dynamodb-table';

export function batchTarget(client: DynamoDBClient, store: DynamoDbStore, info: TableInfo): BatchTarget {
  return { client, store: store.name, table: store.table, partitionKey: info.partitionKey, ...(info.sortKey ? { sortKey: info.sortKey } : {}) };
}

/** UpdateItem; `false` when its condition failed. */
export async function conditionalUpdate(store: DynamoDbStore, client: DynamoDBClient, input: ConstructorParameters<typeof UpdateItemCommand>[0]): Promise<boolean> {
  try {
    await client.send(new UpdateItemCommand(input));
    return true;
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') return false;
    throw new StoreUnavailableError(store.name, `UpdateItem failed (${(err as Error).name})`, { cause: err });
  }
}

/** SDK errors become StoreUnavailable naming the operation; our own errors pass through. */
export async function guard<T>(store: DynamoDbStore, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof StoreUnavailableError || err instanceof DataMapError) throw err;
    throw new StoreUnavailableError(store.name, `${operation} failed (${(err as Error).name})`, { cause: err });
  }
}
