import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import fs from 'node:fs';
import path from 'node:path';
import { parseDataMap, type DataMap } from '../../functions/core/datamap';
import { parseConfig, withEnvironmentSettings } from '../../functions/core/config';
import { HANDLERS } from '../../functions/handlers/registry';
import { loadDefinition } from '../../local/sfn/definition';
import { HANDLER_ACCESS, storeGrants, type StoreResource } from '../../infra/access';
import { SubjectRightsOrchestrator } from '../../infra/construct';
import { auditorPolicy, handlerPolicy, machinePolicy, supportPolicy, type PolicyArns } from '../../infra/policies';
import { executionsArn, mapRunChildrenArn } from '../../infra/user-policies';
import { LogPassSettingsSchema } from '../../functions/core/log-pass-settings';
import { DeadlineSettingsSchema, deadlineSettings } from '../../functions/core/deadline-settings';
import { responseDays } from '../../functions/core/deadlines';
import { MACHINES, machineFile, machineHandlers } from '../../infra/machines';
import { ReferenceOperatorStack } from '../../infra/stack';
import { actionsOf, flat, nagViolations, referenceDataMap, resourcesOf, roleStatements, testApp, type Statement } from './synth';

const EXTRA_STORE = {
  name: 'loyalty',
  kind: 'dynamodb',
  category: 'account',
  table: 'voip-loyalty',
  key: { partitionKey: 'accountId' },
  lookups: [
    { identifier: 'accountId', attribute: 'accountId' },
    { identifier: 'email', attribute: 'email', index: 'by-email' },
  ],
};

const app = testApp();
const ref = new ReferenceOperatorStack(app, 'Ref');
const extraStack = new Stack(app, 'Extra');
const supportRole = iam.Role.fromRoleArn(extraStack, 'Support', 'arn:aws:iam::111111111111:role/dsr-support');
const accountsKey = kms.Key.fromKeyArn(extraStack, 'AccountsKey', 'arn:aws:kms:ca-central-1:111111111111:key/11111111-2222-3333-4444-555555555555');
const extraMap = { ...referenceDataMap(), stores: [...referenceDataMap().stores, EXTRA_STORE] };
const extra = new SubjectRightsOrchestrator(extraStack, 'Dsr', {
  dataMap: extraMap,
  approvalRequired: true,
  supportRole,
  alarmTopic: sns.Topic.fromTopicArn(extraStack, 'Alarms', 'arn:aws:sns:ca-central-1:111111111111:dsr-alarms'),
  sweepSchedule: scheduler.ScheduleExpression.cron({ hour: '4', minute: '30' }),
  bundleUrlExpiry: Duration.hours(1),
  deadlines: { responseDays: { CA: 30, 'CA-QC': 25 }, nearingDays: 10 },
  tables: { 'voip-accounts': dynamodb.Table.fromTableAttributes(extraStack, 'Accounts', { tableName: 'voip-accounts', encryptionKey: accountsKey }) },
  buckets: { 'voip-media': 'arn:aws:s3:::voip-media' },
});
// A log bucket the app owns: the construct adds the schedule's lifecycle rules to it.
const ownedLogsStack = new Stack(app, 'OwnedLogs');
const ownedLogs = new SubjectRightsOrchestrator(ownedLogsStack, 'Dsr', { dataMap: referenceDataMap(), buckets: { 'voip-logs': new s3.Bucket(ownedLogsStack, 'Logs', { bucketName: 'voip-logs', versioned: true }) } });
let t: Template;
let tx: Template;
let refMap: DataMap;

afterAll(() => fs.rmSync(app.outdir, { recursive: true, force: true }));

beforeAll(() => {
  t = Template.fromStack(ref);
  tx = Template.fromStack(extraStack);
  refMap = parseDataMap(referenceDataMap());
});

/** Logical-id prefix of a handler's role: `Dsr` + PascalCase id + `Role`. */
function rolePrefix(id: string): string {
  return `Dsr${id.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}Role`;
}

/** The operator-store ARNs (never the product's own, which are references) a role's policies name. */
function storeArns(template: Template, id: string): Set<string> {
  return new Set(
    roleStatements(template, rolePrefix(id))
      .flatMap(resourcesOf)
      .map(flat)
      .filter((r) => /^arn:(<AWS::Partition>|aws[a-z-]*):(dynamodb|s3):/.test(r)),
  );
}

