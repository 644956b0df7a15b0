/**
 * SubjectRightsOrchestrator: the product as one construct. Its own resources (ledger, work and
 * bundle buckets, key, secret: product-resources.ts), one function per Task handler with grants
 * derived from the data map (policies.ts, and operator-stores.ts for the stores' keys), the
 * state machines from statemachines/*.asl.json, alarms, the support and auditor policies, and
 * the outputs the CLI reads (outputs.ts).
 */
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import type { DataMap } from '../functions/core/datamap';
import { deadlineAlarm, logErasureOverdueAlarm } from './deadline-alarm';
import { HANDLER_ACCESS } from './access';
import { handlerFunction, pascal, writeConfigFile } from './functions';
import { MACHINES, machineHandlers, scheduleMachine, stateMachine } from './machines';
import { addMapRunPolicies } from './map-run-policy';
import { DsrConsole } from './console';
import { acknowledge, acknowledgeWildcards, type WildcardGrant } from './nag';
import { OperatorStores } from './operator-stores';
import { addCliOutputs, addConsoleUrlOutput } from './outputs';
import { auditorPolicy, handlerPolicy, machineStatements, productKeyActions, supportPolicy, type MachineArns, type MachineId, type PolicyArns, type ProductArns } from './policies';
import { productResources } from './product-resources';
import { lifecycleRules, type LifecycleRuleSpec } from '../functions/core/retention-limits';
import { DEFAULT_SCHEDULE, parseSchedule } from '../functions/core/retention';
import type { SubjectRightsOrchestratorProps } from './props';
import { machineSchedule, validateProps } from './resolve-props';
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

  private readonly stores: OperatorStores;
  private readonly wildcards: WildcardGrant[] = [];

  constructor(scope: Construct, id: string, props: SubjectRightsOrchestratorProps) {
    super(scope, id);
    // Server access logs delivered by bucket policy, never by ACL, whatever the app's flags.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const v = validateProps(id, props);
    this.stores = new OperatorStores(this, props);
    this.dataMap = v.dataMap;
    const logRetention = props.logRetention ?? logs.RetentionDays.SIX_MONTHS;

    const { logKey, accessLogs, ...own } = productResources(this, props, v);
    this.encryptionKey = own.encryptionKey;
    this.ledgerTable = own.ledgerTable;
    this.workBucket = own.workBucket;
    this.bundleBucket = own.bundleBucket;
    this.anonymizationSecret = own.anonymizationSecret;

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
      storeTable: (name) => this.stores.table(name).tableArn,
      storeBucket: (name) => this.stores.bucket(name).bucketArn,
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
      this.stores.grantKeys(fn, v.dataMap, access.stores);
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
        schedules.push(scheduleMachine(this, `${pascal(spec.id)}Schedule`, machine, machineSchedule(props, spec.schedule.prop), spec.schedule.input, spec.schedule.description));
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
    addMapRunPolicies(this, machines, policyArns, this.encryptionKey, this.wildcards);

    // Handlers that start or list executions (retention enforcement): StartExecution on the machines, which exist now.
    for (const [handlerId, fn] of functions) {
      for (const st of machineStatements(handlerId, policyArns)) fn.addToRolePolicy(iam.PolicyStatement.fromJson(st));
    }
    this.retentionLifecycleRules = lifecycleRules(v.dataMap, v.retention ? parseSchedule(v.retention) : DEFAULT_SCHEDULE);
    this.stores.applyLifecycleRules(this.retentionLifecycleRules);
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
    this.stores.grantKeys(new PolicyGrantee(this.supportPolicy), v.dataMap, ['identity']);
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
    addCliOutputs(this, id, this.cliEnvironment, { support: this.supportPolicy, auditor: this.auditorPolicy });
    if (props.console) {
      const web = new DsrConsole(this, 'Console', props.console, { configFile, environment: { ...this.cliEnvironment }, logRetention, logKey, accessLogs });
      // Each console function acts as its role does: that role's policy statements, exactly, and
      // the key grants of that role's managed policy (the auditor's: decrypt only).
      renderStatements(supportPolicy(v.dataMap, policyArns), (s) => web.supportFunction.addToRolePolicy(s), web.supportFunction.role!, this.wildcards);
      this.encryptionKey.grant(web.supportFunction, 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey');
      this.stores.grantKeys(web.supportFunction, v.dataMap, ['identity']);
      renderStatements(auditorPolicy(policyArns), (s) => web.auditorFunction.addToRolePolicy(s), web.auditorFunction.role!, this.wildcards);
      this.encryptionKey.grant(web.auditorFunction, 'kms:Decrypt', 'kms:DescribeKey');
      addConsoleUrlOutput(this, id, web);
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
}
