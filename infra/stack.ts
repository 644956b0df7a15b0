/**
 * A ready stack: the reference VoIP operator's data map (examples/voip-operator/datamap.json),
 * with the operator's tables and buckets imported by name from this account and region.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import fs from 'node:fs';
import path from 'node:path';
import { SubjectRightsOrchestrator, type SubjectRightsOrchestratorProps } from './construct';

export const REFERENCE_DATA_MAP = path.resolve(__dirname, '../examples/voip-operator/datamap.json');

export interface ReferenceOperatorStackProps extends StackProps {
  /** A data map JSON file. @default examples/voip-operator/datamap.json */
  readonly dataMapFile?: string;
  /** Everything else the construct takes. @default - the construct's defaults */
  readonly orchestrator?: Omit<SubjectRightsOrchestratorProps, 'dataMap' | 'tables' | 'buckets'>;
}

export class ReferenceOperatorStack extends Stack {
  readonly orchestrator: SubjectRightsOrchestrator;

  constructor(scope: Construct, id: string, props: ReferenceOperatorStackProps = {}) {
    super(scope, id, { description: 'Subject Rights Orchestrator for the reference VoIP operator', ...props });
    const dataMap = JSON.parse(fs.readFileSync(props.dataMapFile ?? REFERENCE_DATA_MAP, 'utf8')) as { stores?: { kind?: string; table?: string; bucket?: string }[] };
    const stores = Array.isArray(dataMap.stores) ? dataMap.stores : [];
    const tables = unique(stores.flatMap((s) => (s.kind === 'dynamodb' && typeof s.table === 'string' ? [s.table] : [])));
    const buckets = unique(stores.flatMap((s) => (s.kind !== 'dynamodb' && typeof s.bucket === 'string' ? [s.bucket] : [])));
    this.orchestrator = new SubjectRightsOrchestrator(this, 'Dsr', {
      ...props.orchestrator,
      dataMap,
      tables: Object.fromEntries(tables.map((name) => [name, dynamodb.Table.fromTableName(this, `Table-${name}`, name)])),
      buckets: Object.fromEntries(buckets.map((name) => [name, s3.Bucket.fromBucketName(this, `Bucket-${name}`, name)])),
    });
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
