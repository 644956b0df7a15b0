import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { prepareForRun, retryIntervals, type AslMachine } from './definition';
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

interface ManagerOptions {
  region: string;
  machines: MachineEntry[];
  resolve: (ref: string) => LambdaHandler | undefined;
  retryIntervalScale: number;
  store: ExecutionStore;
}

/** Owns every execution: starting them on the library, recording them, persisting them. */
export class ExecutionManager {
  readonly machines = new Map<string, MachineEntry>();
  private readonly executions = new Map<string, Live>();
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
    const record: ExecutionRecord = {
      seq: this.nextSeq++,
      executionArn: arn,
      stateMachineArn: machineArn,
      name: executionName,
      status: 'RUNNING',
      input: executionInput,
      startDate: Date.now(),
    };
    const live = this.track({ execution: record, events: [] });
    const recorder = this.recorderFor(live, machine.definition);
    recorder.executionStarted(executionInput, ROLE_ARN);
    this.run(live, machine, recorder);
    return record;
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

  private run(live: Live, machine: MachineEntry, recorder: HistoryRecorder): void {
    const record = live.stored.execution;
    const fail = (err: unknown): void => {
      const cause = err instanceof Error ? err.message : String(err);
      recorder.append('ExecutionFailed', { key: 'executionFailedEventDetails', value: { error: 'Local.EngineError', cause } });
      this.finish(live, { status: 'FAILED', error: 'Local.EngineError', cause });
    };
    try {
      const definition = prepareForRun(machine.definition, new Date(record.startDate).toISOString());
      // Validated once at server start; the per-execution copy only differs in baked-in constants.
      const stateMachine = new StateMachine(definition as unknown as StateMachineDefinition, { validationOptions: { noValidate: true } });
      const execution = stateMachine.run(JSON.parse(record.input), {
        noThrowOnAbort: true,
        context: {
          Execution: { Id: record.executionArn, Name: record.name, RoleArn: ROLE_ARN, RedriveCount: 0 },
          StateMachine: { Id: machine.arn, Name: machine.name },
        },
        overrides: {
          taskResourceLocalHandlers: buildTaskHandlers(definition, { declared: machine.definition, region: this.opts.region, resolve: this.opts.resolve, recorder }) as never,
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
