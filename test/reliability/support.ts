/**
 * Fault and throttle injection for the reliability suite: SDK middleware on clients of their
 * own, pointed at the real local endpoints. Nothing is mocked: a call either reaches the
 * endpoint or is refused before it is sent, as a crash or a throttle would.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { createAnonymizer } from '../../functions/core/anonymize';
import type { ConnectorContext } from '../../functions/connectors/types';

export const REGION = 'us-east-1';
export const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local-secret' };

export class InjectedFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InjectedFault';
  }
}

/**
 * Counts every SDK call; with `failAfter = N`, call N reaches the endpoint and then "the
 * process dies": its result is replaced by an InjectedFault, and every later call fails before
 * it is sent.
 */
export interface FaultPlan {
  calls: number;
  failAfter?: number;
  readonly commands: string[];
}

export function faultPlan(failAfter?: number): FaultPlan {
  return { calls: 0, failAfter, commands: [] };
}

type AnyClient = S3Client | DynamoDBClient;

export function injectFaults<C extends AnyClient>(client: C, plan: FaultPlan): C {
  (client as S3Client).middlewareStack.add(
    (next, context) => async (args) => {
      const n = ++plan.calls;
      plan.commands.push(String(context.commandName));
      if (plan.failAfter !== undefined && n > plan.failAfter) throw new InjectedFault(`crashed before call ${n} (${String(context.commandName)})`);
      const out = await next(args);
      if (plan.failAfter !== undefined && n === plan.failAfter) throw new InjectedFault(`crashed after call ${n} (${String(context.commandName)})`);
      return out;
    },
    { step: 'initialize', name: 'reliabilityFaults' },
  );
  return client;
}

/** Deterministic PRNG (mulberry32): the same throttling pattern on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Throttle {
  attempts: number;
  throttled: number;
}

/**
 * Answers a fraction of attempts with the service's throttling error instead of sending them
 * (S3 `SlowDown` 503, DynamoDB `ProvisionedThroughputExceededException` 400). Placed inside the
 * SDK's retry loop, so every retry attempt is a new draw.
 */
export function injectThrottling<C extends AnyClient>(client: C, service: 's3' | 'dynamodb', rate: number, seed: number): Throttle {
  const random = prng(seed);
  const stats: Throttle = { attempts: 0, throttled: 0 };
  (client as S3Client).middlewareStack.add(
    (next) => async (args) => {
      stats.attempts++;
      if (random() < rate) {
        stats.throttled++;
        const [name, status, message] = service === 's3' ? ['SlowDown', 503, 'Please reduce your request rate.'] : ['ProvisionedThroughputExceededException', 400, 'The level of configured provisioned throughput for the table was exceeded.'];
        throw Object.assign(new Error(message), { name, Code: name, $fault: service === 's3' ? 'server' : 'client', $metadata: { httpStatusCode: status }, $retryable: { throttling: true } });
      }
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'reliabilityThrottle' },
  );
  return stats;
}

export function s3Client(endpoint: string, maxAttempts = 1): S3Client {
  return new S3Client({ endpoint, region: REGION, credentials: CREDENTIALS, forcePathStyle: true, maxAttempts });
}

export function dynamoClient(endpoint: string, maxAttempts = 1): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts });
}

export function context(clients: { s3?: S3Client; dynamodb?: DynamoDBClient }, now = new Date('2026-11-22T12:00:00Z')): ConnectorContext {
  return {
    dynamodb: clients.dynamodb ?? (undefined as never),
    s3: clients.s3 ?? (undefined as never),
    now,
    anonymizer: createAnonymizer('reliability-hmac-key-0123456789'),
    log: () => undefined,
  };
}

let bucketSeq = 0;
export async function versionedBucket(s3: S3Client, base: string, objectLock = false): Promise<string> {
  const bucket = `${base}-${++bucketSeq}-${process.pid}-${Date.now().toString(36)}`.slice(0, 63);
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: objectLock || undefined }));
  if (!objectLock) await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  return bucket;
}

export interface StoredVersion {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
  /** The body, gunzipped when it is gzip. */
  readonly text: string;
}

/** Every version and delete marker in the bucket, with bodies. */
export async function allVersions(s3: S3Client, bucket: string, prefix = ''): Promise<StoredVersion[]> {
  const out: StoredVersion[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    for (const v of page.Versions ?? []) {
      const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId }))).Body!.transformToByteArray());
      const text = body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body).toString('utf8') : body.toString('utf8');
      out.push({ key: v.Key!, versionId: v.VersionId!, isLatest: !!v.IsLatest, deleteMarker: false, text });
    }
    for (const m of page.DeleteMarkers ?? []) out.push({ key: m.Key!, versionId: m.VersionId!, isLatest: !!m.IsLatest, deleteMarker: true, text: '' });
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  return out;
}