function expectedArn(r: StoreResource): string {
  const table = (name: string) => `arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${name}`;
  switch (r.type) {
    case 'table':
      return table(r.table);
    case 'index':
      return `${table(r.table)}/index/${r.index}`;
    case 'bucket':
      return `arn:<AWS::Partition>:s3:::${r.bucket}`;
    case 'objects':
      return `arn:<AWS::Partition>:s3:::${r.bucket}/${r.pattern}`;
  }
}

describe('SubjectRightsOrchestrator: product resources', () => {
  it('keeps the ledger on demand, recoverable, protected from deletion and under the customer key', () => {
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DsrKey'), 'Arn'] } },
    });
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('encrypts both buckets with the key, blocks public access, logs access and expires personal data', () => {
    const kmsBucket = {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^DsrAccessLogs') } },
    };
    t.hasResourceProperties('AWS::S3::Bucket', {
      ...kmsBucket,
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'requests/', ExpirationInDays: 30 }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 1 } }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::S3::Bucket', {
      ...kmsBucket,
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: 'bundles/', ExpirationInDays: 7 }), Match.objectLike({ Prefix: 'reports/', ExpirationInDays: 7 })]) },
    });
    // The deferred identities must outlive a request: no rule expires deferred/.
    const rules = Object.values(t.findResources('AWS::S3::Bucket')).flatMap((b) => b.Properties.LifecycleConfiguration?.Rules ?? []);
    expect(rules.filter((r: { Prefix?: string }) => r.Prefix === 'deferred/')).toEqual([]);
  });

  it('refuses plain HTTP and TLS below 1.2 on every bucket', () => {
    const policies = Object.values(t.findResources('AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(3);
    for (const p of policies) {
      const denies = (p.Properties.PolicyDocument.Statement as { Effect: string; Condition?: Record<string, Record<string, unknown>> }[]).filter((s) => s.Effect === 'Deny');
      expect(denies.some((s) => s.Condition?.Bool?.['aws:SecureTransport'] === 'false')).toBe(true);
      expect(denies.some((s) => s.Condition?.NumericLessThan?.['s3:TlsVersion'] === 1.2)).toBe(true);
    }
  });
});

