import type { StateMachine } from 'aws-local-stepfunctions';
import { simplePath, type AslState } from './definition';
import { Composite } from './composites';
import { iterationLane, ROOT_LANE, type Scopes } from './scopes';

/** The library does not export its event type; recover it from `run()`. */
export type LibraryEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export interface HistoryWriter {
  append(type: string, details?: { key: string; value: Record<string, unknown> }, lane?: string, previous?: number): number;
  /** The last event id of each lane. */
  readonly last: Map<string, number>;
  /** The type of the state each lane is in (entered, not exited). */
  readonly inState: Map<string, string>;
}

/** The state types with an Aborted event (HistoryEventType: TaskStateAborted, WaitStateAborted, MapStateAborted, ParallelStateAborted). */
const ABORTABLE = new Set(['Task', 'Wait', 'Map', 'Parallel']);
const isComposite = (type: string): type is 'Map' | 'Parallel' => type === 'Map' || type === 'Parallel';

/**
 * The Map and Parallel events (MapStateStarted, MapIteration*, MapStateSucceeded/Failed,
 * ParallelStateStarted/Succeeded/Failed) in AWS's order and links; see HistoryRecorder for the
 * rules and their sources.
 */
export class CompositeEvents {
  private readonly composites = new Map<string, Composite>();

  constructor(
    private readonly w: HistoryWriter,
    private readonly scopes: Scopes,
    private readonly states: Map<string, AslState>,
  ) {}

  /** False while AWS would not have written this event yet. */
  canRecord(ev: LibraryEvent): boolean {
    if (ev.type === 'MapIterationStarted') return this.composites.get(ev.parentState.name)?.hasFreeSlot() ?? true;
    if ((ev.type === 'StateExited' || ev.type === 'StateFailed') && isComposite(ev.state.type)) {
      const composite = this.composites.get(ev.state.name);
      if (!composite) return true;
      return ev.type === 'StateExited' ? composite.readyToExit() : composite.readyToFail();
    }
    return true;
  }

  /** After a Map/Parallel's Entered event. */
  entered(name: string, type: string, lane: string, input: unknown, enteredId: number): void {
    if (!isComposite(type)) return;
    const started =
      type === 'Map'
        ? this.w.append('MapStateStarted', { key: 'mapStateStartedEventDetails', value: { length: this.mapLength(name, input) } }, lane)
        : this.w.append('ParallelStateStarted', undefined, lane);
    const composite = new Composite(name, type, lane, this.scopes.maxConcurrency.get(name) ?? 40, this.scopes.branchCounts.get(name) ?? 0);
    composite.start(started || enteredId);
    this.composites.set(name, composite);
    if (type === 'Parallel') this.startBranches(composite);
  }

  /** Before a Map/Parallel's Exited event: writes its Succeeded event unless a Catch took it; returns where Exited points. */
  exiting(name: string, type: string, lane: string): number | undefined {
    const composite = isComposite(type) ? this.composites.get(name) : undefined;
    if (!composite) return undefined;
    let previous: number | undefined;
    if (!composite.caught) {
      previous = type === 'Map' ? composite.succeededFrom() : Math.max(composite.startedId, ...composite.branchLanes.map((l) => this.w.last.get(l) ?? 0));
      this.w.append(`${type}StateSucceeded`, undefined, lane, previous);
    }
    this.retire(composite);
    return previous;
  }

  stateFailed(name: string, type: string, lane: string): void {
    this.noteBranchFailure(name, lane);
    if (isComposite(type)) this.composites.get(name)?.failed();
  }

  /** A Retry starts the state again: a new Started event, and no Failed one. */
  retried(name: string, type: string): void {
    const composite = isComposite(type) ? this.composites.get(name) : undefined;
    if (!composite) return;
    this.abortOpenIterations(composite);
    const from = composite.failedCursor ?? this.w.last.get(composite.lane);
    const started =
      composite.type === 'Map'
        ? this.w.append('MapStateStarted', { key: 'mapStateStartedEventDetails', value: { length: composite.length } }, composite.lane, from)
        : this.w.append('ParallelStateStarted', undefined, composite.lane, from);
    composite.start(started);
    if (composite.type === 'Parallel') this.startBranches(composite);
  }

  caught(name: string, type: string): void {
    const composite = isComposite(type) ? this.composites.get(name) : undefined;
    if (composite) this.writeFailure(composite);
  }

