/**
 * The product's own resources: the key, the ledger table, the work and bundle buckets, the
 * bucket their server access logs go to, and the anonymization secret. The construct's first
 * resources: every function, machine and policy after them names them.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { DEADLINE_INDEX } from '../functions/core/deadlines';
import { LEDGER_KEY } from '../functions/core/ledger';
import type { SubjectRightsOrchestratorProps } from './props';
import type { ValidatedProps } from './resolve-props';

export interface ProductResources {
  readonly encryptionKey: kms.IKey;
  /** The key for the log groups: absent when the key's policy is not ours to edit. */
  readonly logKey?: kms.IKey;
  readonly accessLogs: s3.IBucket;
  readonly ledgerTable: dynamodb.Table;
  readonly workBucket: s3.Bucket;
  readonly bundleBucket: s3.Bucket;
  readonly anonymizationSecret: secretsmanager.ISecret;
}

/** The given key, access logs bucket and secret, or new ones; the ledger and buckets always new. */
export function productResources(scope: Construct, props: SubjectRightsOrchestratorProps, v: ValidatedProps): ProductResources {
  const encryptionKey =
    props.encryptionKey ??
    new kms.Key(scope, 'Key', {
      description: 'Subject Rights Orchestrator: ledger, work and bundle buckets, anonymization key, logs',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  const logKey = allowLogsToUseKey(scope, encryptionKey) ? encryptionKey : undefined;

  const accessLogs = props.accessLogsBucket ?? accessLogsBucket(scope);
  const ledgerTable = new dynamodb.Table(scope, 'Ledger', {
    partitionKey: { name: LEDGER_KEY.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: LEDGER_KEY.sortKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // `dsr requests` and the deadline alarm: requests by due date, without the request itself (the subject id).
  ledgerTable.addGlobalSecondaryIndex({
    indexName: DEADLINE_INDEX.name,
    partitionKey: { name: DEADLINE_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: DEADLINE_INDEX.sortKey, type: dynamodb.AttributeType.STRING },
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: [...DEADLINE_INDEX.projected],
  });
  const workBucket = productBucket(scope, 'WorkBucket', encryptionKey, accessLogs, 'work/', {
    versioned: true,
    lifecycleRules: [
      { id: 'expire-request-documents', prefix: 'requests/', expiration: Duration.days(v.workRetentionDays) },
      // Personal data must not linger in old versions once overwritten or expired.
      { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(1), expiredObjectDeleteMarker: true },
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ],
  });
  const bundleBucket = productBucket(scope, 'BundleBucket', encryptionKey, accessLogs, 'bundles/', {
    lifecycleRules: [
      { id: 'expire-bundles', prefix: 'bundles/', expiration: Duration.days(v.bundleRetentionDays) },
      { id: 'expire-reports', prefix: 'reports/', expiration: Duration.days(v.bundleRetentionDays) },
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ],
  });
  const anonymizationSecret =
    props.anonymizationSecret ??
    new secretsmanager.Secret(scope, 'AnonymizationKey', {
      description: 'Subject Rights Orchestrator: HMAC key for the "hmac" anonymization strategy',
      encryptionKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  return { encryptionKey, ...(logKey ? { logKey } : {}), accessLogs, ledgerTable, workBucket, bundleBucket, anonymizationSecret };
}

function productBucket(scope: Construct, id: string, encryptionKey: kms.IKey, accessLogs: s3.IBucket, logPrefix: string, extra: Pick<s3.BucketProps, 'versioned' | 'lifecycleRules'>): s3.Bucket {
  return new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey,
    bucketKeyEnabled: true,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: logPrefix,
    removalPolicy: RemovalPolicy.RETAIN,
    ...extra,
  });
}

function accessLogsBucket(scope: Construct): s3.Bucket {
  return new s3.Bucket(scope, 'AccessLogs', {
    // S3 server access log delivery cannot write to SSE-KMS buckets.
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    // Ownership left to CDK: log delivery is granted by bucket policy or, without the
    // @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy flag, by ACL (which needs ObjectWriter).
    lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/** CloudWatch Logs may use the key for this account's log groups; false when the key's policy is not ours to edit. */
function allowLogsToUseKey(scope: Construct, key: kms.IKey): boolean {
  const stack = Stack.of(scope);
  return key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
    }),
    /* allowNoOp */ true,
  ).statementAdded;
}
