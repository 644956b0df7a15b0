/**
 * Where an execution history event sits: at the top level or inside a Map iteration, read from
 * the events' causal links (`previousEventId`), never from their order — AWS does not promise
 * that an iteration's last event comes before the next top-level state.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';

/** The events that open a scope (Map iterations and Parallel branches chain from them). */
const SCOPE_START = new Set(['MapStateStarted', 'ParallelStateStarted']);
/** A Map's or Parallel's entry, which its start chains from. */
const ENTERED = new Set(['MapStateEntered', 'ParallelStateEntered']);
/** The events that close a Map or Parallel: they chain from inside it but stand outside it. */
const SCOPE_END = new Set(['MapStateSucceeded', 'MapStateFailed', 'MapStateAborted', 'MapStateExited', 'ParallelStateSucceeded', 'ParallelStateFailed', 'ParallelStateAborted', 'ParallelStateExited']);

/**
 * AWS's chains (and the local engine's, which follows them): an iteration's or a branch's events
 * chain from the Map's (Parallel's) `…StateStarted`, or, when a Map iteration reuses a
 * concurrency slot, from the last event of the iteration before it; the Map's (Parallel's)
 * Succeeded/Failed/Exited events chain from the last event inside it. So an event's scope is
 * its parent's, except that a scope-start's children are inside it and a scope-end is outside.
 */
export class EventTree {
  /** For each event, the id of the `…StateStarted` event whose scope it is in (0: top level). */
  private readonly scope = new Map<number, number>();
  private readonly types = new Map<number, string>();

  /** Adds one event (its parent first, as ids grow) and returns the depth it sits at. */
  add(e: HistoryEvent): number {
    const parent = e.previousEventId ?? 0;
    const parentType = this.types.get(parent) ?? '';
    const type = e.type ?? '';
    // Where an ordinary event chained from this parent sits.
    const inner = SCOPE_START.has(parentType) ? parent : (this.scope.get(parent) ?? 0);
    let scope = inner;
    if (SCOPE_END.has(type) || SCOPE_START.has(type)) {
      // The composite's own events stand at its level, whatever they chain from: its entry, its
      // other own events, nothing inside (an empty Map), or the last event inside it (its end;
      // a retried Map's new start).
      if (SCOPE_START.has(parentType)) scope = this.scope.get(parent) ?? 0;
      else if (!SCOPE_END.has(parentType) && !ENTERED.has(parentType)) scope = this.scope.get(inner) ?? 0;
    }
    if (e.id !== undefined) {
      this.scope.set(e.id, scope);
      this.types.set(e.id, e.type ?? '');
    }
    return this.depthOf(scope);
  }

  private depthOf(scope: number): number {
    let depth = 0;
    for (let s = scope; s !== 0; s = this.scope.get(s) ?? 0) depth++;
    return depth;
  }

  /** The type of the event this one follows from. */
  parentType(e: HistoryEvent): string | undefined {
    return this.types.get(e.previousEventId ?? 0);
  }

  /** A Task scheduled again after its attempt failed or timed out: a Retry. */
  isRetry(e: HistoryEvent): boolean {
    const parent = this.parentType(e);
    return (e.type === 'TaskScheduled' || e.type === 'LambdaFunctionScheduled') && (parent === 'TaskFailed' || parent === 'TaskTimedOut' || parent === 'LambdaFunctionFailed');
  }
}

export function byId(events: readonly HistoryEvent[]): HistoryEvent[] {
  return [...events].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
}