describe('SubjectRightsOrchestrator: functions', () => {
  it('makes one Node 22 arm64 function per registry handler, sized by the registry, traced, with its own log group', () => {
    const fns = Object.values(t.findResources('AWS::Lambda::Function'));
    expect(fns).toHaveLength(HANDLERS.length);
    for (const spec of HANDLERS) {
      t.hasResourceProperties('AWS::Lambda::Function', {
        Description: `Subject Rights Orchestrator: ${spec.id}`,
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('Logs') } },
        Environment: { Variables: Match.objectLike({ DSR_LEDGER_TABLE: Match.anyValue(), DSR_WORK_BUCKET: Match.anyValue(), DSR_BUNDLE_BUCKET: Match.anyValue() }) },
      });
    }
    const groups = Object.values(t.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(HANDLERS.length + MACHINES.length);
    for (const g of groups) {
      expect(g.Properties.RetentionInDays).toBe(180);
      expect(g.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DsrKey/), 'Arn'] });
    }
    // Function groups are named by CloudFormation; machine groups under /aws/vendedlogs/, ending
    // with the stack's id, so no two stacks (nor a new one after a retained group) share a name.
    const named = groups.filter((g) => g.Properties.LogGroupName !== undefined);
    expect(named).toHaveLength(MACHINES.length);
    for (const g of named) {
      const parts = g.Properties.LogGroupName['Fn::Join'][1] as unknown[];
      expect(parts[0]).toMatch(/^\/aws\/vendedlogs\/states\/.+-$/);
      expect(parts[1]).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] });
    }
  });

  it('gives the anonymization key only to functions that build a connector context', () => {
    for (const spec of HANDLERS) {
      const fn = Object.values(t.findResources('AWS::Lambda::Function', { Properties: { Description: `Subject Rights Orchestrator: ${spec.id}` } }))[0];
      const env = fn.Properties.Environment.Variables as Record<string, unknown>;
      expect([spec.id, 'DSR_HMAC_SECRET_ARN' in env]).toEqual([spec.id, HANDLER_ACCESS[spec.id].anonymizer]);
      // No layer: the key is read with a signed call (infra/lambda/secret.ts), in every region.
      expect([spec.id, fn.Properties.Layers]).toEqual([spec.id, undefined]);
      const secretRead = roleStatements(t, rolePrefix(spec.id)).some((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
      expect([spec.id, secretRead]).toEqual([spec.id, HANDLER_ACCESS[spec.id].anonymizer]);
    }
  });

  it('writes the configuration every function gets: the data map and settings, resource names left to the environment', () => {
    const outdir = app.outdir;
    const files = fs.readdirSync(outdir).filter((f) => /^dsr-config-[0-9a-f]{16}\.json$/.test(f));
    const configs = files.map((f) => JSON.parse(fs.readFileSync(path.join(outdir, f), 'utf8')));
    const refConfig = configs.find((c) => c.dataMap.stores.length === refMap.stores.length)!;
    expect(refConfig.settings).toEqual({ approvalRequired: false, bundleUrlExpirySeconds: 900, sweepMaxEntries: 250, logPass: LogPassSettingsSchema.parse({}) });
    const env = { DSR_LEDGER_TABLE: 'ledger-from-cfn', DSR_WORK_BUCKET: 'work-from-cfn', DSR_BUNDLE_BUCKET: 'bundles-from-cfn' };
    const parsed = parseConfig(withEnvironmentSettings(refConfig, env));
    expect(parsed.settings).toMatchObject({ ledgerTable: 'ledger-from-cfn', workBucket: 'work-from-cfn', bundleBucket: 'bundles-from-cfn', approvalRequired: false });
    expect(parsed.dataMap).toEqual(refMap);
    const extraConfig = configs.find((c) => c.dataMap.stores.some((s: { name: string }) => s.name === 'loyalty'))!;
    const deadlines = DeadlineSettingsSchema.parse({ responseDays: { CA: 30, 'CA-QC': 25 }, nearingDays: 10 });
    expect(extraConfig.settings).toEqual({ approvalRequired: true, bundleUrlExpirySeconds: 3600, sweepMaxEntries: 250, logPass: LogPassSettingsSchema.parse({}), deadlines });
    // What the functions read: the prop's periods (a Quebec request is due in 25 days), and the alarm's window.
    const extraSettings = deadlineSettings(parseConfig(withEnvironmentSettings(extraConfig, env)).settings);
    expect([responseDays(extraSettings, 'CA-QC'), responseDays(extraSettings, 'CA-ON'), extraSettings.nearingDays]).toEqual([25, 30, 10]);
    tx.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RequestsNearingDeadline', AlarmDescription: Match.stringLikeRegexp('--due-within 10d') });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RequestsNearingDeadline', AlarmDescription: Match.stringLikeRegexp('--due-within 7d') });
  });
});

