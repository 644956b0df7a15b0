/**
 * Where an execution history event sits: at the top level or inside a Map iteration, read from
 * the events' causal links (`previousEventId`), never from their order — AWS does not promise
 * that an iteration's last event comes before the next top-level state.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';

const ITERATION_END = new Set(['MapIterationSucceeded', 'MapIterationFailed', 'MapIterationAborted']);

export class EventTree {
  /** Depth of the context each event leaves behind (0: top level). */
  private readonly after = new Map<number, number>();
  private readonly types = new Map<number, string>();

  /** Adds one event (its parent first, as ids grow) and returns the depth it sits at. */
  add(e: HistoryEvent): number {
    const parent = e.previousEventId ?? 0;
    const depth = this.after.get(parent) ?? 0;
    const next = e.type === 'MapIterationStarted' ? depth + 1 : ITERATION_END.has(e.type ?? '') ? Math.max(0, depth - 1) : depth;
    if (e.id !== undefined) {
      this.after.set(e.id, next);
      this.types.set(e.id, e.type ?? '');
    }
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
