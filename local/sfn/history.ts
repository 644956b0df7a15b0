import type { StateMachine } from 'aws-local-stepfunctions';
import { collectStates, simplePath, type AslMachine, type AslState } from './definition';
import { Composite } from './composites';
import {
  DATA_LIMIT_ERROR,
  exceedsPayloadLimit,
  HISTORY_LIMIT_CAUSE,
  HISTORY_LIMIT_ERROR,
  inputTooLargeCause,
  MAX_HISTORY_EVENTS,
  resultTooLargeCause,
} from './limits';
import type { Outcome, StoredEvent } from './model';
import { epochSeconds } from './protocol';
import { iterationLane, ROOT_LANE, Scopes } from './scopes';

/** The library does not export its event type; recover it from `run()`. */
export type LibraryEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

const json = (value: unknown): string => JSON.stringify(value ?? null);
const data = (key: 'input' | 'output', value: unknown) => ({ [key]: json(value), [`${key}Details`]: { truncated: false } });
const TERMINAL = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

/** A Task invocation in flight, so its Scheduled/Started/Succeeded events chain together. */
export interface TaskSlot {
  state: string;
  lane: string;
  settled: boolean;
  /** Resolves once the state's Entered (or Retried) event is in the history: Task events come after it. */
  ready: Promise<void>;
  /** Event type + details used if the library times the task out while the handler still runs. */
  timedOut: { type: string; key: string; details: Record<string, unknown> };
}

export interface RecorderHooks {
  changed(): void;
  /** The execution closed; `fatal` when the engine ended it (a limit), so the library run must be aborted. */
  closed(outcome: Outcome, fatal: boolean): void;
}

interface QueuedTask {
  lane: string;
  ready: Promise<void>;
}

/**
 * Turns the library's event stream plus the Task events the adapter emits itself into an
 * AWS-shaped history, and enforces AWS's payload and history limits on it.
 *
 * Order and previousEventId follow real AWS histories: the GetExecutionHistory recordings of
 * localstack/localstack tests/aws/services/stepfunctions/v2/scenarios/test_base_scenarios.snapshot.json
 * (recorded against AWS: test_map_state, test_map_state_catch, test_map_state_retry,
 * test_parallel_state) and the AWS-verified chain rules of floci-io/floci#3167 (HistoryChain.java):
 * - each lane (top level, Map iteration, Parallel branch) chains on its own; the first state
 *   and ExecutionStarted point at 0;
 * - MapIterationStarted points at MapStateStarted, or, when it reuses the concurrency slot of an
 *   iteration that ended, at that iteration's last state event; MapIterationSucceeded/Failed
 *   point at their iteration's last event and are passed by;
 * - MapStateSucceeded and MapStateExited both point at the last MapIterationSucceeded
 *   (MapStateStarted for no items); MapStateFailed points at the failed iteration's last event;
 *   a retried Map records no MapStateFailed but a new MapStateStarted; a caught one
 *   MapStateFailed, then MapStateExited pointing at it;
 * - ParallelStateSucceeded and ParallelStateExited both point at the latest branch event.
 * The library forwards nested events asynchronously, so a Map's exit can reach us before its
 * iterations' last events: events are held back until the order is the one AWS writes.
 * Nested Map-in-Map iterations are not told apart by the library (it overwrites the index).
 */
export class HistoryRecorder {
  private readonly last = new Map<string, number>();
  private readonly waitingTasks = new Map<string, QueuedTask[]>();
  private readonly activeTasks = new Map<string, TaskSlot>();
  private readonly composites = new Map<string, Composite>();
  private readonly states = new Map<string, AslState>();
  private readonly scopes: Scopes;
  private readonly pending: { ev: LibraryEvent; done: () => void }[] = [];
  private lastFailedState: string | undefined;
  private sealedFlag = false;
  private onSeal = (): void => undefined;
  /** Resolves when the execution closes, so Task overrides can stop waiting on their handler. */
  readonly closed = new Promise<void>((resolve) => (this.onSeal = resolve));

  constructor(
    private readonly events: StoredEvent[],
    machine: AslMachine,
    private readonly hooks: RecorderHooks,
  ) {
    for (const { name, state } of collectStates(machine)) this.states.set(name, state);
    this.scopes = new Scopes(machine);
  }

  get sealed(): boolean {
    return this.sealedFlag;
  }

  /** Stops all further recording: the execution is closed, whatever is still running. */
  seal(): void {
    this.sealedFlag = true;
    this.onSeal();
  }

