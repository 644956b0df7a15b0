/**
 * SubjectRightsOrchestrator: the product as one construct. Its own resources (ledger, work and
 * bundle buckets, key, secret), one function per Task handler with grants derived from the data
 * map, the state machines from statemachines/*.asl.json, alarms, and the support and auditor
 * policies.
 */
import { ArnFormat, CfnOutput, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import type { DataMap } from '../functions/core/datamap';
import { DEADLINE_INDEX } from '../functions/core/deadlines';
import { deadlineAlarm, logErasureOverdueAlarm } from './deadline-alarm';
import { LEDGER_KEY } from '../functions/core/ledger';
import { HANDLER_ACCESS, storeGrants, writes, type StoreOperation, type StoreResource } from './access';
import { handlerFunction, pascal, writeConfigFile } from './functions';
import { MACHINES, machineHandlers, scheduleMachine, stateMachine } from './machines';
import { DsrConsole } from './console';
import { acknowledge, acknowledgeWildcards, type WildcardGrant } from './nag';
import { auditorPolicy, handlerPolicy, machinePolicy, machineStatements, MAP_RUN_MACHINES, productKeyActions, supportPolicy, type MachineArns, type MachineId, type PolicyArns, type ProductArns } from './policies';
import { lifecycleRules, type LifecycleRuleSpec } from '../functions/core/retention-limits';
import { DEFAULT_SCHEDULE, parseSchedule } from '../functions/core/retention';
import { validateProps, type SubjectRightsOrchestratorProps } from './props';
import { attachUserPolicy, defaultPolicyNamePrefix, executionsArn, managedPolicyName, mapRunChildrenArn, PolicyGrantee, renderStatements, userPolicy } from './user-policies';

export type { SubjectRightsOrchestratorProps } from './props';

export class SubjectRightsOrchestrator extends Construct {
  /** Requests, plans, approvals, holds, deferrals and the receipt chain. */
  readonly ledgerTable: dynamodb.Table;
  /** Identities, findings and plans of running requests (`requests/`, expiring). */
  readonly workBucket: s3.Bucket;
  /** Portability bundles (`bundles/`) and access reports (`reports/`), expiring. */
  readonly bundleBucket: s3.Bucket;
  readonly encryptionKey: kms.IKey;
  readonly anonymizationSecret: secretsmanager.ISecret;
  /** The validated data map the functions were configured with. */
  readonly dataMap: DataMap;
  /** Functions by handler id (functions/handlers/registry.ts). */
  readonly functions: ReadonlyMap<string, NodejsFunction>;
  /** State machines by id (infra/machines.ts). */
  readonly stateMachines: ReadonlyMap<string, sfn.StateMachine>;
  /** The subject-request machine. */
  readonly stateMachine: sfn.StateMachine;
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly schedules: readonly scheduler.Schedule[];
  /** Attach to the role support staff use with the `dsr` CLI (or `grantSupport`); named `supportPolicyName`. */
  readonly supportPolicy: iam.ManagedPolicy;
  /** Attach to the role auditors use (or `grantAuditor`); named `auditorPolicyName`. */
  readonly auditorPolicy: iam.ManagedPolicy;
  /** Stable names, for IAM Identity Center permission sets (customer managed policies are referenced by name). */
  readonly supportPolicyName: string;
  readonly auditorPolicyName: string;
  /**
   * S3 lifecycle rules of the log stores, generated from the retention schedule's record-level
   * limits (functions/core/retention-limits.ts). Added to the buckets given as `s3.Bucket`s in
   * `buckets` (owned by the app); an imported bucket cannot take them from CDK: apply them with
   * `dsr retention lifecycle --json` (PutBucketLifecycleConfiguration input per bucket).
   */
  readonly retentionLifecycleRules: readonly LifecycleRuleSpec[];
  /** The variables the `dsr` CLI reads, by name. */
  readonly cliEnvironment: Readonly<Record<string, string>>;
  /** The web console, when the `console` prop asks for it. */
  readonly console?: DsrConsole;

  private readonly props: SubjectRightsOrchestratorProps;
  private readonly wildcards: WildcardGrant[] = [];

  constructor(scope: Construct, id: string, props: SubjectRightsOrchestratorProps) {
    super(scope, id);
    // Server access logs delivered by bucket policy, never by ACL, whatever the app's flags.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const v = validateProps(id, props);
    this.props = props;
    this.dataMap = v.dataMap;
    const logRetention = props.logRetention ?? logs.RetentionDays.SIX_MONTHS;

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Subject Rights Orchestrator: ledger, work and bundle buckets, anonymization key, logs',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    const logKey = this.allowLogsToUseKey(this.encryptionKey) ? this.encryptionKey : undefined;

    const accessLogs = props.accessLogsBucket ?? this.accessLogsBucket();
    this.ledgerTable = new dynamodb.Table(this, 'Ledger', {
      partitionKey: { name: LEDGER_KEY.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LEDGER_KEY.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // `dsr requests` and the deadline alarm: requests by due date, without the request itself (the subject id).
    this.ledgerTable.addGlobalSecondaryIndex({
      indexName: DEADLINE_INDEX.name,
      partitionKey: { name: DEADLINE_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: DEADLINE_INDEX.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...DEADLINE_INDEX.projected],
    });
    this.workBucket = this.productBucket('WorkBucket', accessLogs, 'work/', {
      versioned: true,
      lifecycleRules: [
        { id: 'expire-request-documents', prefix: 'requests/', expiration: Duration.days(v.workRetentionDays) },
        // Personal data must not linger in old versions once overwritten or expired.
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(1), expiredObjectDeleteMarker: true },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    this.bundleBucket = this.productBucket('BundleBucket', accessLogs, 'bundles/', {
      lifecycleRules: [
        { id: 'expire-bundles', prefix: 'bundles/', expiration: Duration.days(v.bundleRetentionDays) },
        { id: 'expire-reports', prefix: 'reports/', expiration: Duration.days(v.bundleRetentionDays) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    this.anonymizationSecret =
      props.anonymizationSecret ??
      new secretsmanager.Secret(this, 'AnonymizationKey', {
        description: 'Subject Rights Orchestrator: HMAC key for the "hmac" anonymization strategy',
        encryptionKey: this.encryptionKey,
        generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
        removalPolicy: RemovalPolicy.RETAIN,
      });

    // The data map and settings travel in a file bundled beside each handler; the resource
    // names are deploy-time values and travel as variables (functions/core/config.ts merges them).
    const configFile = writeConfigFile(this, {
      dataMap: v.dataMap,
      settings: { approvalRequired: props.approvalRequired ?? false, bundleUrlExpirySeconds: v.bundleUrlExpirySeconds, sweepMaxEntries: v.sweepMaxEntries, logPass: v.logPass, ...(v.deadlines ? { deadlines: v.deadlines } : {}) },
      ...(v.retention ? { retention: v.retention } : {}),
    });
    const environment = {
      DSR_LEDGER_TABLE: this.ledgerTable.tableName,
      DSR_WORK_BUCKET: this.workBucket.bucketName,
      DSR_BUNDLE_BUCKET: this.bundleBucket.bucketName,
    };

    const productArns: ProductArns = {
      ledgerTable: this.ledgerTable.tableArn,
      workBucket: this.workBucket.bucketArn,
      bundleBucket: this.bundleBucket.bucketArn,
      storeTable: (name) => this.storeTable(name).tableArn,
      storeBucket: (name) => this.storeBucket(name).bucketArn,
    };
    const functions = new Map<string, NodejsFunction>();
    for (const spec of MACHINES.flatMap(machineHandlers)) {
      const access = HANDLER_ACCESS[spec.id];
      if (!access) throw new Error(`handler ${spec.id} has no access profile in infra/access.ts: decide what it may touch before deploying it`);
      const fn = handlerFunction(this, spec, {
        configFile,
        environment,
        logRetention,
        logKey,
        ...(access.anonymizer ? { anonymizationSecret: this.anonymizationSecret } : {}),
      });
      // The statements are infra/policies.ts's, exactly: the local engine enforces the same ones.
      renderStatements(handlerPolicy(spec.id, v.dataMap, productArns), (s) => fn.addToRolePolicy(s), fn.role!, this.wildcards);
      const keyActions = productKeyActions(access);
      if (keyActions.length > 0) this.encryptionKey.grant(fn, ...keyActions);
      this.grantStoreKeys(fn, v.dataMap, access.stores);
      acknowledge(fn.role!, 'AwsSolutions-IAM5[Resource::*]', 'Only xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing), which support no resource-level permissions.');
      acknowledge(fn, 'AwsSolutions-L1', 'Node.js 22 is the runtime the project targets and tests (engines >=22, the local engine runs the same handlers on 22); move with the toolchain.');
      functions.set(spec.id, fn);
    }
    this.functions = functions;

    const machines = new Map<string, sfn.StateMachine>();
    const alarms: cloudwatch.Alarm[] = [];
    const schedules: scheduler.Schedule[] = [];
    for (const spec of MACHINES) {
      const { machine, alarm } = stateMachine(this, spec, { functions, logRetention, logKey, alarmTopic: props.alarmTopic, machines });
      machines.set(spec.id, machine);
      alarms.push(alarm);
      acknowledge(machine.role, 'AwsSolutions-IAM5[Resource::*]', 'Only X-Ray tracing and CloudWatch Logs vended-delivery actions (logs:CreateLogDelivery etc.), which support no resource-level permissions.');
      if (spec.schedule) {
        const expression = (spec.schedule.prop === 'enforcementSchedule' ? props.enforcementSchedule : spec.schedule.prop === 'logErasureSchedule' ? props.logErasureSchedule : props.sweepSchedule) ?? scheduler.ScheduleExpression.rate(Duration.days(1));
        schedules.push(scheduleMachine(this, `${pascal(spec.id)}Schedule`, machine, expression, spec.schedule.input, spec.schedule.description));
      }
    }
    alarms.push(deadlineAlarm(this, props.alarmTopic, v.deadlines?.nearingDays), logErasureOverdueAlarm(this, props.alarmTopic));
    this.stateMachines = machines;
    this.stateMachine = machines.get('subject-request')!;
    this.alarms = alarms;
    this.schedules = schedules;

    const policyArns: PolicyArns = {
      ...productArns,
      machines: Object.fromEntries(MACHINES.map((m) => [m.id, { arn: machines.get(m.id)!.stateMachineArn, executions: executionsArn(machines.get(m.id)!), mapRunChildren: mapRunChildrenArn(machines.get(m.id)!) }])) as Record<MachineId, MachineArns>,
      functions: Object.fromEntries([...functions].map(([id, fn]) => [id, fn.functionArn])),
    };
    // The Distributed Map's own needs (start its children, read its manifest, write its results),
    // in a policy of their own: the machine's default policy cannot name the machine's ARN (a cycle).
    for (const machineId of MAP_RUN_MACHINES) {
      const mapRunPolicy = new iam.Policy(this, `${pascal(machineId)}MapRunPolicy`, { roles: [machines.get(machineId)!.role] });
      const mapRun = machinePolicy(machineId, [], policyArns);
      renderStatements({ statements: mapRun.statements.filter((st) => st.Sid !== 'Invoke'), wildcards: mapRun.wildcards }, (st) => mapRunPolicy.addStatements(st), mapRunPolicy, this.wildcards);
      mapRunPolicy.addStatements(new iam.PolicyStatement({ sid: 'MapRunKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.encryptionKey.keyArn] }));
    }

    // Handlers that start or list executions (retention enforcement): StartExecution on the machines, which exist now.
    for (const [handlerId, fn] of functions) {
      for (const st of machineStatements(handlerId, policyArns)) fn.addToRolePolicy(iam.PolicyStatement.fromJson(st));
    }
    this.retentionLifecycleRules = lifecycleRules(v.dataMap, v.retention ? parseSchedule(v.retention) : DEFAULT_SCHEDULE);
    this.applyLifecycleRules(this.retentionLifecycleRules);
    const prefix = props.managedPolicyNamePrefix ?? defaultPolicyNamePrefix(this, id);
    this.supportPolicyName = managedPolicyName(prefix, 'support');
    this.auditorPolicyName = managedPolicyName(prefix, 'auditor');
    this.supportPolicy = userPolicy(this, 'SupportPolicy', {
      managedPolicyName: this.supportPolicyName,
      description: 'Subject Rights Orchestrator support: dsr start/plan/approve/status/hold/sweep/history; no deletes, no work-bucket access',
      policy: supportPolicy(v.dataMap, policyArns),
      key: this.encryptionKey,
      keyActions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      wildcards: this.wildcards,
    });
    this.grantStoreKeys(new PolicyGrantee(this.supportPolicy), v.dataMap, ['identity']);
    this.auditorPolicy = userPolicy(this, 'AuditorPolicy', {
      managedPolicyName: this.auditorPolicyName,
      description: 'Subject Rights Orchestrator auditors: execution history and the receipt chain, read only',
      policy: auditorPolicy(policyArns),
      key: this.encryptionKey,
      keyActions: ['kms:Decrypt', 'kms:DescribeKey'],
      wildcards: this.wildcards,
    });
    if (props.supportRole) this.grantSupport(props.supportRole);
    if (props.auditorRole) this.grantAuditor(props.auditorRole);

    this.cliEnvironment = {
      DSR_LEDGER_TABLE: this.ledgerTable.tableName,
      DSR_WORK_BUCKET: this.workBucket.bucketName,
      DSR_BUNDLE_BUCKET: this.bundleBucket.bucketName,
      DSR_BUNDLE_URL_EXPIRY_SECONDS: String(v.bundleUrlExpirySeconds),
      ...Object.fromEntries(MACHINES.map((m) => [m.envVar, machines.get(m.id)!.stateMachineArn])),
    };
    this.addOutputs(id);
    if (props.console) {
      const web = new DsrConsole(this, 'Console', props.console, { configFile, environment: { ...this.cliEnvironment }, logRetention, logKey, accessLogs });
      // Each console function acts as its role does: that role's policy statements, exactly, and
      // the key grants of that role's managed policy (the auditor's: decrypt only).
      renderStatements(supportPolicy(v.dataMap, policyArns), (s) => web.supportFunction.addToRolePolicy(s), web.supportFunction.role!, this.wildcards);
      this.encryptionKey.grant(web.supportFunction, 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey');
      this.grantStoreKeys(web.supportFunction, v.dataMap, ['identity']);
      renderStatements(auditorPolicy(policyArns), (s) => web.auditorFunction.addToRolePolicy(s), web.auditorFunction.role!, this.wildcards);
      this.encryptionKey.grant(web.auditorFunction, 'kms:Decrypt', 'kms:DescribeKey');
      new CfnOutput(this, 'OutputConsoleUrl', { value: `https://${web.distribution.distributionDomainName}/`, description: 'The web console' }).overrideLogicalId(`${id.replace(/[^A-Za-z0-9]/g, '')}ConsoleUrl`);
      this.console = web;
    }
    if (this.anonymizationSecret instanceof secretsmanager.Secret) {
      acknowledge(this.anonymizationSecret, 'AwsSolutions-SMG4', 'A pseudonymization key, not a credential: rotating it would change every HMAC pseudonym, so records anonymized before and after no longer join.');
    }
    acknowledgeWildcards(this.wildcards);
  }

  /** The support policy for a role, user or group (not an Identity Center `AWSReservedSSO_*` role: reference `supportPolicyName` in the permission set). */
  grantSupport(grantee: iam.IRole | iam.IUser | iam.IGroup): void {
    attachUserPolicy(this.supportPolicy, this.supportPolicyName, grantee);
  }

  /** The auditor policy for a role, user or group (not an Identity Center `AWSReservedSSO_*` role: reference `auditorPolicyName` in the permission set). */
  grantAuditor(grantee: iam.IRole | iam.IUser | iam.IGroup): void {
    attachUserPolicy(this.auditorPolicy, this.auditorPolicyName, grantee);
  }

  /**
   * Customer managed keys of imported stores: decrypt to read, and encrypt to write. A CDK
   * grant, outside infra/policies.ts: the local engine has no KMS to enforce it on.
   */
  private grantStoreKeys(grantee: iam.IGrantable, dataMap: DataMap, operations: readonly StoreOperation[]): void {
    if (operations.length === 0) return;
    for (const grant of storeGrants(dataMap, operations)) {
      const keyActions = grant.resources.some((r) => r.type === 'table' || r.type === 'index')
        ? ['kms:Decrypt', 'kms:DescribeKey', ...(writes(grant.actions) ? ['kms:Encrypt', 'kms:GenerateDataKey'] : [])]
        : ['kms:Decrypt', ...(writes(grant.actions) ? ['kms:GenerateDataKey'] : [])];
      for (const key of new Set(grant.resources.flatMap((r) => this.storeKey(r) ?? []))) key.grant(grantee, ...keyActions);
    }
  }

  private applyLifecycleRules(rules: readonly LifecycleRuleSpec[]): void {
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

  private readonly tables = new Map<string, dynamodb.ITable>();
  private readonly buckets = new Map<string, s3.IBucket>();

  private storeTable(name: string): dynamodb.ITable {
    let table = this.tables.get(name);
    if (!table) {
      const given = this.props.tables?.[name];
      const id = `StoreTable-${name}`;
      table = typeof given === 'string' ? dynamodb.Table.fromTableArn(this, id, given) : (given ?? dynamodb.Table.fromTableName(this, id, name));
      this.tables.set(name, table);
    }
    return table;
  }

  private storeBucket(name: string): s3.IBucket {
    let bucket = this.buckets.get(name);
    if (!bucket) {
      const given = this.props.buckets?.[name];
      const id = `StoreBucket-${name}`;
      bucket = typeof given === 'string' ? s3.Bucket.fromBucketArn(this, id, given) : (given ?? s3.Bucket.fromBucketName(this, id, name));
      this.buckets.set(name, bucket);
    }
    return bucket;
  }

  private storeKey(r: StoreResource): kms.IKey | undefined {
    return r.type === 'table' || r.type === 'index' ? this.storeTable(r.table).encryptionKey : this.storeBucket(r.bucket).encryptionKey;
  }

  private productBucket(id: string, accessLogs: s3.IBucket, logPrefix: string, extra: Pick<s3.BucketProps, 'versioned' | 'lifecycleRules'>): s3.Bucket {
    return new s3.Bucket(this, id, {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
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

  private accessLogsBucket(): s3.Bucket {
    return new s3.Bucket(this, 'AccessLogs', {
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
  private allowLogsToUseKey(key: kms.IKey): boolean {
    const stack = Stack.of(this);
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

  /**
   * Outputs named after the CLI's variables (CloudFormation keys are alphanumeric: with the id
   * `Dsr`, `DsrLedgerTable` is DSR_LEDGER_TABLE), plus `<id>CliEnv`, a line to `eval`.
   */
  private addOutputs(id: string): void {
    const prefix = id.replace(/[^A-Za-z0-9]/g, '');
    const output = (name: string, value: string, description: string) => {
      const out = new CfnOutput(this, `Output${name}`, { value, description });
      out.overrideLogicalId(`${prefix}${name}`);
    };
    for (const [variable, value] of Object.entries(this.cliEnvironment)) {
      output(pascal(variable.toLowerCase().replace(/_/g, '-')).replace(/^Dsr/, ''), value, `${variable} for the dsr CLI`);
    }
    output('SupportPolicyArn', this.supportPolicy.managedPolicyArn, 'Managed policy for support staff (dsr start/plan/approve/status/hold/history)');
    output('AuditorPolicyArn', this.auditorPolicy.managedPolicyArn, 'Managed policy for auditors (execution history and receipts, read only)');
    output(
      'CliEnv',
      Fn.join(' ', Object.entries(this.cliEnvironment).map(([k, v]) => Fn.join('', [`export ${k}=`, v, ';']))),
      'eval "$(aws cloudformation describe-stacks ... --query \'Stacks[0].Outputs[?OutputKey==`<id>CliEnv`].OutputValue\' --output text)"',
    );
  }
}
