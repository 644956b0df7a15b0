/**
 * Test fixtures for the DynamoDB connector and identity resolution: a real DynamoDB Local,
 * small tables made by each test, a connector context that records its logs, and a request
 * counter (an SDK middleware on the real client).
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  type AttributeDefinition,
  type AttributeValue,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { createAnonymizer } from '../../functions/core/anonymize';
import { DynamoDbStoreSchema, type DynamoDbStore } from '../../functions/core/datamap';
import type { ConnectorContext } from '../../functions/connectors/types';
import { startDynamoDbLocal, type RunningDynamoDbLocal } from '../../local/dynamodb';
import { freePort } from '../../local/ports';

export const TEST_REGION = 'us-east-1';
export const TEST_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local-secret' };
export const FIXED_NOW = new Date('2026-11-22T10:00:00.000Z');

export interface LocalDynamo {
  readonly client: DynamoDBClient;
  close(): Promise<void>;
}

export async function startLocalDynamo(): Promise<LocalDynamo> {
  const running: RunningDynamoDbLocal = await startDynamoDbLocal({ port: await freePort() });
  const client = new DynamoDBClient({ endpoint: running.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  return {
    client,
    async close() {
      client.destroy();
      await running.stop();
    },
  };
}

export interface LogEntry {
  readonly event: string;
  readonly fields: Record<string, string | number | boolean | undefined>;
}

export function testContext(dynamodb: DynamoDBClient, logs: LogEntry[] = [], s3?: S3Client): ConnectorContext & { logs: LogEntry[] } {
  return {
    dynamodb,
    s3: s3 ?? new S3Client({ endpoint: 'http://127.0.0.1:1', region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true }),
    now: FIXED_NOW,
    anonymizer: createAnonymizer('a-test-only-hmac-key-0123456789'),
    log: (event, fields = {}) => logs.push({ event, fields }),
    logs,
  };
}

let tableSeq = 0;
export function uniqueName(base: string): string {
  return `${base}-${process.pid}-${++tableSeq}`;
}

export interface TableSpec {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly types?: Record<string, 'S' | 'N'>;
  readonly indexes?: ReadonlyArray<{ name: string; partitionKey: string; projection?: 'ALL' | 'KEYS_ONLY' | { include: string[] } }>;
}

export async function createTable(client: DynamoDBClient, spec: TableSpec): Promise<void> {
  const attrs = new Set<string>([spec.partitionKey, ...(spec.sortKey ? [spec.sortKey] : []), ...(spec.indexes ?? []).map((i) => i.partitionKey)]);
  const AttributeDefinitions: AttributeDefinition[] = [...attrs].map((AttributeName) => ({ AttributeName, AttributeType: spec.types?.[AttributeName] ?? 'S' }));
  const KeySchema: KeySchemaElement[] = [{ AttributeName: spec.partitionKey, KeyType: 'HASH' }];
  if (spec.sortKey) KeySchema.push({ AttributeName: spec.sortKey, KeyType: 'RANGE' });
  const GlobalSecondaryIndexes: GlobalSecondaryIndex[] | undefined = spec.indexes?.map((i) => ({
    IndexName: i.name,
    KeySchema: [{ AttributeName: i.partitionKey, KeyType: 'HASH' }],
    Projection:
      typeof i.projection === 'object'
        ? { ProjectionType: 'INCLUDE', NonKeyAttributes: i.projection.include }
        : { ProjectionType: i.projection ?? 'ALL' },
  }));
  await client.send(
    new CreateTableCommand({
      TableName: spec.name,
      AttributeDefinitions,
      KeySchema,
      BillingMode: 'PAY_PER_REQUEST',
      ...(GlobalSecondaryIndexes?.length ? { GlobalSecondaryIndexes } : {}),
    }),
  );
}

export async function putItems(client: DynamoDBClient, table: string, items: ReadonlyArray<Record<string, AttributeValue>>): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  }
}

/** A dynamodb store entry, through the schema (so defaults apply as in a loaded data map). */
export function dynamoStore(entry: Record<string, unknown>): DynamoDbStore {
  return DynamoDbStoreSchema.parse({ kind: 'dynamodb', category: 'account', ...entry });
}

export interface RequestCounter {
  readonly counts: Record<string, number>;
  reset(): void;
  stop(): void;
}

let counterSeq = 0;
/** Counts commands sent through `client` by name (one per page for paginated reads). */
export function countRequests(client: DynamoDBClient | S3Client): RequestCounter {
  const counts: Record<string, number> = {};
  const name = `test-request-counter-${++counterSeq}`;
  const stack = client.middlewareStack as DynamoDBClient['middlewareStack'];
  stack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      counts[command] = (counts[command] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name },
  );
  return {
    counts,
    reset() {
      for (const k of Object.keys(counts)) delete counts[k];
    },
    stop() {
      stack.remove(name);
    },
  };
}

/** Every personal value used in a test must be absent from every log line. */
export function expectLogsFreeOf(logs: readonly LogEntry[], values: readonly string[]): void {
  const text = JSON.stringify(logs);
  const leaked = values.filter((v) => text.includes(v));
  if (leaked.length > 0) throw new Error(`log lines carry personal values: ${leaked.length} leaked`);
}

export const S = (value: string): AttributeValue => ({ S: value });
export const N = (value: number): AttributeValue => ({ N: String(value) });
