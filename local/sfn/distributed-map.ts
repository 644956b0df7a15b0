/**
 * A Map state with `ProcessorConfig.Mode: DISTRIBUTED`, run as AWS runs it: the items (ItemsPath
 * or ItemReader) go, one by one or in ItemBatcher batches, to child executions of the
 * ItemProcessor as a state machine of its own (`…:stateMachine:<machine>/<label>`), each with its
 * own history; the parent history gets only MapRunStarted and MapRunSucceeded/Failed between the
 * Map's Entered and Exited events. Failures past ToleratedFailureCount/Percentage fail the Map
 * with States.ExceedToleratedFailureThreshold (catchable). The library runs the state as a Task
 * (see definition.ts distributedAsTask); this module is that Task's handler.
 */
import { randomUUID } from 'node:crypto';
import { simplePath, type AslMachine, type AslState } from './definition';
import { batchItems } from './item-batcher';
import { MapRunFailure, readItems, type S3Access } from './item-reader';
import { DATA_LIMIT_ERROR, exceedsPayloadLimit, resultTooLargeCause } from './limits';
import { emptyCounts, mapRunArnOf, type MapRunRecord, type MapRuns } from './map-runs';
import type { ExecutionRecord } from './model';
import { resolveTemplate } from './paths';
import { writeResults } from './result-writer';
import { TaskFailure, TerminalTaskFailure } from './tasks';
import type { HistoryRecorder } from './history';

export const THRESHOLD_ERROR = 'States.ExceedToleratedFailureThreshold';
export const THRESHOLD_CAUSE = 'The specified tolerated failure threshold was exceeded';
/** In-process children share two cores with everything else: at most this many run at once, whatever MaxConcurrency says. */
export const LOCAL_CONCURRENCY_CAP = 64;

export interface ChildHandle {
  record: ExecutionRecord;
  settled: Promise<void>;
}

export interface MapRunHost {
  region: string;
  s3?: S3Access;
  mapRuns: MapRuns;
  /** Starts one child execution of the item processor (in-process, its own history). */
  startChild(processor: { name: string; arn: string; definition: AslMachine }, input: string, mapRunArn: string): ChildHandle;
  stopChild(arn: string): void;
  /** Persists the parent (its Map Runs are stored with it) after a change no history event carries. */
  saveParent(): void;
  /** IAM for the machine's role: an error message when denied. */
  denied(action: string, resource: string): string | undefined;
}

export interface ParentRef {
  executionArn: string;
  machineArn: string;
  machineName: string;
  name: string;
  startDate: number;
  input: string;
}

const numberAt = (state: AslState, field: string, input: unknown): number | undefined => {
  const path = state[`${field}Path`];
  const value = typeof path === 'string' ? simplePath(path, input) : state[field];
  return typeof value === 'number' ? value : undefined;
};

/** The child state machine: the ItemProcessor without its ProcessorConfig. */
export function processorOf(state: AslState): AslMachine {
  const { ProcessorConfig: _config, ...processor } = (state.ItemProcessor ?? { StartAt: '', States: {} }) as AslMachine;
  return processor as AslMachine;
}

export function distributedMapHandler(stateName: string, declared: AslState, parent: ParentRef, recorder: HistoryRecorder, host: MapRunHost): (input: unknown) => Promise<unknown> {
  return async (input) => {
    await recorder.whenEntered(stateName);
    if (recorder.sealed) throw new TaskFailure('Local.ExecutionClosed', 'The execution is no longer running');
    const context = {
      Execution: { Id: parent.executionArn, Name: parent.name, StartTime: new Date(parent.startDate).toISOString(), Input: JSON.parse(parent.input) as unknown },
      StateMachine: { Id: parent.machineArn, Name: parent.machineName },
      State: { Name: stateName },
    };
    const label = typeof declared.Label === 'string' ? declared.Label : stateName;
    const id = randomUUID();
    const processorArn = `${parent.machineArn}/${label}`;
    const maxConcurrency = numberAt(declared, 'MaxConcurrency', input) ?? 0;
    const run = host.mapRuns.add({
      mapRunArn: mapRunArnOf(parent.machineArn, label, id),
      executionArn: parent.executionArn,
      stateMachineArn: processorArn,
      status: 'RUNNING',
      startDate: Date.now(),
      maxConcurrency,
      toleratedFailurePercentage: numberAt(declared, 'ToleratedFailurePercentage', input) ?? 0,
      toleratedFailureCount: numberAt(declared, 'ToleratedFailureCount', input) ?? 0,
      itemCounts: emptyCounts(),
      executionCounts: emptyCounts(),
    });
    recorder.append('MapRunStarted', { key: 'mapRunStartedEventDetails', value: { mapRunArn: run.mapRunArn } });
    const fail = (err: MapRunFailure): TaskFailure => {
      run.status = 'FAILED';
      run.stopDate = Date.now();
      recorder.append('MapRunFailed', { key: 'mapRunFailedEventDetails', value: { error: err.error, cause: err.message } });
      return new TaskFailure(err.error, err.message);
    };
    try {
      const output = await execute(declared, input, context, host, run, { name: `${parent.machineName}/${label}`, arn: processorArn, definition: processorOf(declared) }, recorder, id);
      if (recorder.sealed) throw new TaskFailure('Local.ExecutionClosed', 'The execution is no longer running');
      if (exceedsPayloadLimit(output)) {
        run.status = 'FAILED';
        run.stopDate = Date.now();
        throw new TerminalTaskFailure(DATA_LIMIT_ERROR, resultTooLargeCause(stateName));
      }
      run.status = 'SUCCEEDED';
      run.stopDate = Date.now();
      recorder.append('MapRunSucceeded');
      return output;
    } catch (err) {
      if (err instanceof MapRunFailure) throw fail(err);
      throw err;
    }
  };
}

