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
  type GlobalSecondaryIndex,
  type KeySchemaElement,
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
  type DeleteObjectsCommandOutput,
  type ObjectIdentifier,
  type S3Client,
} from '@aws-sdk/client-s3';

type Key = readonly [partition: string, sort?: string];

function keySchema([partition, sort]: Key): KeySchemaElement[] {
  return [{ AttributeName: partition, KeyType: 'HASH' }, ...(sort ? [{ AttributeName: sort, KeyType: 'RANGE' as const }] : [])];
}

/** A lookup index on one identifier, projecting whole items. */
function gsi(name: string, attribute: string): GlobalSecondaryIndex {
  return { IndexName: name, KeySchema: keySchema([attribute]), Projection: { ProjectionType: 'ALL' } };
}

/** A date index for retention enforcement: status (or shard) and date, table keys only. */
function dateGsi(name: string, partition: string, date: string): GlobalSecondaryIndex {
  return { IndexName: name, KeySchema: keySchema([partition, date]), Projection: { ProjectionType: 'KEYS_ONLY' } };
}

/**
 * An on-demand table with string keys. DynamoDB wants exactly the attributes some key uses
 * defined: they are derived from the keys, in order of first use, so the two cannot disagree.
 */
function table(name: string, key: Key, indexes: readonly GlobalSecondaryIndex[] = []): CreateTableCommandInput {
  const keyed = [...keySchema(key), ...indexes.flatMap((g) => g.KeySchema ?? [])].map((k) => k.AttributeName!);
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...new Set(keyed)].map((a) => ({ AttributeName: a, AttributeType: 'S' })),
    KeySchema: keySchema(key),
    ...(indexes.length > 0 ? { GlobalSecondaryIndexes: [...indexes] } : {}),
  };
}

export const OPERATOR_TABLES: readonly CreateTableCommandInput[] = [
  // Sparse: only deactivated accounts have the dates, so the retention indexes list only them.
  table('voip-accounts', ['accountId'], [gsi('by-email', 'email'), dateGsi('by-status-deactivated', 'status', 'deactivatedAt'), dateGsi('by-status-terminated', 'status', 'terminatedAt')]),
  table('voip-billing', ['accountId', 'invoiceId']),
  table('voip-payment-tokens', ['accountId', 'tokenId']),
  table('voip-cdrs', ['accountId', 'callId'], [gsi('by-callee', 'calleeNumber'), gsi('by-caller', 'callerNumber'), dateGsi('by-start-shard', 'startShard', 'startTime')]),
  table('voip-contacts', ['ownerAccountId', 'contactId'], [
    gsi('by-contact-phone', 'contactPhone'),
    gsi('by-contact-email', 'contactEmail'),
    // The portal's lower-cased copy of the typed address: a key condition is case-sensitive.
    gsi('by-contact-email-normalized', 'contactEmailNormalized'),
  ]),
  // One item per account and purpose (marketing, targeted-advertising): the consent table.
  table('voip-consents', ['accountId', 'purpose']),
  table('voip-devices', ['accountId', 'deviceId']),
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

/** Waiter timing in seconds, the same for a table appearing and disappearing. */
const TABLE_WAIT = { maxWaitTime: 120, minDelay: 1, maxDelay: 5 };

type Outcome = 'created' | 'existing';

function errorName(err: unknown): string {
  return (err as { name?: string; Code?: string })?.name ?? (err as { Code?: string })?.Code ?? '';
}

async function ensureTable(client: DynamoDBClient, input: CreateTableCommandInput): Promise<Outcome> {
  let outcome: Outcome = 'created';
  try {
    await client.send(new CreateTableCommand(input));
  } catch (err) {
    if (!(err instanceof ResourceInUseException) && errorName(err) !== 'ResourceInUseException') throw err;
    outcome = 'existing';
  }
  await waitUntilTableExists({ client, ...TABLE_WAIT }, { TableName: input.TableName });
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

async function ensureBucket(client: S3Client, spec: BucketSpec): Promise<Outcome> {
  const region = await client.config.region();
  let outcome: Outcome = 'created';
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

/** Runs a request against a table or bucket that may not exist (yet, or any more): then undefined. */
async function unlessMissing<T>(request: () => Promise<T>): Promise<T | undefined> {
  try {
    return await request();
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** True when any operator table holds an item or any operator bucket holds a version or delete marker. */
export async function operatorResourcesHoldData(clients: OperatorClients): Promise<boolean> {
  for (const t of OPERATOR_TABLES) {
    const out = await unlessMissing(() => clients.dynamodb.send(new ScanCommand({ TableName: t.TableName, Limit: 1, Select: 'COUNT' })));
    if (out && ((out.Count ?? 0) > 0 || out.LastEvaluatedKey)) return true;
  }
  for (const b of OPERATOR_BUCKETS) {
    const out = await unlessMissing(() => clients.s3.send(new ListObjectVersionsCommand({ Bucket: b.name, MaxKeys: 1 })));
    if (out && (out.Versions?.length ?? 0) + (out.DeleteMarkers?.length ?? 0) > 0) return true;
  }
  return false;
}

/** Deletes versions past governance retention; returns the ones S3 refused. */
async function deleteVersions(s3: S3Client, bucket: string, versions: ObjectIdentifier[]): Promise<NonNullable<DeleteObjectsCommandOutput['Errors']>> {
  const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, BypassGovernanceRetention: true, Delete: { Objects: versions, Quiet: true } }));
  return out.Errors ?? [];
}

/** Deletes every version and delete marker in a bucket (a missing one is empty); returns how many. */
async function emptyBucket(s3: S3Client, bucket: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const listed = await unlessMissing(() => s3.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1000 })));
    if (!listed) return deleted;
    const entries = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (entries.length === 0) return deleted;
    const refused = await deleteVersions(s3, bucket, entries);
    deleted += entries.length - refused.length;
    if (refused.length === 0) continue;
    // Held versions: lift the hold, then delete them one batch more.
    for (const e of refused) {
      await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: e.Key, VersionId: e.VersionId, LegalHold: { Status: 'OFF' } }));
    }
    const protectedVersions = await deleteVersions(s3, bucket, refused.map((e) => ({ Key: e.Key!, VersionId: e.VersionId })));
    if (protectedVersions.length > 0) {
      const e = protectedVersions[0];
      throw new OperatorResourceError(`cannot empty bucket ${bucket}: version ${e.VersionId} of ${e.Key} is protected (${e.Code}: ${e.Message})`);
    }
    deleted += refused.length;
  }
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
    const deleted = await unlessMissing(async () => {
      await clients.dynamodb.send(new DeleteTableCommand({ TableName: t.TableName }));
      await waitUntilTableNotExists({ client: clients.dynamodb, ...TABLE_WAIT }, { TableName: t.TableName });
      return true;
    });
    if (deleted) tablesDeleted++;
  }
  let versionsDeleted = 0;
  for (const b of OPERATOR_BUCKETS) versionsDeleted += await emptyBucket(clients.s3, b.name);
  return { tablesDeleted, versionsDeleted };
}
