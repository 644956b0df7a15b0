import type { StateMachine } from 'aws-local-stepfunctions';
import { collectStates, simplePath, type AslMachine, type AslState } from './definition';
import type { Outcome, StoredEvent } from './model';
import { epochSeconds } from './protocol';

/** The library does not export its event type; recover it from `run()`. */
export type LibraryEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

const ROOT = 'root';
const json = (value: unknown): string => JSON.stringify(value ?? null);
const data = (key: 'input' | 'output', value: unknown) => ({ [key]: json(value), [`${key}Details`]: { truncated: false } });

/** A Task invocation in flight, so its Scheduled/Started/Succeeded events chain together. */
export interface TaskSlot {
  state: string;
  lane: string;
  settled: boolean;
  /** Event type + details used if the library times the task out while the handler still runs. */
  timedOut: { type: string; key: string; details: Record<string, unknown> };
}

/**
 * Turns the library's event stream plus the Task events the adapter emits itself into an
 * AWS-shaped history. previousEventId follows AWS's causal chain: per "lane" (the top level,
 * or one Map iteration, keyed by the index the library puts on nested events). ExecutionStarted
 * does not start the chain, so the first state points at 0 as it does on AWS; ExecutionAborted
 * and ExecutionTimedOut point at 0 too (AWS responses quoted in floci-io/floci#2965).
 * Nested Maps and Parallel branches share their parent's lane: the library flattens their
 * indexes, so the chain there is chronological rather than causal.
 */
export class HistoryRecorder {
  private readonly last = new Map<string, number>();
  private readonly waitingTasks = new Map<string, string[]>();
  private readonly activeTasks = new Map<string, TaskSlot>();
  private readonly mapStarted = new Map<string, number>();
  private readonly mapLane = new Map<string, string>();
  private readonly failedComposite = new Set<string>();
  private readonly states = new Map<string, AslState>();
  private lastFailedState: string | undefined;
  private sealedFlag = false;
  private onSeal = (): void => undefined;
  /** Resolves when the execution closes, so Task overrides can stop waiting on their handler. */
  readonly closed = new Promise<void>((resolve) => (this.onSeal = resolve));

  constructor(
    private readonly events: StoredEvent[],
    machine: AslMachine,
    private readonly onChange: () => void,
  ) {
    for (const { name, state } of collectStates(machine)) this.states.set(name, state);
  }

  get sealed(): boolean {
    return this.sealedFlag;
  }

  /** Stops all further recording: the execution is closed, whatever is still running. */
  seal(): void {
    this.sealedFlag = true;
    this.onSeal();
  }

  append(type: string, details?: { key: string; value: Record<string, unknown> }, lane = ROOT, previous?: number): number {
    if (this.sealedFlag) return 0;
    const id = this.events.length + 1;
    const event: StoredEvent = { id, previousEventId: previous ?? this.last.get(lane) ?? 0, timestamp: Date.now(), type };
    if (details) event[details.key] = details.value;
    this.events.push(event);
    this.last.set(lane, id);
    this.onChange();
    return id;
  }

  executionStarted(input: string, roleArn: string): void {
    this.append('ExecutionStarted', { key: 'executionStartedEventDetails', value: { input, inputDetails: { truncated: false }, roleArn } }, 'start');
  }

