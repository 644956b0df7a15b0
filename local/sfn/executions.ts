import { randomUUID } from 'node:crypto';
import type { Authorizer } from '../iam/types';
import type { AslMachine } from './definition';
import type { MapRunHost } from './distributed-map';
import { HistoryRecorder } from './history';
import { LibraryRunner } from './library-run';
import { createMapRunHost } from './map-run-host';
import { MapRuns } from './map-runs';
import { executionArn, ROLE_ARN, type ExecutionRecord, type ExecutionStatus, type MachineEntry, type Outcome, type StoredExecution } from './model';
import { SfnError, validateInput, validateName } from './protocol';
import type { ExecutionStore } from './store';
import type { LambdaHandler } from './tasks';

export { ROLE_ARN, type MachineEntry } from './model';

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
  private readonly runner: LibraryRunner;
  private nextSeq = 1;
  private closed = false;

  constructor(private readonly opts: ManagerOptions) {
    this.runner = new LibraryRunner(opts);
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
    this.runner.run(live, machine, recorder, {
      mapRunHost: () => this.mapRunHost(live, machine.name),
      finish: (outcome) => this.finish(live, outcome),
    });
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
}