  append(type: string, details?: { key: string; value: Record<string, unknown> }, lane = ROOT_LANE, previous?: number): number {
    if (this.sealedFlag) return 0;
    const prev = previous ?? this.last.get(lane) ?? 0;
    if (this.events.length >= MAX_HISTORY_EVENTS - 1 && !TERMINAL.has(type)) {
      // AWS fails the execution with the event that would exceed the limit: ExecutionFailed is event 25,000.
      this.fatal(HISTORY_LIMIT_ERROR, HISTORY_LIMIT_CAUSE, prev);
      return 0;
    }
    const id = this.events.length + 1;
    const event: StoredEvent = { id, previousEventId: prev, timestamp: Date.now(), type };
    if (details) event[details.key] = details.value;
    this.events.push(event);
    this.last.set(lane, id);
    this.hooks.changed();
    return id;
  }

  executionStarted(input: string, roleArn: string): void {
    this.append('ExecutionStarted', { key: 'executionStartedEventDetails', value: { input, inputDetails: { truncated: false }, roleArn } }, 'start');
  }

  /** Takes one library event in arrival order; records it (and any it was holding back) once AWS's order allows. */
  onLibraryEvent(ev: LibraryEvent): void {
    if (this.sealedFlag) return;
    let done = (): void => undefined;
    const processed = new Promise<void>((resolve) => (done = resolve));
    this.closed.then(done, done);
    if ((ev.type === 'StateEntered' || ev.type === 'StateRetried') && ev.state.type === 'Task') this.queueTask(ev.state.name, this.laneOfState(ev), processed);
    this.pending.push({ ev, done });
    this.drain();
  }

  /** Called by the Task handler once the library invokes it; pairs it with its StateEntered. */
  openTask(state: string, timedOut: TaskSlot['timedOut']): TaskSlot {
    const queued = this.waitingTasks.get(state)?.shift() ?? { lane: ROOT_LANE, ready: Promise.resolve() };
    const slot: TaskSlot = { state, lane: queued.lane, settled: false, ready: queued.ready, timedOut };
    this.activeTasks.set(queued.lane, slot);
    return slot;
  }

  recordTask(slot: TaskSlot, type: string, key: string | undefined, value: Record<string, unknown> = {}, settles = false): void {
    if (slot.settled) return;
    if (settles) slot.settled = true;
    this.append(type, key ? { key, value } : undefined, slot.lane);
  }

  /** Records every held-back event AWS would have written by now, in arrival order per lane. */
  private drain(): void {
    let progressed = true;
    while (progressed && !this.sealedFlag) {
      progressed = false;
      const blockedLanes = new Set<string>();
      for (let i = 0; i < this.pending.length; i++) {
        const { ev, done } = this.pending[i];
        const lane = this.orderingLane(ev);
        if (blockedLanes.has(lane) || !this.canRecord(ev)) {
          blockedLanes.add(lane);
          continue;
        }
        this.pending.splice(i, 1);
        this.record(ev);
        done();
        progressed = true;
        break;
      }
    }
  }

  /** Events of one lane keep their order; Parallel branch ends only count, so they never wait. */
  private orderingLane(ev: LibraryEvent): string {
    if (ev.type === 'MapIterationStarted' || ev.type === 'MapIterationSucceeded' || ev.type === 'MapIterationFailed') return iterationLane(ev.parentState.name, ev.index);
    if ('parentState' in ev) return `${ev.parentState.name}#branches`;
    return this.laneOfState(ev);
  }

  /** False while AWS would not have written this event yet. */
  private canRecord(ev: LibraryEvent): boolean {
    if (ev.type === 'MapIterationStarted') return this.composites.get(ev.parentState.name)?.hasFreeSlot() ?? true;
    if ((ev.type === 'StateExited' || ev.type === 'StateFailed') && (ev.state.type === 'Map' || ev.state.type === 'Parallel')) {
      const composite = this.composites.get(ev.state.name);
      if (!composite) return true;
      return ev.type === 'StateExited' ? composite.readyToExit() : composite.readyToFail();
    }
    return true;
  }

  private laneOfState(ev: LibraryEvent): string {
    const index = 'index' in ev && typeof ev.index === 'number' ? ev.index : undefined;
    return 'state' in ev ? this.scopes.laneOf(ev.state.name, index) : ROOT_LANE;
  }

