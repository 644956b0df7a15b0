import { ROOT_LANE } from './scopes';

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

interface QueuedTask {
  lane: string;
  ready: Promise<void>;
}

/**
 * Pairs the library's Task handler calls (which know only their state name and input) with the
 * lane of the StateEntered/StateRetried event that preceded them: both arrive in the same order.
 */
export class TaskSlots {
  private readonly waiting = new Map<string, QueuedTask[]>();
  private readonly active = new Map<string, TaskSlot>();

  queue(state: string, lane: string, ready: Promise<void>): void {
    const queue = this.waiting.get(state) ?? [];
    queue.push({ lane, ready });
    this.waiting.set(state, queue);
  }

  open(state: string, timedOut: TaskSlot['timedOut']): TaskSlot {
    const queued = this.waiting.get(state)?.shift() ?? { lane: ROOT_LANE, ready: Promise.resolve() };
    const slot: TaskSlot = { state, lane: queued.lane, settled: false, ready: queued.ready, timedOut };
    this.active.set(queued.lane, slot);
    return slot;
  }

  /** The unsettled invocation of this state in this lane, if its handler is still running. */
  running(state: string, lane: string): TaskSlot | undefined {
    const slot = this.active.get(lane);
    return slot && slot.state === state && !slot.settled ? slot : undefined;
  }

  dropQueued(state: string, lane: string): void {
    const queue = this.waiting.get(state);
    const index = queue?.findIndex((q) => q.lane === lane) ?? -1;
    if (queue && index >= 0) queue.splice(index, 1);
  }
}
