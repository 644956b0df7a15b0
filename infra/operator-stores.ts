/**
 * The operator's stores as CDK sees them: the tables and buckets of the data map, given in the
 * props or imported by name, the KMS key grants their customer managed keys need, and the
 * retention schedule's lifecycle rules on the buckets the app owns.
 */
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { DataMap } from '../functions/core/datamap';
import type { LifecycleRuleSpec } from '../functions/core/retention-limits';
import { storeGrants, writes } from './store-grants';
import type { StoreOperation, StoreResource } from './store-needs';
import type { SubjectRightsOrchestratorProps } from './props';

export class OperatorStores {
  // Imported once each: many policies name the same store, and a second import under its id would clash.
  private readonly tables = new Map<string, dynamodb.ITable>();
  private readonly buckets = new Map<string, s3.IBucket>();

  constructor(
    private readonly scope: Construct,
    private readonly props: Pick<SubjectRightsOrchestratorProps, 'tables' | 'buckets'>,
  ) {}

  table(name: string): dynamodb.ITable {
    let table = this.tables.get(name);
    if (!table) {
      const given = this.props.tables?.[name];
      const id = `StoreTable-${name}`;
      table = typeof given === 'string' ? dynamodb.Table.fromTableArn(this.scope, id, given) : (given ?? dynamodb.Table.fromTableName(this.scope, id, name));
      this.tables.set(name, table);
    }
    return table;
  }

  bucket(name: string): s3.IBucket {
    let bucket = this.buckets.get(name);
    if (!bucket) {
      const given = this.props.buckets?.[name];
      const id = `StoreBucket-${name}`;
      bucket = typeof given === 'string' ? s3.Bucket.fromBucketArn(this.scope, id, given) : (given ?? s3.Bucket.fromBucketName(this.scope, id, name));
      this.buckets.set(name, bucket);
    }
    return bucket;
  }

  /**
   * Customer managed keys of imported stores: decrypt to read, and encrypt to write. A CDK
   * grant, outside infra/policies.ts (the data map does not know the keys); the local S3 asks
   * for these KMS permissions on SSE-KMS objects, but the local policies do not carry them.
   */
  grantKeys(grantee: iam.IGrantable, dataMap: DataMap, operations: readonly StoreOperation[]): void {
    if (operations.length === 0) return;
    for (const grant of storeGrants(dataMap, operations)) {
      const keyActions = grant.resources.some((r) => r.type === 'table' || r.type === 'index')
        ? ['kms:Decrypt', 'kms:DescribeKey', ...(writes(grant.actions) ? ['kms:Encrypt', 'kms:GenerateDataKey'] : [])]
        : ['kms:Decrypt', ...(writes(grant.actions) ? ['kms:GenerateDataKey'] : [])];
      for (const key of new Set(grant.resources.flatMap((r) => this.key(r) ?? []))) key.grant(grantee, ...keyActions);
    }
  }

  /** Only on the buckets given as `s3.Bucket`s: an imported bucket cannot take rules from CDK. */
  applyLifecycleRules(rules: readonly LifecycleRuleSpec[]): void {
    for (const rule of rules) {
      const given = this.props.buckets?.[rule.bucket];
      if (!(given instanceof s3.Bucket)) continue;
      given.addLifecycleRule({
        id: rule.id,
        ...(rule.prefix ? { prefix: rule.prefix } : {}),
        ...(rule.expirationDays !== undefined ? { expiration: Duration.days(rule.expirationDays) } : {}),
        ...(rule.noncurrentVersionExpirationDays !== undefined ? { noncurrentVersionExpiration: Duration.days(rule.noncurrentVersionExpirationDays) } : {}),
        ...(rule.expiredObjectDeleteMarker ? { expiredObjectDeleteMarker: true } : {}),
      });
    }
  }

  private key(r: StoreResource): kms.IKey | undefined {
    return r.type === 'table' || r.type === 'index' ? this.table(r.table).encryptionKey : this.bucket(r.bucket).encryptionKey;
  }
}
