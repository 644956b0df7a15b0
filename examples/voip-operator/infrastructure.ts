/**
 * The reference operator's own resources: the tables and buckets its data lives in, before the
 * orchestrator is involved. Keys and GSIs are the ones datamap.json looks records up by (a test
 * checks they agree). `createOperatorResources` creates them idempotently.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  ListObjectVersionsCommand,
  PutObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  PutBucketVersioningCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';

const S = 'S' as const;

function gsi(name: string, attribute: string) {
  return { IndexName: name, KeySchema: [{ AttributeName: attribute, KeyType: 'HASH' as const }], Projection: { ProjectionType: 'ALL' as const } };
}

/** A date index for retention enforcement: status (or shard) and date, table keys only. */
function dateGsi(name: string, partition: string, date: string) {
  return {
    IndexName: name,
    KeySchema: [
      { AttributeName: partition, KeyType: 'HASH' as const },
      { AttributeName: date, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'KEYS_ONLY' as const },
  };
}

export const OPERATOR_TABLES: readonly CreateTableCommandInput[] = [
  {
    TableName: 'voip-accounts',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'accountId', AttributeType: S },
      { AttributeName: 'email', AttributeType: S },
      { AttributeName: 'status', AttributeType: S },
      { AttributeName: 'deactivatedAt', AttributeType: S },
      { AttributeName: 'terminatedAt', AttributeType: S },
    ],
    KeySchema: [{ AttributeName: 'accountId', KeyType: 'HASH' }],
    // Sparse: only deactivated accounts have the dates, so the retention indexes list only them.
    GlobalSecondaryIndexes: [gsi('by-email', 'email'), dateGsi('by-status-deactivated', 'status', 'deactivatedAt'), dateGsi('by-status-terminated', 'status', 'terminatedAt')],
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
      { AttributeName: 'callerNumber', AttributeType: S },
      { AttributeName: 'startShard', AttributeType: S },
      { AttributeName: 'startTime', AttributeType: S },
    ],
    KeySchema: [
      { AttributeName: 'accountId', KeyType: 'HASH' },
      { AttributeName: 'callId', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [gsi('by-callee', 'calleeNumber'), gsi('by-caller', 'callerNumber'), dateGsi('by-start-shard', 'startShard', 'startTime')],
  },
  {
    TableName: 'voip-contacts',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'ownerAccountId', AttributeType: S },
      { AttributeName: 'contactId', AttributeType: S },
      { AttributeName: 'contactPhone', AttributeType: S },
      { AttributeName: 'contactEmail', AttributeType: S },
      // The portal's lower-cased copy of the typed address: a key condition is case-sensitive.
      { AttributeName: 'contactEmailNormalized', AttributeType: S },
    ],
    KeySchema: [
      { AttributeName: 'ownerAccountId', KeyType: 'HASH' },
      { AttributeName: 'contactId', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [gsi('by-contact-phone', 'contactPhone'), gsi('by-contact-email', 'contactEmail'), gsi('by-contact-email-normalized', 'contactEmailNormalized')],
  },
  {
    // One item per account and purpose (marketing, targeted-advertising): the consent table.
    TableName: 'voip-consents',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'accountId', AttributeType: S },
      { AttributeName: 'purpose', AttributeType: S },
    ],
    KeySchema: [
      { AttributeName: 'accountId', KeyType: 'HASH' },
      { AttributeName: 'purpose', KeyType: 'RANGE' },
    ],
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

async function bucketExists(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || errorName(err) === 'NotFound' || errorName(err) === 'NoSuchBucket') return false;
    throw err;
  }
}

async function ensureBucket(client: S3Client, spec: BucketSpec): Promise<'created' | 'existing'> {
  const region = await client.config.region();
  let outcome: 'created' | 'existing' = 'created';
  // In us-east-1, S3 answers 200 to re-creating a bucket one owns: ask first.
  if (await bucketExists(client, spec.name)) outcome = 'existing';
  else try {
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

function isMissing(err: unknown): boolean {
  const name = errorName(err);
  return err instanceof ResourceNotFoundException || name === 'ResourceNotFoundException' || name === 'NoSuchBucket';
}

/** True when any operator table holds an item or any operator bucket holds a version or delete marker. */
export async function operatorResourcesHoldData(clients: OperatorClients): Promise<boolean> {
  for (const t of OPERATOR_TABLES) {
    try {
      const out = await clients.dynamodb.send(new ScanCommand({ TableName: t.TableName, Limit: 1, Select: 'COUNT' }));
      if ((out.Count ?? 0) > 0 || out.LastEvaluatedKey) return true;
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
  for (const b of OPERATOR_BUCKETS) {
    try {
      const out = await clients.s3.send(new ListObjectVersionsCommand({ Bucket: b.name, MaxKeys: 1 }));
      if ((out.Versions?.length ?? 0) + (out.DeleteMarkers?.length ?? 0) > 0) return true;
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
  return false;
}

/**
 * Empties the operator's stores: deletes the tables (they are created again) and every
 * version and delete marker in the buckets, lifting legal holds and bypassing governance
 * retention where needed. An object under compliance retention cannot be removed: that is an
 * error naming it. For the local reference dataset only.
 */
export async function emptyOperatorResources(clients: OperatorClients): Promise<{ tablesDeleted: number; versionsDeleted: number }> {
  let tablesDeleted = 0;
  for (const t of OPERATOR_TABLES) {
    try {
      await clients.dynamodb.send(new DeleteTableCommand({ TableName: t.TableName }));
      await waitUntilTableNotExists({ client: clients.dynamodb, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: t.TableName });
      tablesDeleted++;
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
  let versionsDeleted = 0;
  for (const b of OPERATOR_BUCKETS) {
    for (;;) {
      let listed;
      try {
        listed = await clients.s3.send(new ListObjectVersionsCommand({ Bucket: b.name, MaxKeys: 1000 }));
      } catch (err) {
        if (isMissing(err)) break;
        throw err;
      }
      const entries = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
      if (entries.length === 0) break;
      const out = await clients.s3.send(new DeleteObjectsCommand({ Bucket: b.name, BypassGovernanceRetention: true, Delete: { Objects: entries, Quiet: true } }));
      versionsDeleted += entries.length - (out.Errors?.length ?? 0);
      const refused = out.Errors ?? [];
      if (refused.length === 0) continue;
      // Held versions: lift the hold, then delete them one batch more.
      for (const e of refused) {
        await clients.s3.send(new PutObjectLegalHoldCommand({ Bucket: b.name, Key: e.Key, VersionId: e.VersionId, LegalHold: { Status: 'OFF' } }));
      }
      const again = await clients.s3.send(
        new DeleteObjectsCommand({ Bucket: b.name, BypassGovernanceRetention: true, Delete: { Objects: refused.map((e) => ({ Key: e.Key!, VersionId: e.VersionId })), Quiet: true } }),
      );
      if ((again.Errors?.length ?? 0) > 0) {
        const e = again.Errors![0];
        throw new OperatorResourceError(`cannot empty bucket ${b.name}: version ${e.VersionId} of ${e.Key} is protected (${e.Code}: ${e.Message})`);
      }
      versionsDeleted += refused.length;
    }
  }
  return { tablesDeleted, versionsDeleted };
}