async function execute(
  state: AslState,
  input: unknown,
  context: Record<string, unknown>,
  host: MapRunHost,
  run: MapRunRecord,
  processor: { name: string; arn: string; definition: AslMachine },
  recorder: HistoryRecorder,
  id: string,
): Promise<unknown> {
  // AWS: the machine's role needs states:StartExecution on the state machine itself to start children.
  const denial = host.denied('states:StartExecution', context.StateMachine ? (context.StateMachine as { Id: string }).Id : '');
  if (denial) throw new MapRunFailure('States.Runtime', denial);
  const items = await readItems(state, input, context, host.s3);
  const selected = items.map((value, index) =>
    state.ItemSelector === undefined ? value : resolveTemplate(state.ItemSelector, input, { ...context, Map: { Item: { Value: value, Index: index } } }),
  );
  const batcher = state.ItemBatcher as Record<string, unknown> | undefined;
  const inputs = batcher ? batchItems(batcher, selected, input, context) : selected;
  const sizes = batcher ? inputs.map((b) => (b as { Items: unknown[] }).Items.length) : inputs.map(() => 1);
  run.itemCounts.total = items.length;
  run.itemCounts.pending = items.length;
  run.executionCounts.total = inputs.length;
  run.executionCounts.pending = inputs.length;

  const limit = Math.min(run.maxConcurrency > 0 ? run.maxConcurrency : LOCAL_CONCURRENCY_CAP, LOCAL_CONCURRENCY_CAP);
  const results: (ExecutionRecord | undefined)[] = new Array(inputs.length);
  const running = new Set<string>();
  let next = 0;
  let failedItems = 0;
  let failure: MapRunFailure | undefined;
  const hasCount = state.ToleratedFailureCount !== undefined || state.ToleratedFailureCountPath !== undefined;
  const hasPct = state.ToleratedFailurePercentage !== undefined || state.ToleratedFailurePercentagePath !== undefined;
  const exceeded = (): boolean => {
    if (!hasCount && !hasPct) return failedItems > 0;
    return (hasCount && failedItems > run.toleratedFailureCount) || (hasPct && (failedItems * 100) / Math.max(1, items.length) > run.toleratedFailurePercentage);
  };
  const move = (from: 'pending' | 'running', to: keyof typeof run.itemCounts, n: number): void => {
    run.itemCounts[from] -= n;
    run.itemCounts[to] += n;
    run.executionCounts[from] -= 1;
    run.executionCounts[to] += 1;
  };
  const worker = async (): Promise<void> => {
    while (next < inputs.length && !failure && !recorder.sealed) {
      const i = next++;
      const text = JSON.stringify(inputs[i] ?? null);
      move('pending', 'running', sizes[i]);
      const child = host.startChild(processor, text, run.mapRunArn);
      running.add(child.record.executionArn);
      await child.settled;
      running.delete(child.record.executionArn);
      results[i] = child.record;
      const status = child.record.status;
      const to = status === 'SUCCEEDED' ? 'succeeded' : status === 'TIMED_OUT' ? 'timedOut' : status === 'ABORTED' ? 'aborted' : 'failed';
      move('running', to, sizes[i]);
      if (status !== 'SUCCEEDED' && status !== 'ABORTED') {
        failedItems += sizes[i];
        if (!failure && exceeded()) failure = new MapRunFailure(THRESHOLD_ERROR, THRESHOLD_CAUSE);
      }
    }
  };
  const stopAll = (): void => {
    for (const arn of running) host.stopChild(arn);
  };
  void recorder.closed.then(() => {
    // The parent closed (StopExecution, a limit, server close): the Map Run and its children stop.
    if (run.status === 'RUNNING') {
      run.status = 'ABORTED';
      run.stopDate = Date.now();
      host.saveParent();
    }
    stopAll();
  });
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
  if (failure) {
    stopAll();
    return finishFailed(state, input, context, host, run, results, id, failure);
  }
  if (state.ResultWriter !== undefined) {
    const written = await writeResults(state.ResultWriter as never, input, context, host.s3, { mapRunArn: run.mapRunArn, id }, split(results));
    run.itemCounts.resultsWritten = items.length;
    run.executionCounts.resultsWritten = inputs.length;
    return { MapRunArn: run.mapRunArn, ResultWriterDetails: written };
  }
  const outputs = results.map((r) => JSON.parse(r?.output ?? 'null') as unknown);
  return outputs;
}

function split(results: (ExecutionRecord | undefined)[]) {
  const out = { succeeded: [] as ExecutionRecord[], failed: [] as ExecutionRecord[], pending: [] as ExecutionRecord[] };
  for (const r of results) {
    if (!r) continue;
    if (r.status === 'SUCCEEDED') out.succeeded.push(r);
    else if (r.status === 'RUNNING' || r.status === 'ABORTED') out.pending.push(r);
    else out.failed.push(r);
  }
  return out;
}

/** AWS still writes the results of a failed Map Run when it has a ResultWriter; the failure stands. */
async function finishFailed(
  state: AslState,
  input: unknown,
  context: unknown,
  host: MapRunHost,
  run: MapRunRecord,
  results: (ExecutionRecord | undefined)[],
  id: string,
  failure: MapRunFailure,
): Promise<never> {
  if (state.ResultWriter !== undefined) {
    await writeResults(state.ResultWriter as never, input, context, host.s3, { mapRunArn: run.mapRunArn, id }, split(results));
  }
  throw failure;
}
