import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { accessDeniedMessage, type Authorizer } from '../iam/types';
import { collectStates, isDistributed, prepareForRun, retryIntervals, type AslMachine, type AslState } from './definition';
import { distributedMapHandler, type MapRunHost } from './distributed-map';
import type { HistoryRecorder } from './history';
import { ROLE_ARN, type MachineEntry, type Outcome, type StoredExecution } from './model';
import { buildTaskHandlers, type LambdaHandler } from './tasks';

interface Prepared {
  definition: AslMachine;
  stateMachine: StateMachine;
  declaredStates: Map<string, AslState>;
}

interface RunnerOptions {
  region: string;
  resolve: (ref: string) => LambdaHandler | undefined;
  retryIntervalScale: number;
  authorize?: Authorizer;
  machineCredentials?: (machineName: string) => { accessKeyId: string; secretAccessKey: string };
}

/** Left to the ExecutionManager, which owns the execution: the Map Runs its children join, and closing it. */
export interface RunHooks {
  mapRunHost: () => MapRunHost;
  finish: (outcome: Outcome) => void;
}

/** Runs executions on aws-local-stepfunctions, every Task bound to an in-process handler. */
export class LibraryRunner {
  private readonly preparedCache = new WeakMap<AslMachine, Prepared>();

  constructor(private readonly opts: RunnerOptions) {}

  /**
   * The library's machine for one execution. Validated once at server start; the per-execution
   * copy only differs in the baked-in start time, so a definition that never reads
   * `$$.Execution.StartTime` is prepared once and reused (a Map Run's 100,000 children).
   */
  private prepared(machine: MachineEntry, startDate: number): Prepared {
    const reusable = !machine.text.includes('$$.Execution.StartTime');
    const cached = reusable ? this.preparedCache.get(machine.definition) : undefined;
    if (cached) return cached;
    const definition = prepareForRun(machine.definition, new Date(startDate).toISOString());
    const prepared: Prepared = {
      definition,
      stateMachine: new StateMachine(definition as unknown as StateMachineDefinition, { validationOptions: { noValidate: true } }),
      declaredStates: new Map(collectStates(machine.definition).filter(({ state }) => isDistributed(state)).map(({ name, state }) => [name, state])),
    };
    if (reusable) this.preparedCache.set(machine.definition, prepared);
    return prepared;
  }

  /** A Map Run's children (`<machine>/<label>`) invoke with their parent machine's role. */
  private invokeDenied(machineName: string, functionArn: string): string | undefined {
    if (!this.opts.authorize || !this.opts.machineCredentials) return undefined;
    const { accessKeyId } = this.opts.machineCredentials(machineName.split('/')[0]);
    const request = { action: 'lambda:InvokeFunction', resource: functionArn };
    const decision = this.opts.authorize(accessKeyId, request);
    return decision.allowed ? undefined : accessDeniedMessage(request, decision);
  }

  /** Sets `live.abort` once the library has the execution. */
  run(live: { readonly stored: StoredExecution; abort?: () => void }, machine: MachineEntry, recorder: HistoryRecorder, hooks: RunHooks): void {
    const record = live.stored.execution;
    const fail = (err: unknown): void => {
      const cause = err instanceof Error ? err.message : String(err);
      recorder.append('ExecutionFailed', { key: 'executionFailedEventDetails', value: { error: 'Local.EngineError', cause } });
      hooks.finish({ status: 'FAILED', error: 'Local.EngineError', cause });
    };
    try {
      const { definition, stateMachine, declaredStates } = this.prepared(machine, record.startDate);
      const parent = { executionArn: record.executionArn, machineArn: machine.arn, machineName: machine.name, name: record.name, startDate: record.startDate, input: record.input };
      const execution = stateMachine.run(JSON.parse(record.input), {
        noThrowOnAbort: true,
        context: {
          Execution: { Id: record.executionArn, Name: record.name, RoleArn: ROLE_ARN, RedriveCount: 0 },
          StateMachine: { Id: machine.arn, Name: machine.name },
        },
        overrides: {
          taskResourceLocalHandlers: buildTaskHandlers(definition, {
            declared: machine.definition,
            region: this.opts.region,
            resolve: this.opts.resolve,
            recorder,
            distributed: (stateName) => distributedMapHandler(stateName, declaredStates.get(stateName) as never, parent, recorder, hooks.mapRunHost()),
            invokeDenied: (functionArn) => this.invokeDenied(machine.name, functionArn),
          }) as never,
          retryIntervalOverrides: retryIntervals(definition, this.opts.retryIntervalScale),
        },
      });
      live.abort = execution.abort;
      // Failures arrive as ExecutionFailed events; the promise only needs a handler.
      execution.result.catch(() => undefined);
      void (async () => {
        for await (const event of execution.eventLogs) recorder.onLibraryEvent(event);
      })().catch(fail);
    } catch (err) {
      fail(err);
    }
  }
}