  private record(ev: LibraryEvent): void {
    switch (ev.type) {
      case 'StateEntered':
        return this.stateEntered(ev.state.name, ev.state.type, ev.state.input, this.laneOfState(ev));
      case 'StateExited':
        return this.stateExited(ev.state.name, ev.state.type, ev.state.output, this.laneOfState(ev));
      case 'StateFailed': {
        const { name, type } = ev.state;
        const lane = this.laneOfState(ev);
        if (!this.isLive(name, lane)) return;
        this.lastFailedState = name;
        this.noteBranchFailure(name, lane);
        if (type === 'Map' || type === 'Parallel') this.composites.get(name)?.failed();
        if (type === 'Task') this.taskFailedByEngine(name, lane, ev.Error, ev.Cause);
        return;
      }
      case 'StateRetried': {
        const composite = this.composites.get(ev.state.name);
        if (composite && (ev.state.type === 'Map' || ev.state.type === 'Parallel')) this.restart(composite);
        return;
      }
      case 'StateCaught': {
        const composite = this.composites.get(ev.state.name);
        if (composite && (ev.state.type === 'Map' || ev.state.type === 'Parallel')) this.compositeFailed(composite);
        return;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        return this.mapIteration(ev.type, ev.parentState.name, ev.index);
      case 'ParallelBranchSucceeded':
      case 'ParallelBranchFailed':
        this.composites.get(ev.parentState.name)?.branchEnded(ev.type === 'ParallelBranchFailed');
        return;
      case 'ExecutionSucceeded':
        this.flushFailures(ROOT_LANE);
        this.append('ExecutionSucceeded', { key: 'executionSucceededEventDetails', value: data('output', ev.output) });
        return this.close({ status: 'SUCCEEDED', output: json(ev.output) }, false);
      case 'ExecutionFailed': {
        this.flushFailures(ROOT_LANE);
        const { error, cause } = this.failureOf(ev.Error, ev.Cause);
        this.append('ExecutionFailed', { key: 'executionFailedEventDetails', value: { error, cause } });
        return this.close({ status: 'FAILED', error, cause }, false);
      }
      case 'ExecutionTimeout':
        this.append('ExecutionTimedOut', { key: 'executionTimedOutEventDetails', value: { error: 'States.Timeout' } }, ROOT_LANE, 0);
        return this.close({ status: 'TIMED_OUT', error: 'States.Timeout' }, false);
      default:
        // ExecutionStarted is recorded at StartExecution, ExecutionAborted by StopExecution;
        // ParallelBranchStarted has no AWS counterpart.
        return;
    }
  }

  private stateEntered(name: string, type: string, input: unknown, lane: string): void {
    if (!this.isLive(name, lane)) return;
    this.flushFailures(lane);
    if (exceedsPayloadLimit(input)) return this.fatal(DATA_LIMIT_ERROR, inputTooLargeCause(name), this.last.get(lane) ?? 0);
    const entered = this.append(`${type}StateEntered`, { key: 'stateEnteredEventDetails', value: { name, ...data('input', input) } }, lane);
    if (type === 'Fail') this.noteBranchFailure(name, lane);
    if (type !== 'Map' && type !== 'Parallel') return;
    const started =
      type === 'Map'
        ? this.append('MapStateStarted', { key: 'mapStateStartedEventDetails', value: { length: this.mapLength(name, input) } }, lane)
        : this.append('ParallelStateStarted', undefined, lane);
    const composite = new Composite(name, type, lane, this.scopes.maxConcurrency.get(name) ?? 40, this.scopes.branchCounts.get(name) ?? 0);
    composite.start(started || entered);
    this.composites.set(name, composite);
    if (type === 'Parallel') this.startBranches(composite, lane);
  }

  private stateExited(name: string, type: string, output: unknown, lane: string): void {
    if (!this.isLive(name, lane)) return;
    if (exceedsPayloadLimit(output)) return this.fatal(DATA_LIMIT_ERROR, resultTooLargeCause(name), this.last.get(lane) ?? 0);
    const composite = type === 'Map' || type === 'Parallel' ? this.composites.get(name) : undefined;
    let previous: number | undefined;
    if (composite && !composite.caught) {
      previous = type === 'Map' ? composite.succeededFrom() : Math.max(composite.startedId, ...composite.branchLanes.map((l) => this.last.get(l) ?? 0));
      this.append(`${type}StateSucceeded`, undefined, lane, previous);
    }
    if (composite) this.retire(composite);
    this.append(`${type}StateExited`, { key: 'stateExitedEventDetails', value: { name, ...data('output', output) } }, lane, previous);
  }

