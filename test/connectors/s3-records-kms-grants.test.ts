/**
 * The KMS grant an erasure of an SSE-KMS log store needs, checked locally as AWS checks it: the
 * erase-store role's own policy (infra/policies.ts through the local authorizer) plus the key
 * grant the construct gives it on the store's customer managed key (infra/operator-stores.ts:
 * kms:Decrypt, and kms:GenerateDataKey for a store it writes). With the grant the rewrite goes
 * through; without kms:GenerateDataKey it is refused and the object is left as it was, which is
 * what AWS would do. The S3 server here asks IAM (log-store fixtures' server allows everything).
 */
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createS3RecordsConnector } from '../../functions/connectors/s3-records';
import type { ConnectorContext, Identity } from '../../functions/connectors/types';
import { createAnonymizer } from '../../functions/core/anonymize';
import { parseDataMap } from '../../functions/core/datamap';
import { createLocalAuthorizer, handlerCredentials, type LocalCredentials } from '../../local/iam/authorizer';
import type { PrincipalPolicy } from '../../infra/policies';
import type { Authorizer } from '../../local/iam/types';
import { startS3Server, type RunningS3Server } from '../../local/s3';
import { referenceDataMap } from '../infra/synth';
import { LOG_FIELDS as F, TEST_HMAC_KEY, TEST_NOW, currentTexts, sipLogStore } from '../support/log-store';

const KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-4333-8444-555555555555';
const KEY = 'sip/2026/11/01/10.jsonl.gz';
const storeIn = (bucket: string) => sipLogStore(bucket, { name: 'kms-sip-logs', fields: [F.from] });
const subject: Identity = { phone: ['+15145550101'] };
const BODY = ['{"from":"sip:+15145550101@pbx","n":1}', '{"from":"sip:+15145559999@pbx","n":2}'].join('\n') + '\n';

/** The erase-store role as the construct grants it the store key: kms:Decrypt, and kms:GenerateDataKey unless left out. */
function withStoreKey(policy: PrincipalPolicy, actions: string[]): PrincipalPolicy {
  return { ...policy, statements: [...policy.statements, { Sid: 'StoreKey', Effect: 'Allow', Action: actions, Resource: [KEY_ARN] }] };
}

let server: RunningS3Server;
/** Each test's authorizer: the local one, built for its bucket and the key grant it runs with. */
let current: Authorizer = () => ({ allowed: true });
const clients: S3Client[] = [];
const dynamodb = new DynamoDBClient({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

function client(credentials: LocalCredentials): S3Client {
  const c = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
  clients.push(c);
  return c;
}
const admin = () => client({ accessKeyId: 'local', secretAccessKey: 'x' });
const context = (s3: S3Client): ConnectorContext => ({ dynamodb, s3, now: TEST_NOW, anonymizer: createAnonymizer(TEST_HMAC_KEY), log: () => undefined });

beforeAll(async () => {
  server = await startS3Server({ port: 0, authorize: (key, request) => current(key, request) });
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  dynamodb.destroy();
  await server?.close();
});

/** A versioned bucket holding one SSE-KMS log object, erased by the erase-store role granted `keyActions` on its key. */
async function erase(bucket: string, keyActions: string[]) {
  const store = storeIn(bucket);
  // The reference map's stores (identity resolution needs its owner lookup) and this SSE-KMS log store.
  const reference = referenceDataMap();
  current = createLocalAuthorizer({
    dataMap: parseDataMap({ ...reference, stores: [...reference.stores, store] }),
    settings: { ledgerTable: 'dsr-ledger', workBucket: 'dsr-work', bundleBucket: 'dsr-bundles' },
    region: 'us-east-1',
    override: (role, policy) => (role === 'dsr-erase-store' ? withStoreKey(policy, keyActions) : policy),
  });
  const s3 = admin();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: gzipSync(BODY), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ARN }));
  const connector = createS3RecordsConnector();
  const findings = await connector.discover(store, subject, context(s3));
  expect(findings).toHaveLength(1);
  return connector.apply(store, subject, findings.map((finding) => ({ finding, action: 'delete' as const })), context(client(handlerCredentials('erase-store'))));
}

test('with kms:Decrypt and kms:GenerateDataKey on the store key, the erase-store role rewrites the object under that key', async () => {
  const result = await erase('kms-granted', ['kms:Decrypt', 'kms:GenerateDataKey']);
  expect(result.applied).toEqual({ delete: 1 });
  expect([...(await currentTexts(admin(), 'kms-granted', 'sip/')).values()]).toEqual(['{"from":"sip:+15145559999@pbx","n":2}\n']);
  expect((await admin().send(new HeadObjectCommand({ Bucket: 'kms-granted', Key: KEY }))).SSEKMSKeyId).toBe(KEY_ARN);
});

test('without kms:GenerateDataKey the rewrite is refused as AWS refuses it, and the object is left as it was', async () => {
  const err = await erase('kms-decrypt-only', ['kms:Decrypt']).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  // The connector names the S3 code only; the cause carries S3's answer.
  expect(err?.message).toBe('store kms-sip-logs: staging upload failed (AccessDenied)');
  expect((err?.cause as Error | undefined)?.message).toBe(
    `User: arn:aws:sts::000000000000:assumed-role/dsr-erase-store/dsr-erase-store is not authorized to perform: kms:GenerateDataKey on resource: ${KEY_ARN} because no identity-based policy allows the kms:GenerateDataKey action`,
  );
  expect([...(await currentTexts(admin(), 'kms-decrypt-only', 'sip/')).values()]).toEqual([BODY]);
});