describe('SubjectRightsOrchestrator: state machines', () => {
  it('runs every machine STANDARD, traced, logging ALL without execution data, from its ASL file', () => {
    for (const spec of MACHINES) {
      t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { IncludeExecutionData: false, Level: 'ALL', Destinations: [Match.anyValue()] },
        DefinitionS3Location: Match.anyValue(),
        DefinitionSubstitutions: Object.fromEntries(machineHandlers(spec).map((h) => [h.substitution, { 'Fn::GetAtt': [Match.stringLikeRegexp('^Dsr'), 'Arn'] }])),
      });
    }
  });

  it('substitutes every placeholder of each ASL file and uses every substitution', () => {
    const machines = Object.values(t.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(MACHINES.length);
    for (const spec of MACHINES) {
      const keys = [...machineHandlers(spec).map((h) => h.substitution), ...Object.keys(spec.machineSubstitutions ?? {})];
      const inTemplate = machines.find((m) => Object.keys(m.Properties.DefinitionSubstitutions).sort().join() === [...keys].sort().join());
      expect([spec.id, inTemplate !== undefined]).toEqual([spec.id, true]);
      // The local engine's loader fails on a missing or an unused substitution.
      expect(() => loadDefinition(machineFile(spec), Object.fromEntries(keys.map((k) => [k, 'arn:aws:lambda:ca-central-1:111111111111:function:x'])))).not.toThrow();
    }
  });

  it('invokes exactly the handler functions, unqualified', () => {
    const statements = roleStatements(t, 'DsrSubjectRequestRole').filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    const targets = statements.flatMap(resourcesOf).map(flat);
    const handlers = machineHandlers(MACHINES[0]);
    expect(targets).toHaveLength(handlers.length);
    for (const h of handlers) {
      const logicalId = `Dsr${h.id.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}`;
      expect([h.id, targets.some((a) => new RegExp(`^<${logicalId}[0-9A-F]{8}\\.Arn>$`).test(a))]).toEqual([h.id, true]);
    }
    expect(targets.every((arn) => !arn.endsWith(':*'))).toBe(true);
  });

  it('alarms on failed, timed-out and aborted executions, to the topic when one is given', () => {
    const alarm = {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsFailed' }) }) }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsTimedOut' }) }) }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsAborted' }) }) }),
      ]),
    };
    // One per machine, the deadline alarm and the overdue log erasures alarm.
    t.resourceCountIs('AWS::CloudWatch::Alarm', MACHINES.length + 2);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { ...alarm, AlarmActions: Match.absent() });
    tx.hasResourceProperties('AWS::CloudWatch::Alarm', { ...alarm, AlarmActions: ['arn:aws:sns:ca-central-1:111111111111:dsr-alarms'] });
  });

  it('alarms on requests nearing their deadline (the sweep\'s metric line), from a deadline index on the ledger that projects no subject id', () => {
    const alarm = { ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1, Namespace: 'SubjectRightsOrchestrator', MetricName: 'RequestsNearingDeadline', Statistic: 'Maximum', Period: 86400, TreatMissingData: 'notBreaching' };
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { ...alarm, AlarmActions: Match.absent() });
    tx.hasResourceProperties('AWS::CloudWatch::Alarm', { ...alarm, AlarmActions: ['arn:aws:sns:ca-central-1:111111111111:dsr-alarms'] });
    const index = { IndexName: 'by-due', Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: Match.arrayWith(['requestId', 'status', 'receivedAt']) } };
    t.hasResourceProperties('AWS::DynamoDB::Table', { GlobalSecondaryIndexes: [Match.objectLike(index)] });
    const table = Object.values(t.findResources('AWS::DynamoDB::Table')).find((r) => JSON.stringify(r).includes('by-due'))!;
    expect(JSON.stringify(table)).not.toMatch(/"request"|subjectId/);
  });

  it('alarms on queued log erasures past their deadline (the log-erasure machine\'s metric line)', () => {
    const alarm = { ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1, Namespace: 'SubjectRightsOrchestrator', MetricName: 'LogErasuresOverdue', Statistic: 'Maximum', Period: 86400, TreatMissingData: 'notBreaching' };
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { ...alarm, AlarmActions: Match.absent() });
    tx.hasResourceProperties('AWS::CloudWatch::Alarm', { ...alarm, AlarmActions: ['arn:aws:sns:ca-central-1:111111111111:dsr-alarms'] });
  });

  it('starts the retention sweep daily by default, on the given schedule otherwise, with a sweep id', () => {
    const sweep = MACHINES.find((m) => m.schedule)!;
    expect(sweep.id).toBe('retention-sweep');
    const target = { Arn: { Ref: Match.stringLikeRegexp('^DsrRetentionSweep') }, Input: JSON.stringify({ sweepId: '<aws.scheduler.execution-id>' }) };
    t.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 day)', Target: Match.objectLike(target) });
    tx.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(30 4 * * ? *)', Target: Match.objectLike(target) });
  });
});