  private mapIteration(type: 'MapIterationStarted' | 'MapIterationSucceeded' | 'MapIterationFailed', name: string, index: number): void {
    const composite = this.composites.get(name);
    const lane = iterationLane(name, index);
    const key = `mapIteration${type.slice('MapIteration'.length)}EventDetails`;
    const details = { key, value: { name, index } };
    if (!composite) return;
    if (type === 'MapIterationStarted') {
      if (composite.hasFailedChild || composite.failing) return composite.bury(lane);
      const previous = composite.admit(lane);
      this.append(type, details, lane, previous);
      return;
    }
    if (!composite.isOpen(lane)) return;
    const lastOfIteration = this.last.get(lane) ?? 0;
    const id = this.append(type, details, lane, lastOfIteration);
    this.last.set(lane, lastOfIteration);
    composite.iterationEnded(lane, lastOfIteration, id, type === 'MapIterationFailed');
  }

  private startBranches(composite: Composite, lane: string): void {
    const suffix = lane === ROOT_LANE || !lane.includes('[') ? '' : `@${/\[(\d+)\]$/.exec(lane)?.[1] ?? ''}`;
    composite.branchLanes = Array.from({ length: composite.expected }, (_, b) => `${composite.name}/${b}${suffix}`);
    for (const branch of composite.branchLanes) this.last.set(branch, composite.startedId);
  }

  private restart(composite: Composite): void {
    const from = composite.failedCursor ?? this.last.get(composite.lane);
    const started =
      composite.type === 'Map'
        ? this.append('MapStateStarted', { key: 'mapStateStartedEventDetails', value: { length: composite.length } }, composite.lane, from)
        : this.append('ParallelStateStarted', undefined, composite.lane, from);
    composite.start(started);
    if (composite.type === 'Parallel') this.startBranches(composite, composite.lane);
  }

  /** Records the Map/Parallel failure once it is known that no Retry takes it. */
  private compositeFailed(composite: Composite): void {
    for (const lane of composite.openLanes()) {
      const index = Number(/\[(\d+)\]$/.exec(lane)?.[1] ?? 0);
      this.append('MapIterationAborted', { key: 'mapIterationAbortedEventDetails', value: { name: composite.name, index } }, lane);
    }
    this.append(`${composite.type}StateFailed`, undefined, composite.lane, composite.failedCursor ?? this.last.get(composite.lane));
    composite.caught = true;
  }

  /** A failed Map/Parallel in this lane that was neither retried nor caught. */
  private flushFailures(lane: string): void {
    for (const composite of this.composites.values()) {
      if (composite.lane !== lane || !composite.failing || composite.caught) continue;
      this.compositeFailed(composite);
      this.retire(composite);
    }
  }

  private retire(composite: Composite): void {
    composite.retire();
    this.composites.delete(composite.name);
  }

  /** True for a Map iteration AWS would not run: started after another failed, or after its Map ended. */
  abandoned(lane: string): boolean {
    const map = /^(.*)\[\d+\]$/.exec(lane)?.[1];
    if (map === undefined) return false;
    const composite = this.composites.get(map);
    return composite === undefined || composite.isDead(lane);
  }

  /** Drops late events of a Map iteration or Parallel branch whose state already ended (AWS aborts them). */
  private isLive(state: string, lane: string): boolean {
    const owner = this.scopes.scopeOf(state)?.owner;
    if (owner === undefined) return true;
    const composite = this.composites.get(owner);
    return composite !== undefined && (composite.type === 'Parallel' || composite.isOpen(lane));
  }

  private noteBranchFailure(state: string, lane: string): void {
    const scope = this.scopes.scopeOf(state);
    if (scope?.kind === 'Parallel') this.composites.get(scope.owner)?.noteFailure(this.last.get(lane) ?? 0);
  }

  private fatal(error: string, cause: string, previous: number): void {
    if (this.sealedFlag) return;
    const id = this.events.length + 1;
    this.events.push({ id, previousEventId: previous, timestamp: Date.now(), type: 'ExecutionFailed', executionFailedEventDetails: { error, cause } });
    this.hooks.changed();
    this.close({ status: 'FAILED', error, cause }, true);
  }

  private close(outcome: Outcome, fatal: boolean): void {
    this.seal();
    this.hooks.closed(outcome, fatal);
  }

  private queueTask(state: string, lane: string, ready: Promise<void>): void {
    const queue = this.waitingTasks.get(state) ?? [];
    queue.push({ lane, ready });
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
    const index = queue?.findIndex((q) => q.lane === lane) ?? -1;
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
