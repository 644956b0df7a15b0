import { CompositeEvents, type LibraryEvent } from './composite-events';
import { collectStates, isDistributed, type AslMachine, type AslState } from './definition';
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
import { iterationLane, ROOT_LANE, Scopes } from './scopes';
import { TaskSlots, type TaskSlot } from './task-slots';

export type { TaskSlot };

export type { LibraryEvent };

const json = (value: unknown): string => JSON.stringify(value ?? null);
const data = (key: 'input' | 'output', value: unknown) => ({ [key]: json(value), [`${key}Details`]: { truncated: false } });
const TERMINAL = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

export interface RecorderHooks {
  changed(): void;
  /** The execution closed; `fatal` when the engine ended it (a limit), so the library run must be aborted. */
  closed(outcome: Outcome, fatal: boolean): void;
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
  readonly last = new Map<string, number>();
  readonly inState = new Map<string, string>();
  private readonly tasks = new TaskSlots();
  private readonly composites: CompositeEvents;
  private readonly states = new Map<string, AslState>();
  /** Distributed Maps: the library runs them as Tasks, AWS records Map events and the Map Run's. */
  private readonly distributed = new Set<string>();
  private readonly entered = new Set<string>();
  private readonly enteredWaiters = new Map<string, (() => void)[]>();
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
    for (const { name, state } of collectStates(machine)) {
      this.states.set(name, state);
      if (isDistributed(state)) this.distributed.add(name);
    }
    this.scopes = new Scopes(machine);
    this.composites = new CompositeEvents(this, this.scopes, this.states);
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
    if ((ev.type === 'StateEntered' || ev.type === 'StateRetried') && ev.state.type === 'Task' && !this.distributed.has(ev.state.name)) this.tasks.queue(ev.state.name, this.laneOfState(ev), processed);
    this.pending.push({ ev, done });
    this.drain();
  }

  /** Resolves once the state's Entered event is in the history (the Distributed Map's events follow it). */
  whenEntered(state: string): Promise<void> {
    if (this.entered.has(state) || this.sealedFlag) return Promise.resolve();
    return new Promise((resolve) => {
      this.enteredWaiters.set(state, [...(this.enteredWaiters.get(state) ?? []), resolve]);
      this.closed.then(resolve, resolve);
    });
  }

  /** Called by the Task handler once the library invokes it; pairs it with its StateEntered. */
  openTask(state: string, timedOut: TaskSlot['timedOut']): TaskSlot {
    return this.tasks.open(state, timedOut);
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
        if (blockedLanes.has(lane) || !this.composites.canRecord(ev)) {
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
        if (!this.composites.isLive(name, lane)) return;
        this.lastFailedState = name;
        this.composites.stateFailed(name, type, lane);
        if (type === 'Task') this.taskFailedByEngine(name, lane, ev.Error, ev.Cause);
        return;
      }
      case 'StateRetried':
        return this.composites.retried(ev.state.name, ev.state.type);
      case 'StateCaught':
        return this.composites.caught(ev.state.name, ev.state.type);
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        return this.composites.iteration(ev.type, ev.parentState.name, ev.index);
      case 'ParallelBranchSucceeded':
      case 'ParallelBranchFailed':
        this.composites.branchEnded(ev.parentState.name, ev.type === 'ParallelBranchFailed');
        return;
      case 'ExecutionSucceeded':
        this.composites.flushFailures(ROOT_LANE);
        this.append('ExecutionSucceeded', { key: 'executionSucceededEventDetails', value: data('output', ev.output) });
        return this.close({ status: 'SUCCEEDED', output: json(ev.output) }, false);
      case 'ExecutionFailed': {
        this.composites.flushFailures(ROOT_LANE);
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
    if (!this.composites.isLive(name, lane)) return;
    this.composites.flushFailures(lane);
    if (exceedsPayloadLimit(input)) return this.fatal(DATA_LIMIT_ERROR, inputTooLargeCause(name), this.last.get(lane) ?? 0);
    if (this.distributed.has(name)) {
      this.append('MapStateEntered', { key: 'stateEnteredEventDetails', value: { name, ...data('input', input) } }, lane);
      this.inState.set(lane, 'Map');
      this.entered.add(name);
      for (const resolve of this.enteredWaiters.get(name) ?? []) resolve();
      this.enteredWaiters.delete(name);
      return;
    }
    const entered = this.append(`${type}StateEntered`, { key: 'stateEnteredEventDetails', value: { name, ...data('input', input) } }, lane);
    this.inState.set(lane, type);
    if (type === 'Fail') this.composites.noteBranchFailure(name, lane);
    this.composites.entered(name, type, lane, input, entered);
  }

  private stateExited(name: string, type: string, output: unknown, lane: string): void {
    if (!this.composites.isLive(name, lane)) return;
    if (exceedsPayloadLimit(output)) return this.fatal(DATA_LIMIT_ERROR, resultTooLargeCause(name), this.last.get(lane) ?? 0);
    this.inState.delete(lane);
    if (this.distributed.has(name)) {
      this.entered.delete(name);
      this.append('MapStateExited', { key: 'stateExitedEventDetails', value: { name, ...data('output', output) } }, lane);
      return;
    }
    const previous = this.composites.exiting(name, type, lane);
    this.append(`${type}StateExited`, { key: 'stateExitedEventDetails', value: { name, ...data('output', output) } }, lane, previous);
  }

  /** True for a Map iteration AWS would not run (see CompositeEvents.abandoned): its Task must not call the handler. */
  abandoned(lane: string): boolean {
    return this.composites.abandoned(lane);
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

  private taskFailedByEngine(state: string, lane: string, error: string, cause: unknown): void {
    const slot = this.tasks.running(state, lane);
    if (slot) {
      // Only the library's own Task timeout reaches here with the handler still running.
      this.recordTask(slot, slot.timedOut.type, slot.timedOut.key, { ...slot.timedOut.details, error, cause: typeof cause === 'string' ? cause : json(cause) }, true);
      return;
    }
    // Failed before the handler ran (e.g. a Parameters path missing): drop its queued slot.
    this.tasks.dropQueued(state, lane);
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
}