describe('SubjectRightsOrchestrator: retention enforcement', () => {
  it('starts the enforcement machine daily with a run id, and lets only its starter start subject requests', () => {
    const target = { Arn: { Ref: Match.stringLikeRegexp('^DsrRetentionEnforcement') }, Input: JSON.stringify({ runId: '<aws.scheduler.execution-id>' }) };
    t.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 day)', Target: Match.objectLike(target) });
    const starters = HANDLERS.filter((h) => roleStatements(t, rolePrefix(h.id)).some((st) => actionsOf(st).includes('states:StartExecution'))).map((h) => h.id);
    expect(starters).toEqual(['start-retention-erasures']);
    const started = roleStatements(t, rolePrefix('start-retention-erasures')).filter((st) => actionsOf(st).includes('states:StartExecution')).flatMap(resourcesOf).map(flat);
    expect(started).toHaveLength(1);
    expect(started[0]).toMatch(/^<DsrSubjectRequest[0-9A-F]{8}>$/);
  });

  it('adds the schedule\'s lifecycle rules to a log bucket the app owns, and lists them for imported ones', () => {
    const rules = Template.fromStack(ownedLogsStack).findResources('AWS::S3::Bucket', { Properties: { BucketName: 'voip-logs' } });
    const config = Object.values(rules)[0].Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;
    expect(config).toContainEqual({ Id: 'dsr-expire-sip-logs', Prefix: 'sip/', ExpirationInDays: 372, Status: 'Enabled' });
    expect(config).toContainEqual({ Id: 'dsr-expire-noncurrent-app-logs', Prefix: 'app/', NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' });
    expect(config).toContainEqual({ Id: 'dsr-expired-delete-markers', ExpiredObjectDeleteMarker: true, Status: 'Enabled' });
    expect(ownedLogs.retentionLifecycleRules.map((r) => r.id)).toEqual(config.map((r) => r.Id));
    expect(ref.orchestrator.retentionLifecycleRules.length).toBe(config.length);
  });
});

describe('SubjectRightsOrchestrator: least privilege from the data map', () => {
  it('names, for every handler, exactly the store ARNs its operations derive from the data map', () => {
    for (const spec of HANDLERS) {
      const expected = new Set(storeGrants(refMap, HANDLER_ACCESS[spec.id].stores).flatMap((g) => g.resources.map(expectedArn)));
      expect([spec.id, [...storeArns(t, spec.id)].sort()]).toEqual([spec.id, [...expected].sort()]);
    }
  });

  it('grants discovery Query on the mapped indexes, Scan only where retention enforcement needs it, writes only to erasing, restricting and purging functions', () => {
    const discover = roleStatements(t, rolePrefix('discover-store'));
    const query = discover.filter((s) => actionsOf(s).includes('dynamodb:Query')).flatMap(resourcesOf).map(flat);
    expect(query).toContain('arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/voip-accounts/index/by-email');
    expect(query).toContain('arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/voip-contacts/index/by-contact-phone');
    // Scan: only the purge, and only of the one store whose expiry the data map says is a Scan (never the ledger).
    const scanning = HANDLERS.filter((h) => roleStatements(t, rolePrefix(h.id)).some((st) => actionsOf(st).includes('dynamodb:Scan'))).map((h) => h.id);
    expect(scanning).toEqual(['purge-expired-records']);
    const scanned = roleStatements(t, rolePrefix('purge-expired-records')).filter((st) => actionsOf(st).includes('dynamodb:Scan')).flatMap(resourcesOf).map(flat);
    expect(scanned).toEqual(['arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/voip-billing']);
    // On the operator's stores (the product's own ledger and work bucket are written by more).
    const onStores = (st: Statement) => resourcesOf(st).map(flat).some((r) => /:table\/voip-|:s3:::voip-/.test(r));
    const writers = HANDLERS.filter((h) =>
      roleStatements(t, rolePrefix(h.id)).filter(onStores).some((s) => actionsOf(s).some((a) => /^(dynamodb:(BatchWriteItem|DeleteItem)|s3:DeleteObjectVersion|s3:PutObjectTagging)$/.test(a))),
    ).map((h) => h.id);
    expect(writers.sort()).toEqual(['erase-due-entry', 'erase-log-unit', 'erase-store', 'purge-expired-records', 'restrict-store']);
  });

  it('limits bucket listing to the mapped prefixes', () => {
    const lists = roleStatements(t, rolePrefix('erase-store')).filter((s) => actionsOf(s).includes('s3:ListBucketVersions'));
    const byBucket = Object.fromEntries(lists.map((s) => [flat(s.Resource), s.Condition?.StringLike?.['s3:prefix']]));
    expect(byBucket).toEqual({
      'arn:<AWS::Partition>:s3:::voip-media': ['fax/*/*', 'recordings/*/*', 'voicemail/*/*'],
      'arn:<AWS::Partition>:s3:::voip-logs': ['.dsr-rewrite/*', 'app/*', 'sip/*'],
    });
  });

  it('turns one more DynamoDB store into grants on that table and its index, and nothing wider', () => {
    const extraArns = (id: string) => [...storeArns(tx, id)].filter((a) => !/s3:::voip-media/.test(a));
    const refArns = (id: string) => [...storeArns(t, id)].filter((a) => !/s3:::voip-media/.test(a));
    const table = 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/voip-loyalty';
    const added = (id: string) => extraArns(id).filter((a) => !refArns(id).includes(a)).sort();
    expect(added('discover-store')).toEqual([table, `${table}/index/by-email`]);
    expect(added('erase-store')).toEqual([table]);
    expect(added('export-store')).toEqual([table]);
    expect(added('validate-request')).toEqual([]);
    for (const id of ['discover-store', 'erase-store']) expect(refArns(id).every((a) => extraArns(id).includes(a))).toBe(true);
    const onLoyalty = roleStatements(tx, rolePrefix('discover-store')).filter((s) => resourcesOf(s).map(flat).some((r) => r.startsWith(table)));
    expect(new Set(onLoyalty.flatMap(actionsOf))).toEqual(new Set(['dynamodb:DescribeTable', 'dynamodb:Query', 'dynamodb:BatchGetItem']));
  });

  it('uses the ARNs and keys given for existing stores', () => {
    const discover = roleStatements(tx, rolePrefix('discover-store'));
    expect(discover.flatMap(resourcesOf).map(flat)).toContain('arn:aws:s3:::voip-media/recordings/*/*');
    const keyUse = discover.filter((s) => flat(s.Resource) === accountsKey.keyArn);
    expect(keyUse.flatMap(actionsOf).sort()).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
  });

  it('never grants governance-mode bypass, and no wildcard resource beyond X-Ray and log delivery', () => {
    const all = [...Object.values(t.findResources('AWS::IAM::Policy')), ...Object.values(t.findResources('AWS::IAM::ManagedPolicy'))].flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    expect(all.flatMap(actionsOf).filter((a) => /BypassGovernanceRetention|^s3:\*|^dynamodb:\*/.test(a))).toEqual([]);
    const star = all.filter((s) => resourcesOf(s).includes('*')).flatMap(actionsOf);
    expect(star.filter((a) => !/^xray:|^logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)$/.test(a))).toEqual([]);
  });
});