  iteration(type: 'MapIterationStarted' | 'MapIterationSucceeded' | 'MapIterationFailed', name: string, index: number): void {
    const composite = this.composites.get(name);
    if (!composite) return;
    const lane = iterationLane(name, index);
    const details = { key: `mapIteration${type.slice('MapIteration'.length)}EventDetails`, value: { name, index } };
    if (type === 'MapIterationStarted') {
      if (composite.hasFailedChild || composite.failing) return composite.bury(lane);
      this.w.append(type, details, lane, composite.admit(lane));
      return;
    }
    if (!composite.isOpen(lane)) return;
    const lastOfIteration = this.w.last.get(lane) ?? 0;
    const id = this.w.append(type, details, lane, lastOfIteration);
    this.w.last.set(lane, lastOfIteration);
    composite.iterationEnded(lane, lastOfIteration, id, type === 'MapIterationFailed');
  }

  branchEnded(name: string, failed: boolean): void {
    this.composites.get(name)?.branchEnded(failed);
  }

  /** A failed Map/Parallel in this lane that was neither retried nor caught: its Failed event comes before what follows. */
  flushFailures(lane: string): void {
    for (const composite of this.composites.values()) {
      if (composite.lane !== lane || !composite.failing || composite.caught) continue;
      this.writeFailure(composite);
      this.retire(composite);
    }
  }

  /** True for a Map iteration AWS would not run: started after another failed, or after its Map ended. */
  abandoned(lane: string): boolean {
    const map = /^(.*)\[\d+\]$/.exec(lane)?.[1];
    if (map === undefined) return false;
    const composite = this.composites.get(map);
    return composite === undefined || composite.isDead(lane);
  }

  /** False for late events of a Map iteration or Parallel branch whose state already ended (AWS aborts them). */
  isLive(state: string, lane: string): boolean {
    const owner = this.scopes.scopeOf(state)?.owner;
    if (owner === undefined) return true;
    const composite = this.composites.get(owner);
    return composite !== undefined && (composite.type === 'Parallel' || composite.isOpen(lane));
  }

  noteBranchFailure(state: string, lane: string): void {
    const scope = this.scopes.scopeOf(state);
    if (scope?.kind === 'Parallel') this.composites.get(scope.owner)?.noteFailure(lane, this.w.last.get(lane) ?? 0);
  }

  /** Every MapIterationStarted gets its end: the iterations a failure cut short are aborted. */
  private abortOpenIterations(composite: Composite): void {
    for (const lane of composite.openLanes()) {
      const index = Number(/\[(\d+)\]$/.exec(lane)?.[1] ?? 0);
      this.w.append('MapIterationAborted', { key: 'mapIterationAbortedEventDetails', value: { name: composite.name, index } }, lane);
    }
  }

  /** The other branches a failure cuts: the state each was in is aborted (AWS: TaskStateAborted and the like). */
  private abortOtherBranches(composite: Composite): void {
    for (const lane of composite.branchLanes) {
      const type = this.w.inState.get(lane);
      if (lane === composite.failedLane || !type || !ABORTABLE.has(type)) continue;
      this.w.append(`${type}StateAborted`, undefined, lane);
      this.w.inState.delete(lane);
    }
  }

  private writeFailure(composite: Composite): void {
    this.abortOpenIterations(composite);
    this.abortOtherBranches(composite);
    this.w.append(`${composite.type}StateFailed`, undefined, composite.lane, composite.failedCursor ?? this.w.last.get(composite.lane));
    composite.caught = true;
  }

  private startBranches(composite: Composite): void {
    const index = composite.lane === ROOT_LANE ? undefined : /\[(\d+)\]$/.exec(composite.lane)?.[1];
    composite.branchLanes = Array.from({ length: composite.expected }, (_, b) => `${composite.name}/${b}${index === undefined ? '' : `@${index}`}`);
    for (const branch of composite.branchLanes) this.w.last.set(branch, composite.startedId);
  }

  private retire(composite: Composite): void {
    composite.retire();
    this.composites.delete(composite.name);
  }

  private mapLength(name: string, input: unknown): number {
    const state = this.states.get(name);
    const effective = typeof state?.InputPath === 'string' ? simplePath(state.InputPath, input) : input;
    const items = simplePath(state?.ItemsPath ?? '$', effective);
    return Array.isArray(items) ? items.length : 0;
  }
}
