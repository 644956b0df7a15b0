/**
 * The state machines: one entry each. An entry names its ASL file (the single source of
 * truth, shared with the local engine), the Task handlers its placeholders refer to, the CLI
 * variable its ARN is exported as, and whether EventBridge Scheduler starts it.
 */
import { Aws, Duration, Fn, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import path from 'node:path';
import { HANDLERS, type HandlerSpec } from '../functions/handlers/registry';
import { loadDefinition } from '../local/sfn/definition';
import { REPO_ROOT, pascal } from './functions';

export interface MachineSpec {
  /** Construct id and name suffix; the handlers' `machine` in functions/handlers/registry.ts. */
  readonly id: HandlerSpec['machine'];
  /** ASL file, relative to the repository root. */
  readonly file: string;
  /** The CLI variable the machine's ARN is exported as. */
  readonly envVar: string;
  /** Started by EventBridge Scheduler on the construct prop `prop` (default once a day), with this input. */
  readonly schedule?: { readonly input: Record<string, unknown>; readonly prop?: 'sweepSchedule' | 'enforcementSchedule' | 'logErasureSchedule'; readonly description?: string };
  /** ASL placeholders that receive another machine's ARN (a machine it starts executions of). */
  readonly machineSubstitutions?: Readonly<Record<string, HandlerSpec['machine']>>;
}

/** The product's machines; a machine's Task handlers are the registry entries naming it. */
export const MACHINES: readonly MachineSpec[] = [
  { id: 'subject-request', file: 'statemachines/subject-request.asl.json', envVar: 'DSR_STATE_MACHINE_ARN' },
  {
    id: 'retention-sweep',
    file: 'statemachines/retention-sweep.asl.json',
    envVar: 'DSR_SWEEP_STATE_MACHINE_ARN',
    // Each scheduled run is its own sweep, named after the Scheduler execution.
    schedule: { input: { sweepId: scheduler.ContextAttribute.executionId } },
  },
  {
    id: 'log-erasure',
    file: 'statemachines/log-erasure.asl.json',
    envVar: 'DSR_LOG_ERASURE_STATE_MACHINE_ARN',
    // Every scheduled run looks; a pass runs when one is due (logPass.intervalDays) or a deadline is near.
    schedule: { input: { force: false }, prop: 'logErasureSchedule', description: 'Subject Rights Orchestrator: erase the queued subjects from the big log stores in one pass' },
  },
  {
    id: 'retention-enforcement',
    file: 'statemachines/retention-enforcement.asl.json',
    envVar: 'DSR_ENFORCEMENT_STATE_MACHINE_ARN',
    // Each scheduled run is its own enforcement run; its handler starts subject-request executions.
    schedule: { input: { runId: scheduler.ContextAttribute.executionId }, prop: 'enforcementSchedule', description: 'Subject Rights Orchestrator: enforce the retention schedule\'s time limits without a request' },
    machineSubstitutions: { SubjectRequestStateMachineArn: 'subject-request' },
  },
];

/** The Task handlers whose placeholders the machine's ASL uses. */
export function machineHandlers(spec: MachineSpec): HandlerSpec[] {
  return HANDLERS.filter((h) => h.machine === spec.id);
}

export function machineFile(spec: MachineSpec): string {
  return path.join(REPO_ROOT, spec.file);
}

/**
 * Checks at synth that the ASL's placeholders and the machine's handlers match exactly (a
 * leftover placeholder would reach Step Functions as a literal, an unused one means drift),
 * with the same check the local engine runs; throws DefinitionError naming both.
 */
export function checkSubstitutions(spec: MachineSpec): void {
  const dummy = {
    ...Object.fromEntries(machineHandlers(spec).map((h) => [h.substitution, `arn:aws:lambda:us-east-1:000000000000:function:${h.id}`])),
    ...Object.fromEntries(Object.entries(spec.machineSubstitutions ?? {}).map(([placeholder, m]) => [placeholder, `arn:aws:states:us-east-1:000000000000:stateMachine:${m}`])),
  };
  loadDefinition(machineFile(spec), dummy);
}

/**
 * The machine's log group name, chosen by CloudFormation at stack creation rather than fixed:
 * it ends with the stack's own id (the UUID in AWS::StackId), so a second deployment in the
 * account and region, or a new stack after a deleted one left its (retained) group behind,
 * never asks for a name that exists. Not a name CloudFormation generates on its own: that would
 * lose the /aws/vendedlogs/ prefix, which keeps Step Functions' log deliveries out of the
 * account's CloudWatch Logs resource policy (5,120 characters, shared by every delivery).
 */
export function machineLogGroupName(scope: Construct, spec: MachineSpec): string {
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  return `/aws/vendedlogs/states/${Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' })}-${spec.id}-${stackUuid}`;
}

export interface MachineOptions {
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  readonly logRetention: logs.RetentionDays;
  readonly logKey?: kms.IKey;
  readonly alarmTopic?: sns.ITopic;
  /** Machines made before this one, for its machineSubstitutions. */
  readonly machines?: ReadonlyMap<string, sfn.IStateMachine>;
}

export function stateMachine(scope: Construct, spec: MachineSpec, opts: MachineOptions): { machine: sfn.StateMachine; alarm: cloudwatch.Alarm } {
  checkSubstitutions(spec);
  const id = pascal(spec.id);
  const fns = machineHandlers(spec).map((h) => {
    const fn = opts.functions.get(h.id);
    if (!fn) throw new Error(`state machine ${spec.id}: no function for handler ${h.id}`);
    return { spec: h, fn };
  });
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    logGroupName: machineLogGroupName(scope, spec),
    retention: opts.logRetention,
    encryptionKey: opts.logKey,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const machine = new sfn.StateMachine(scope, id, {
    definitionBody: sfn.DefinitionBody.fromFile(machineFile(spec)),
    definitionSubstitutions: {
      ...Object.fromEntries(fns.map(({ spec: h, fn }) => [h.substitution, fn.functionArn])),
      ...Object.fromEntries(
        Object.entries(spec.machineSubstitutions ?? {}).map(([placeholder, m]) => {
          const other = opts.machines?.get(m);
          if (!other) throw new Error(`state machine ${spec.id}: machine ${m} must be made before it`);
          return [placeholder, other.stateMachineArn];
        }),
      ),
    },
    stateMachineType: sfn.StateMachineType.STANDARD,
    // History carries ids, counts and hashes; the logs do not even carry those.
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    tracingEnabled: true,
    comment: `Subject Rights Orchestrator: ${spec.id} (${spec.file})`,
  });
  // The ASL calls the unqualified function ARNs: invoke on exactly those, no `:*` versions.
  machine.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: fns.map(({ fn }) => fn.functionArn) }));

  const period = Duration.minutes(5);
  const alarm = new cloudwatch.Alarm(scope, `${id}ExecutionsNotSucceeded`, {
    alarmDescription: `${spec.id}: executions failed, timed out or were aborted${spec.id === 'subject-request' ? ' (refused requests end as failed executions too: check the error)' : ''}`,
    metric: new cloudwatch.MathExpression({
      expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
      usingMetrics: {
        failed: machine.metricFailed({ period, statistic: 'Sum' }),
        timedOut: machine.metricTimedOut({ period, statistic: 'Sum' }),
        aborted: machine.metricAborted({ period, statistic: 'Sum' }),
      },
      period,
      label: 'executions failed, timed out or aborted',
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  if (opts.alarmTopic) alarm.addAlarmAction(new actions.SnsAction(opts.alarmTopic));
  return { machine, alarm };
}

/** Starts `machine` on `expression` through EventBridge Scheduler, with a role that may start only it. */
export function scheduleMachine(scope: Construct, id: string, machine: sfn.IStateMachine, expression: scheduler.ScheduleExpression, input: Record<string, unknown>, description = 'Subject Rights Orchestrator: erase what was held once the hold has ended'): scheduler.Schedule {
  return new scheduler.Schedule(scope, id, {
    schedule: expression,
    description,
    target: new targets.StepFunctionsStartExecution(machine, { input: scheduler.ScheduleTargetInput.fromObject(input), retryAttempts: 3 }),
  });
}