describe('SubjectRightsOrchestrator: people', () => {
  it('lets support start and follow requests, write the ledger without deleting, and read bundles', () => {
    const support = Object.values(t.findResources('AWS::IAM::ManagedPolicy', { Properties: { Description: Match.stringLikeRegexp('support') } }))[0];
    const actions = (support.Properties.PolicyDocument.Statement as never[]).flatMap(actionsOf);
    expect(actions).toEqual(expect.arrayContaining(['states:StartExecution', 'states:DescribeExecution', 'states:GetExecutionHistory', 'states:ListExecutions', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 's3:GetObject']));
    expect(actions.filter((a) => /Delete|BatchWrite|Scan|s3:PutObject/.test(a))).toEqual([]);
    // `dsr hold place --subject` resolves identities: the same read-only grants as resolve-identity.
    const storeArnsOf = (statements: Statement[]) => new Set(statements.flatMap(resourcesOf).map(flat).filter((r) => /^arn:<AWS::Partition>:dynamodb:/.test(r)));
    expect(storeArnsOf(support.Properties.PolicyDocument.Statement)).toEqual(storeArns(t, 'resolve-identity'));
    const onStores = (support.Properties.PolicyDocument.Statement as Statement[]).filter((s) => resourcesOf(s).map(flat).some((r) => r.includes(':table/voip-')));
    expect(new Set(onStores.flatMap(actionsOf))).toEqual(new Set(['dynamodb:DescribeTable', 'dynamodb:Query', 'dynamodb:BatchGetItem']));
    tx.hasResourceProperties('AWS::IAM::ManagedPolicy', { Description: Match.stringLikeRegexp('support'), Roles: ['dsr-support'] });
  });

  it('lets auditors read history, the receipt and retention-request partitions and the deadline index only', () => {
    const auditor = Object.values(t.findResources('AWS::IAM::ManagedPolicy', { Properties: { Description: Match.stringLikeRegexp('auditors') } }))[0];
    const statements = auditor.Properties.PolicyDocument.Statement as Statement[];
    const actions = statements.flatMap(actionsOf);
    expect(actions.filter((a) => !/^(states:(DescribeExecution|GetExecutionHistory|ListExecutions|DescribeStateMachine)|dynamodb:(GetItem|Query)|kms:(Decrypt|DescribeKey))$/.test(a))).toEqual([]);
    const ledger = statements.find((s) => s.Sid === 'Receipts')!;
    // Neither partition holds a subject id: receipts carry hashes, retention requests ids and limits.
    expect(ledger.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['receipt', 'retention-request'] } });
    // The deadline index's projection holds no subject id (the console's request list).
    const index = statements.filter((s) => resourcesOf(s).map(flat).some((r) => r.includes('/index/')));
    expect(index.map((s) => [s.Sid, actionsOf(s)])).toEqual([['LedgerDeadlines', ['dynamodb:Query']]]);
  });

  it('exports the CLI variables and both policies as outputs', () => {
    const outputs = t.toJSON().Outputs as Record<string, { Description: string }>;
    expect(Object.keys(outputs).sort()).toEqual(
      ['DsrAuditorPolicyArn', 'DsrBundleBucket', 'DsrBundleUrlExpirySeconds', 'DsrCliEnv', 'DsrEnforcementStateMachineArn', 'DsrLedgerTable', 'DsrLogErasureStateMachineArn', 'DsrStateMachineArn', 'DsrSupportPolicyArn', 'DsrSweepStateMachineArn', 'DsrWorkBucket'].sort(),
    );
    expect(outputs.DsrSweepStateMachineArn.Description).toMatch(/DSR_SWEEP_STATE_MACHINE_ARN/);
    expect(Object.keys(extra.cliEnvironment).sort()).toEqual(['DSR_BUNDLE_BUCKET', 'DSR_BUNDLE_URL_EXPIRY_SECONDS', 'DSR_ENFORCEMENT_STATE_MACHINE_ARN', 'DSR_LEDGER_TABLE', 'DSR_LOG_ERASURE_STATE_MACHINE_ARN', 'DSR_STATE_MACHINE_ARN', 'DSR_SWEEP_STATE_MACHINE_ARN', 'DSR_WORK_BUCKET']);
  });
});