  /** Translates one library event; returns the outcome when it closes the execution. */
  onLibraryEvent(ev: LibraryEvent): Outcome | undefined {
    if (this.sealedFlag) return undefined;
    const lane = 'index' in ev && typeof ev.index === 'number' && 'state' in ev ? `it:${ev.index}` : ROOT;
    switch (ev.type) {
      case 'StateEntered': {
        const { name, type, input } = ev.state;
        this.failedComposite.delete(`${lane}|${name}`);
        this.append(`${type}StateEntered`, { key: 'stateEnteredEventDetails', value: { name, ...data('input', input) } }, lane);
        if (type === 'Map') {
          this.mapLane.set(name, lane);
          const length = this.mapLength(name, input);
          this.mapStarted.set(name, this.append('MapStateStarted', { key: 'mapStateStartedEventDetails', value: { length } }, lane));
        }
        if (type === 'Parallel') this.append('ParallelStateStarted', undefined, lane);
        if (type === 'Task') this.queueTask(name, lane);
        return undefined;
      }
      case 'StateExited': {
        const { name, type, output } = ev.state;
        if ((type === 'Map' || type === 'Parallel') && !this.failedComposite.has(`${lane}|${name}`)) this.append(`${type}StateSucceeded`, undefined, lane);
        this.append(`${type}StateExited`, { key: 'stateExitedEventDetails', value: { name, ...data('output', output) } }, lane);
        return undefined;
      }
      case 'StateFailed': {
        const { name, type } = ev.state;
        this.lastFailedState = name;
        if (type === 'Map' || type === 'Parallel') {
          this.failedComposite.add(`${lane}|${name}`);
          this.append(`${type}StateFailed`, undefined, lane);
        }
        if (type === 'Task') this.taskFailedByEngine(name, lane, ev.Error, ev.Cause);
        return undefined;
      }
      case 'StateRetried':
        if (ev.state.type === 'Task') this.queueTask(ev.state.name, lane);
        this.failedComposite.delete(`${lane}|${ev.state.name}`);
        return undefined;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const name = ev.parentState.name;
        const iteration = `it:${ev.index}`;
        const previous = ev.type === 'MapIterationStarted' ? this.mapStarted.get(name) : undefined;
        const key = `mapIteration${ev.type.slice('MapIteration'.length)}EventDetails`;
        const id = this.append(ev.type, { key, value: { name, index: ev.index } }, iteration, previous);
        if (ev.type !== 'MapIterationStarted') this.last.set(this.mapLane.get(name) ?? ROOT, id);
        return undefined;
      }
      case 'ExecutionSucceeded': {
        const output = json(ev.output);
        this.append('ExecutionSucceeded', { key: 'executionSucceededEventDetails', value: data('output', ev.output) });
        return { status: 'SUCCEEDED', output };
      }
      case 'ExecutionFailed': {
        const { error, cause } = this.failureOf(ev.Error, ev.Cause);
        this.append('ExecutionFailed', { key: 'executionFailedEventDetails', value: { error, cause } });
        return { status: 'FAILED', error, cause };
      }
      case 'ExecutionTimeout':
        this.append('ExecutionTimedOut', { key: 'executionTimedOutEventDetails', value: { error: 'States.Timeout' } }, ROOT, 0);
        return { status: 'TIMED_OUT', error: 'States.Timeout' };
      default:
        // ExecutionStarted is recorded at StartExecution; ExecutionAborted by StopExecution;
        // ParallelBranch* and StateCaught have no AWS counterpart.
        return undefined;
    }
  }

  /** Called by the Task handler once the library invokes it; pairs it with its StateEntered. */
  openTask(state: string, timedOut: TaskSlot['timedOut']): TaskSlot {
    const lane = this.waitingTasks.get(state)?.shift() ?? ROOT;
    const slot: TaskSlot = { state, lane, settled: false, timedOut };
    this.activeTasks.set(lane, slot);
    return slot;
  }

  recordTask(slot: TaskSlot, type: string, key: string | undefined, value: Record<string, unknown> = {}, settles = false): void {
    if (slot.settled) return;
    if (settles) slot.settled = true;
    this.append(type, key ? { key, value } : undefined, slot.lane);
  }

  private queueTask(state: string, lane: string): void {
    const queue = this.waitingTasks.get(state) ?? [];
    queue.push(lane);
    this.waitingTasks.set(state, queue);
  }

  private taskFailedByEngine(state: string, lane: string, error: string, cause: unknown): void {
    const slot = this.activeTasks.get(lane);
    if (slot && slot.state === state && !slot.settled) {
      // Only the library's own Task timeout reaches here with the handler still running.
      this.recordTask(slot, slot.timedOut.type, slot.timedOut.key, { ...slot.timedOut.details, error, cause: typeof cause === 'string' ? cause : json(cause) }, true);
      return;
    }
    // Failed before the handler ran (e.g. a Parameters path missing): drop its queued slot.
    const queue = this.waitingTasks.get(state);
    const index = queue?.indexOf(lane) ?? -1;
    if (queue && index >= 0) queue.splice(index, 1);
  }

  private failureOf(error: string, cause: unknown): { error?: string; cause?: string } {
    const failState = this.lastFailedState ? this.states.get(this.lastFailedState) : undefined;
    // A Fail state without Error/Cause fails the execution without them on AWS; the library
    // substitutes placeholder texts instead.
    if (failState?.Type === 'Fail') {
      return {
        error: failState.Error !== undefined || failState.ErrorPath !== undefined ? error : undefined,
        cause: failState.Cause !== undefined || failState.CausePath !== undefined ? String(cause) : undefined,
      };
    }
    return { error, cause: typeof cause === 'string' ? cause : json(cause) };
  }

  private mapLength(name: string, input: unknown): number {
    const state = this.states.get(name);
    const effective = typeof state?.InputPath === 'string' ? simplePath(state.InputPath, input) : input;
    const items = simplePath(state?.ItemsPath ?? '$', effective);
    return Array.isArray(items) ? items.length : 0;
  }
}

const DATA_FIELDS = new Set(['input', 'inputDetails', 'output', 'outputDetails', 'parameters']);

/** The wire form: epoch seconds, and without inputs/outputs when includeExecutionData=false. */
export function toWire(event: StoredEvent, includeData: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...event, timestamp: epochSeconds(event.timestamp) };
  if (includeData) return out;
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventDetails') && typeof value === 'object' && value !== null) {
      out[key] = Object.fromEntries(Object.entries(value).filter(([field]) => !DATA_FIELDS.has(field)));
    }
  }
  return out;
}
