import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { collectStates, isDistributed, prepareForRun, retryIntervals, type AslMachine, type AslState } from './definition';
import { distributedMapHandler, type MapRunHost } from './distributed-map';
import { createMapRunHost } from './map-run-host';
import { MapRuns } from './map-runs';
import { accessDeniedMessage, type Authorizer } from '../iam/types';
import { HistoryRecorder } from './history';
import { ACCOUNT_ID, executionArn, type ExecutionRecord, type ExecutionStatus, type Outcome, type StoredExecution } from './model';
import { SfnError, validateInput, validateName } from './protocol';
import type { ExecutionStore } from './store';
import { buildTaskHandlers, type LambdaHandler } from './tasks';

export interface MachineEntry {
  name: string;
  arn: string;
  definition: AslMachine;
  text: string;
  creationDate: number;
}

export const ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/local-sfn-execution`;

interface Live {
  stored: StoredExecution;
  recorder?: HistoryRecorder;
  abort?: () => void;
  settled: Promise<void>;
  settle: () => void;
}

interface Prepared {
  definition: AslMachine;
  stateMachine: StateMachine;
  declaredStates: Map<string, AslState>;
}

interface ManagerOptions {
  region: string;
  machines: MachineEntry[];
  resolve: (ref: string) => LambdaHandler | undefined;
  retryIntervalScale: number;
  store: ExecutionStore;
  /** IAM for what a machine's role does itself (starting a Map Run's children); default allow-all. */
  authorize?: Authorizer;
  /** The access key a machine's role signs with (its ItemReader/ResultWriter S3 calls, IAM); default the admin key. */
  machineCredentials?: (machineName: string) => { accessKeyId: string; secretAccessKey: string };
  /** The local S3 endpoint a Distributed Map's ItemReader and ResultWriter call. */
  s3Endpoint?: string;
}

/** Owns every execution: starting them on the library, recording them, persisting them. */
export class ExecutionManager {
  readonly machines = new Map<string, MachineEntry>();
  private readonly executions = new Map<string, Live>();
  readonly mapRuns = new MapRuns();
  private readonly preparedCache = new WeakMap<AslMachine, Prepared>();
  private nextSeq = 1;
  private closed = false;

  constructor(private readonly opts: ManagerOptions) {
    for (const machine of opts.machines) this.machines.set(machine.arn, machine);
    for (const stored of opts.store.loadAll()) this.restore(stored);
  }

  /**
   * The library cannot resume an execution midway, and re-running one from the start would call
   * its handlers twice (an erasure, say). So an execution that was RUNNING when the previous
   * server stopped (close(), crash or kill alike: only the restart sees all three) is closed as
   * FAILED with `Local.EngineStopped`: pollers get a terminal status instead of RUNNING forever,
   * and FAILED rather than ABORTED because nobody asked for it to stop.
   */
  private restore(stored: StoredExecution): void {
    const live = this.track(stored);
    this.nextSeq = Math.max(this.nextSeq, stored.execution.seq + 1);
    for (const run of stored.mapRuns ?? []) {
      // Same rule as the execution: a Map Run the previous server left running is over.
      if (run.status === 'RUNNING') Object.assign(run, { status: 'FAILED', stopDate: Date.now() });
      this.mapRuns.restore(run);
    }
    if (stored.execution.status !== 'RUNNING') {
      live.settle();
      return;
    }
    const recorder = this.recorderFor(live, this.machines.get(stored.execution.stateMachineArn)?.definition);
    const cause = 'The local Step Functions server stopped while this execution was running; it was not resumed.';
    const outcome: Outcome = { status: 'FAILED', error: 'Local.EngineStopped', cause };
    recorder.append('ExecutionFailed', { key: 'executionFailedEventDetails', value: { error: outcome.error, cause } });
    this.finish(live, outcome);
  }

  start(machineArn: string, name: string | undefined, input: string | undefined): ExecutionRecord {
    const machine = this.machines.get(machineArn);
    if (!machine) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${machineArn}'`);
    const executionName = name ?? randomUUID();
    validateName(executionName);
    const executionInput = input ?? '{}';
    validateInput(executionInput);
    const arn = executionArn(machineArn, executionName);
    const existing = this.executions.get(arn)?.stored.execution;
    if (existing) {
      // AWS: same name and input while the execution is open succeeds with the original
      // response; a different input, or any input once it has closed, is refused.
      if (existing.status === 'RUNNING' && existing.input === executionInput) return existing;
      throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    return this.launch(machine, arn, executionName, executionInput).stored.execution;
  }

  private launch(machine: MachineEntry, arn: string, name: string, input: string, mapRunArn?: string): Live {
    const record: ExecutionRecord = {
      seq: this.nextSeq++,
      executionArn: arn,
      stateMachineArn: machine.arn,
      name,
      status: 'RUNNING',
      input,
      startDate: Date.now(),
      ...(mapRunArn ? { mapRunArn } : {}),
    };
    const live = this.track({ execution: record, events: [] });
    const recorder = this.recorderFor(live, machine.definition);
    recorder.executionStarted(input, ROLE_ARN);
    this.run(live, machine, recorder);
    return live;
  }

  /** The child executions of a Map Run, newest first. */
  listByMapRun(mapRunArn: string, status: ExecutionStatus | undefined): ExecutionRecord[] {
    return [...this.executions.values()]
      .map((live) => live.stored.execution)
      .filter((e) => e.mapRunArn === mapRunArn && (status === undefined || e.status === status))
      .sort((a, b) => b.seq - a.seq);
  }

  /** What a Distributed Map of `parent` needs: children, IAM as the machine's role, S3. */
  private mapRunHost(parent: Live, machineName: string): MapRunHost {
    return createMapRunHost({
      ...this.opts,
      machineName,
      mapRuns: this.mapRuns,
      parent: parent.stored,
      launch: (entry, arn, name, input, mapRunArn) => this.launch(entry, arn, name, input, mapRunArn),
      stop: (arn) => void this.stop(arn, undefined, undefined),
      save: () => {
        if (!this.closed) this.opts.store.save(parent.stored);
      },
    });
  }

  get(arn: string): StoredExecution {
    const live = this.executions.get(arn);
    if (!live) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return live.stored;
  }

  /** Newest first, as AWS lists them. */
  list(machineArn: string, status: ExecutionStatus | undefined): ExecutionRecord[] {
    return [...this.executions.values()]
      .map((live) => live.stored.execution)
      .filter((e) => e.stateMachineArn === machineArn && (status === undefined || e.status === status))
      .sort((a, b) => b.seq - a.seq);
  }

  stop(arn: string, error: string | undefined, cause: string | undefined): ExecutionRecord {
    const live = this.executions.get(arn);
    if (!live) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    const record = live.stored.execution;
    // Stopping a closed execution changes nothing; the caller gets the original stopDate.
    if (record.status !== 'RUNNING') return record;
    live.recorder?.append('ExecutionAborted', { key: 'executionAbortedEventDetails', value: { error, cause } }, 'root', 0);
    this.finish(live, { status: 'ABORTED', error, cause });
    live.abort?.();
    return record;
  }

  async waitFor(arn: string, timeoutMs = 30_000): Promise<ExecutionRecord> {
    const live = this.executions.get(arn);
    if (!live) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`local sfn: ${arn} still RUNNING after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([live.settled, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return live.stored.execution;
  }

  /** Detaches running executions without closing them; the next start on this dataDir does (see restore). */
  async close(): Promise<void> {
    this.closed = true;
    for (const live of this.executions.values()) {
      if (live.stored.execution.status !== 'RUNNING') continue;
      live.recorder?.seal();
      live.abort?.();
    }
    await this.opts.store.flush();
  }

  private track(stored: StoredExecution): Live {
    let settle = (): void => undefined;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const live: Live = { stored, settled, settle };
    this.executions.set(stored.execution.executionArn, live);
    return live;
  }

  private recorderFor(live: Live, definition: AslMachine | undefined): HistoryRecorder {
    live.recorder = new HistoryRecorder(live.stored.events, definition ?? { StartAt: '', States: {} }, {
      changed: () => {
        if (!this.closed) this.opts.store.save(live.stored);
      },
      closed: (outcome, fatal) => {
        this.finish(live, outcome);
        // A limit ended the execution while the library still runs it: stop the rest.
        if (fatal) live.abort?.();
      },
    });
    return live.recorder;
  }

  private finish(live: Live, outcome: Outcome): void {
    const record = live.stored.execution;
    if (record.status !== 'RUNNING') return;
    live.recorder?.seal();
    Object.assign(record, { status: outcome.status, stopDate: Date.now() });
    for (const field of ['output', 'error', 'cause'] as const) {
      if (outcome[field] !== undefined) record[field] = outcome[field];
    }
    if (!this.closed) this.opts.store.save(live.stored);
    live.settle();
  }

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

  private run(live: Live, machine: MachineEntry, recorder: HistoryRecorder): void {
    const record = live.stored.execution;
    const fail = (err: unknown): void => {
      const cause = err instanceof Error ? err.message : String(err);
      recorder.append('ExecutionFailed', { key: 'executionFailedEventDetails', value: { error: 'Local.EngineError', cause } });
      this.finish(live, { status: 'FAILED', error: 'Local.EngineError', cause });
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
            distributed: (stateName) => distributedMapHandler(stateName, declaredStates.get(stateName) as never, parent, recorder, this.mapRunHost(live, machine.name)),
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