describe('SubjectRightsOrchestrator: the statements are infra/policies.ts\'s', () => {
  /** The model with the template's ARNs, flattened as `flat` renders them. */
  function modelArns(): PolicyArns {
    const dsr = ref.orchestrator;
    const arn = (token: string) => flat(ref.resolve(token));
    return {
      ledgerTable: arn(dsr.ledgerTable.tableArn),
      workBucket: arn(dsr.workBucket.bucketArn),
      bundleBucket: arn(dsr.bundleBucket.bucketArn),
      storeTable: (name) => `arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${name}`,
      storeBucket: (name) => `arn:<AWS::Partition>:s3:::${name}`,
      machines: Object.fromEntries([...dsr.stateMachines].map(([id, m]) => [id, { arn: arn(m.stateMachineArn), executions: flat(ref.resolve(executionsArn(m))), mapRunChildren: flat(ref.resolve(mapRunChildrenArn(m))) }])) as PolicyArns['machines'],
      functions: Object.fromEntries([...dsr.functions].map(([id, fn]) => [id, arn(fn.functionArn)])),
    };
  }
  const normalized = (statements: readonly (Statement & { Sid?: string })[]) =>
    statements
      .filter((st) => st.Sid !== undefined && st.Sid !== 'ProductKey')
      .map((st) => ({ Sid: st.Sid, Effect: st.Effect, Action: [...actionsOf(st)].sort(), Resource: resourcesOf(st).map(flat).sort(), ...(st.Condition ? { Condition: st.Condition } : {}) }))
      .sort((a, b) => a.Sid!.localeCompare(b.Sid!));

  it('renders every function role with exactly its model statements (KMS, logs, X-Ray and the secret aside)', () => {
    const arns = modelArns();
    for (const spec of HANDLERS) {
      const template = roleStatements(t, rolePrefix(spec.id)) as (Statement & { Sid?: string })[];
      // Everything without a Sid is CDK's own grant: only KMS, logs, X-Ray and the anonymization secret.
      const cdkGrants = template.filter((st) => st.Sid === undefined).flatMap(actionsOf);
      expect([spec.id, cdkGrants.filter((a) => !/^(kms|logs|xray|secretsmanager):/.test(a))]).toEqual([spec.id, []]);
      expect([spec.id, normalized(template)]).toEqual([spec.id, normalized(handlerPolicy(spec.id, refMap, arns).statements as never)]);
    }
  });

  it('gives each machine role the invocations its model names (rendered by infra/machines.ts)', () => {
    const arns = modelArns();
    for (const spec of MACHINES) {
      const invoke = roleStatements(t, `Dsr${spec.id.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}Role`).filter((st) => actionsOf(st).includes('lambda:InvokeFunction'));
      const model = machinePolicy(spec.id, machineHandlers(spec).map((h) => h.id), arns).statements.filter((st) => st.Sid === 'Invoke');
      expect([spec.id, invoke.flatMap(resourcesOf).map(flat).sort()]).toEqual([spec.id, model.flatMap((st) => st.Resource).sort()]);
    }
  });

  it.each([
    ['log-erasure', 'DsrLogErasure', 'log-passes/*', 'log-passes/*'],
    ['subject-request', 'DsrSubjectRequest', 'requests/*/log-scan/*/manifest.jsonl', 'requests/*/log-scan/*/map-run/*'],
  ] as const)("gives the %s machine its Distributed Map's statements: start its own children, follow and stop them, read the manifest, write the results", (machine, prefix, manifest, results) => {
    const arns = modelArns();
    const model = machinePolicy(machine, [], arns).statements.filter((st) => st.Sid !== 'Invoke');
    const policy = Object.entries(t.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith(`${prefix}MapRunPolicy`))![1];
    const rendered = (policy.Properties.PolicyDocument.Statement as Array<Statement & { Sid?: string }>).filter((st) => st.Sid !== 'MapRunKey');
    expect(normalized(rendered as never)).toEqual(normalized(model as never));
    expect(model.map((st) => st.Sid).sort()).toEqual(['MapRunChildren', 'MapRunManifest', 'MapRunResults', 'MapRunStart']);
    expect(model.find((st) => st.Sid === 'MapRunChildren')!.Resource.map(flat)).toEqual([expect.stringMatching(new RegExp(`:execution:<${prefix}[0-9A-F]+\\.Name>\\/\\*$`))]);
    expect(model.find((st) => st.Sid === 'MapRunManifest')!.Resource.map(flat)).toEqual([expect.stringMatching(new RegExp(`/${manifest.replace(/[*.]/g, '\\$&')}$`))]);
    expect(model.find((st) => st.Sid === 'MapRunResults')!.Resource.map(flat)).toEqual([expect.stringMatching(new RegExp(`/${results.replace(/[*.]/g, '\\$&')}$`))]);
  });

  it('renders the support and auditor policies exactly, under stable names for Identity Center', () => {
    const arns = modelArns();
    const managed = (name: string) => Object.values(t.findResources('AWS::IAM::ManagedPolicy', { Properties: { ManagedPolicyName: name } }))[0];
    expect(ref.orchestrator.supportPolicyName).toBe('Ref-Dsr-support');
    expect(ref.orchestrator.auditorPolicyName).toBe('Ref-Dsr-auditor');
    expect(normalized(managed('Ref-Dsr-support').Properties.PolicyDocument.Statement)).toEqual(normalized(supportPolicy(refMap, arns).statements as never));
    expect(normalized(managed('Ref-Dsr-auditor').Properties.PolicyDocument.Statement)).toEqual(normalized(auditorPolicy(arns).statements as never));
    tx.hasResourceProperties('AWS::IAM::ManagedPolicy', { ManagedPolicyName: 'Extra-Dsr-support', Roles: ['dsr-support'] });
  });

  it('grants support and auditors to roles, users and groups, and refuses Identity Center roles', () => {
    const grantsApp = testApp();
    const stack = new Stack(grantsApp, 'Grants');
    const dsr = new SubjectRightsOrchestrator(stack, 'Dsr', { dataMap: referenceDataMap(), managedPolicyNamePrefix: 'acme-dsr' });
    dsr.grantAuditor(new iam.Group(stack, 'Auditors'));
    dsr.grantSupport(iam.Role.fromRoleArn(stack, 'Support', 'arn:aws:iam::111111111111:role/support'));
    const sso = iam.Role.fromRoleArn(stack, 'Sso', 'arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Support_0123456789abcdef');
    expect(() => dsr.grantSupport(sso)).toThrow(/Identity Center.*"acme-dsr-support" to the permission set/);
    const g = Template.fromStack(stack);
    g.hasResourceProperties('AWS::IAM::ManagedPolicy', { ManagedPolicyName: 'acme-dsr-auditor', Groups: [Match.anyValue()] });
    g.hasResourceProperties('AWS::IAM::ManagedPolicy', { ManagedPolicyName: 'acme-dsr-support', Roles: ['support'] });
    fs.rmSync(grantsApp.outdir, { recursive: true, force: true });
  });
});

describe('SubjectRightsOrchestrator: cdk-nag AwsSolutions', () => {
  it('leaves no unacknowledged finding on the reference stack or a customized one', () => {
    expect(nagViolations(app, ref)).toEqual([]);
    expect(nagViolations(app, extraStack)).toEqual([]);
  });
});
