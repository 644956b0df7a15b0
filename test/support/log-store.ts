/**
 * The shared fixtures of the log-store (s3-records) tests: the project's own S3 server for a
 * test file, a connector context, versioned buckets (Object Lock on request), store definitions,
 * and the objects read back (raw, or decompressed when gzip) to compare. One copy, so every log
 * test builds and reads its stores the same way.
 */
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectVersionsCommand, ListObjectsV2Command, PutBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3';
import { createAnonymizer } from '../../functions/core/anonymize';
import { S3RecordsStoreSchema, type S3RecordsStore } from '../../functions/core/datamap';
import type { ConnectorContext, Finding, PlannedAction } from '../../functions/connectors/types';
import { startTestEndpoints, type TestEndpoints } from './endpoints';

/** The clock every log test reads by default: after the logs' own dates. */
export const TEST_NOW = new Date('2026-11-22T12:00:00Z');
export const TEST_HMAC_KEY = 'test-hmac-key-0123456789abcdef';

export type LogEvent = { event: string; fields?: Record<string, unknown> };

export interface LogStoreFixture {
  readonly s3: S3Client;
  readonly endpoints: TestEndpoints;
  /** A connector context on the test S3 server; `log` receives the connector's log events. */
  context(opts?: { readonly now?: Date; readonly log?: (e: LogEvent) => void }): ConnectorContext;
  /**
   * A new bucket named `<label>-<n>-<time>`, versioned unless `versioned` is false;
   * `objectLock` enables S3 Object Lock on it.
   */
  newBucket(opts?: { readonly objectLock?: boolean; readonly versioned?: boolean; readonly label?: string }): Promise<string>;
}

/** Starts the S3 server for the test file (beforeAll) and stops it (afterAll). */
export function useLogStores(label: string): LogStoreFixture {
  let endpoints: TestEndpoints | undefined;
  let seq = 0;
  beforeAll(async () => {
    endpoints = await startTestEndpoints({ dynamodb: false });
  });
  afterAll(async () => {
    await endpoints?.close();
  });
  const running = (): TestEndpoints => {
    if (!endpoints) throw new Error('the log-store fixture is used before beforeAll ran');
    return endpoints;
  };
  return {
    get s3() {
      return running().s3;
    },
    get endpoints() {
      return running();
    },
    context(opts = {}) {
      const log = opts.log;
      return {
        dynamodb: running().dynamodb,
        s3: running().s3,
        now: opts.now ?? TEST_NOW,
        anonymizer: createAnonymizer(TEST_HMAC_KEY),
        log: (event, fields) => log?.({ event, fields }),
      };
    },
    async newBucket(opts = {}) {
      const s3 = running().s3;
      const bucket = `${opts.label ?? label}-${++seq}-${Date.now().toString(36)}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket, ...(opts.objectLock ? { ObjectLockEnabledForBucket: true } : {}) }));
      if (opts.versioned !== false) await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      return bucket;
    },
  };
}

/** An s3-records store as the data map schema parses it; name, kind and category default. */
export function logStore(spec: Partial<S3RecordsStore> & Pick<S3RecordsStore, 'bucket' | 'prefix' | 'format' | 'fields'> & Record<string, unknown>): S3RecordsStore {
  return S3RecordsStoreSchema.parse({ name: 'sip-logs', kind: 's3-records', category: 'logs', ...spec });
}

/** The fields the tests' SIP (JSON Lines) and application (CSV) logs are searched by. */
export const LOG_FIELDS = {
  from: { path: 'from', identifier: 'phone', match: 'token' },
  to: { path: 'to', identifier: 'phone', match: 'token' },
  sipUser: { path: 'sipUser', identifier: 'sipUsername', match: 'value' },
  sourceIp: { path: 'sourceIp', identifier: 'ip', match: 'value' },
  deviceId: { path: 'userAgent.deviceId', identifier: 'deviceId', match: 'value' },
  accountId: { path: 'accountId', identifier: 'accountId', match: 'value' },
  email: { path: 'email', identifier: 'email', match: 'value' },
  clientIp: { path: 'clientIp', identifier: 'ip', match: 'value' },
  message: { path: 'message', identifier: 'email', match: 'token' },
} as const satisfies Record<string, S3RecordsStore['fields'][number]>;

type StoreOverrides = Partial<S3RecordsStore> & Record<string, unknown>;

/** `sip-logs`: gzip JSON Lines under `sip/`, searched by `from` and `to`, records deleted; `extra` overrides. */
export function sipLogStore(bucket: string, extra: StoreOverrides = {}): S3RecordsStore {
  return logStore({ bucket, prefix: 'sip/', format: 'jsonl', compression: 'gzip', fields: [LOG_FIELDS.from, LOG_FIELDS.to], erase: { mode: 'delete-record' }, ...extra });
}

/** `app-logs`: CSV (gzip or not) under `app/`, searched by account, email and message, records deleted; `extra` overrides. */
export function appLogStore(bucket: string, extra: StoreOverrides = {}): S3RecordsStore {
  return logStore({
    name: 'app-logs',
    bucket,
    prefix: 'app/',
    format: 'csv',
    compression: 'auto',
    fields: [LOG_FIELDS.accountId, LOG_FIELDS.email, LOG_FIELDS.message],
    erase: { mode: 'delete-record' },
    ...extra,
  });
}

/** A log body as text: decompressed when it is gzip (by its magic bytes), as stored otherwise. */
export function logText(body: Uint8Array): string {
  const b = Buffer.from(body);
  return (b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b).toString('utf8');
}

/** One object version's bytes and the attributes tests compare. */
export async function objectBytes(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<{ body: Buffer; etag: string; contentType?: string; metadata?: Record<string, string> }> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return { body: Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()), etag: out.ETag as string, contentType: out.ContentType, metadata: out.Metadata };
}

/** The text of every version of the bucket's keys under `prefix` (exactly `key` when `exact`), staging included. */
export async function versionTexts(s3: S3Client, bucket: string, prefix?: string, exact = false): Promise<string[]> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) }));
  const texts: string[] = [];
  for (const v of out.Versions ?? []) {
    if (exact && v.Key !== prefix) continue;
    texts.push(logText((await objectBytes(s3, bucket, v.Key as string, v.VersionId)).body));
  }
  return texts;
}

/** The text of the current version of every key under `prefix`, by key, all listing pages. */
export async function currentTexts(s3: S3Client, bucket: string, prefix?: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, ...(prefix ? { Prefix: prefix } : {}) }));
    for (const o of page.Contents ?? []) out.set(o.Key as string, logText((await objectBytes(s3, bucket, o.Key as string)).body));
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

/** A plan deleting every finding. */
export function deleteAll(findings: readonly Finding[]): PlannedAction[] {
  return findings.map((finding) => ({ finding, action: 'delete' as const }));
}
