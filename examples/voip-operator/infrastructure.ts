/**
 * The reference operator's own resources: the tables and buckets its data lives in, before the
 * orchestrator is involved. Keys and GSIs are the ones datamap.json looks records up by (a test
 * checks they agree). `createOperatorResources` creates them idempotently.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  PutBucketVersioningCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';

const S = 'S' as const;

function gsi(name: string, attribute: string) {
  return { IndexName: name, KeySchema: [{ AttributeName: attribute, KeyType: 'HASH' as const }], Projection: { ProjectionType: 'ALL' as const } };
}

export const OPERATOR_TABLES: readonly CreateTableCommandInput[] = [
  {
    TableName: 'voip-accounts',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'accountId', AttributeType: S },
      { AttributeName: 'email', AttributeType: S },
    ],
    KeySchema: [{ AttributeName: 'accountId', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [gsi('by-email', 'email')],
  },
  {
    TableName: 'voip-billing',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'accountId', AttributeType: S },
      { AttributeName: 'invoiceId', AttributeType: S },
    ],
    KeySchema: [
      { AttributeName: 'accountId', KeyType: 'HASH' },
      { AttributeName: 'invoiceId', KeyType: 'RANGE' },
    ],
  },
  {
    TableName: 'voip-payment-tokens',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'accountId', AttributeType: S },
      { AttributeName: 'tokenId', AttributeType: S },
    ],
    KeySchema: [
      { AttributeName: 'accountId', KeyType: 'HASH' },
      { AttributeName: 'tokenId', KeyType: 'RANGE' },
    ],
  },
  {
    TableName: 'voip-cdrs',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'accountId', AttributeType: S },
      { AttributeName: 'callId', AttributeType: S },
      { AttributeName: 'calleeNumber', AttributeType: S },
    ],
    KeySchema: [
      { AttributeName: 'accountId', KeyType: 'HASH' },
      { AttributeName: 'callId', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [gsi('by-callee', 'calleeNumber')],
  },
  {
    TableName: 'voip-contacts',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'ownerAccountId', AttributeType: S },
      { AttributeName: 'contactId', AttributeType: S },
      { AttributeName: 'contactPhone', AttributeType: S },
      { AttributeName: 'contactEmail', AttributeType: S },
    ],
    KeySchema: [
      { AttributeName: 'ownerAccountId', KeyType: 'HASH' },
      { AttributeName: 'contactId', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [gsi('by-contact-phone', 'contactPhone'), gsi('by-contact-email', 'contactEmail')],
  },
  {
    TableName: 'voip-devices',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'accountId', AttributeType: S },
      { AttributeName: 'deviceId', AttributeType: S },
    ],
    KeySchema: [
      { AttributeName: 'accountId', KeyType: 'HASH' },
      { AttributeName: 'deviceId', KeyType: 'RANGE' },
    ],
  },
];

export interface BucketSpec {
  readonly name: string;
  readonly description: string;
  /** Created with Object Lock enabled (which also turns versioning on); legal holds need it. */
  readonly objectLock: boolean;
  readonly versioning: boolean;
}

export const OPERATOR_BUCKETS: readonly BucketSpec[] = [
  { name: 'voip-media', description: 'Call recordings, voicemail and faxes', objectLock: true, versioning: true },
  { name: 'voip-logs', description: 'SIP proxy and customer-portal logs', objectLock: false, versioning: true },
];

export interface OperatorClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
}

export interface OperatorResourcesResult {
  readonly tablesCreated: string[];
  readonly tablesExisting: string[];
  readonly bucketsCreated: string[];
  readonly bucketsExisting: string[];
}

export class OperatorResourceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OperatorResourceError';
  }
}

function errorName(err: unknown): string {
  return (err as { name?: string; Code?: string })?.name ?? (err as { Code?: string })?.Code ?? '';
}

async function ensureTable(client: DynamoDBClient, input: CreateTableCommandInput): Promise<'created' | 'existing'> {
  let outcome: 'created' | 'existing' = 'created';
  try {
    await client.send(new CreateTableCommand(input));
  } catch (err) {
    if (!(err instanceof ResourceInUseException) && errorName(err) !== 'ResourceInUseException') throw err;
    outcome = 'existing';
  }
  await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: input.TableName });
  if (outcome === 'existing') {
    // An existing table must have the keys and indexes the data map looks records up by.
    const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    const keys = (ks: ReadonlyArray<{ AttributeName?: string; KeyType?: string }> | undefined) => (ks ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
    if (keys(Table?.KeySchema) !== keys(input.KeySchema)) {
      throw new OperatorResourceError(`table ${input.TableName} exists with key schema ${keys(Table?.KeySchema)}, expected ${keys(input.KeySchema)}; delete it or use a fresh data directory`);
    }
    const have = new Set((Table?.GlobalSecondaryIndexes ?? []).map((g) => `${g.IndexName}=${keys(g.KeySchema)}`));
    for (const g of input.GlobalSecondaryIndexes ?? []) {
      if (!have.has(`${g.IndexName}=${keys(g.KeySchema)}`)) {
        throw new OperatorResourceError(`table ${input.TableName} exists without index ${g.IndexName} on ${keys(g.KeySchema)}; delete it or use a fresh data directory`);
      }
    }
  }
  return outcome;
}

async function ensureBucket(client: S3Client, spec: BucketSpec): Promise<'created' | 'existing'> {
  const region = await client.config.region();
  let outcome: 'created' | 'existing' = 'created';
  try {
    await client.send(
      new CreateBucketCommand({
        Bucket: spec.name,
        ...(spec.objectLock ? { ObjectLockEnabledForBucket: true } : {}),
        ...(region && region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } } : {}),
      }),
    );
  } catch (err) {
    if (errorName(err) !== 'BucketAlreadyOwnedByYou') throw err;
    outcome = 'existing';
  }
  if (spec.objectLock) {
    let enabled = false;
    try {
      const lock = await client.send(new GetObjectLockConfigurationCommand({ Bucket: spec.name }));
      enabled = lock.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
    } catch (err) {
      if (errorName(err) !== 'ObjectLockConfigurationNotFoundError') throw err;
    }
    if (!enabled) {
      throw new OperatorResourceError(`bucket ${spec.name} exists without Object Lock, which legal holds need; Object Lock can only be enabled at creation: delete the bucket or use a fresh data directory`);
    }
  }
  if (spec.versioning) {
    const v = await client.send(new GetBucketVersioningCommand({ Bucket: spec.name }));
    if (v.Status !== 'Enabled') await client.send(new PutBucketVersioningCommand({ Bucket: spec.name, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  return outcome;
}

/** Creates the operator's tables and buckets; existing ones are kept (and checked). */
export async function createOperatorResources(clients: OperatorClients): Promise<OperatorResourcesResult> {
  const result: OperatorResourcesResult = { tablesCreated: [], tablesExisting: [], bucketsCreated: [], bucketsExisting: [] };
  const tables = await Promise.all(OPERATOR_TABLES.map(async (t) => [t.TableName!, await ensureTable(clients.dynamodb, t)] as const));
  for (const [name, outcome] of tables) (outcome === 'created' ? result.tablesCreated : result.tablesExisting).push(name);
  for (const spec of OPERATOR_BUCKETS) {
    const outcome = await ensureBucket(clients.s3, spec);
    (outcome === 'created' ? result.bucketsCreated : result.bucketsExisting).push(spec.name);
  }
  return result;
}
