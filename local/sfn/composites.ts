/**
 * What the history needs to know about a running Map or Parallel state to write its events in
 * AWS's order (see HistoryRecorder): which iterations hold a concurrency slot, where each slot's
 * chain stands, how many children ended or failed.
 */
export class Composite {
  startedId = 0;
  branchLanes: string[] = [];
  failedCursor: number | undefined;
  /** A StateFailed was recorded and no Retry has restarted the state yet. */
  failing = false;
  /** The failure was recorded (MapStateFailed/ParallelStateFailed): a Catch or the execution took it. */
  caught = false;
  private active = new Set<string>();
  /** Iterations the library starts after one failed: AWS starts none, so they are never recorded nor run. */
  private readonly dead = new Set<string>();
  private ended = new Set<string>();
  private freeSlots: number[] = [];
  private endedCount = 0;
  private failedCount = 0;
  private lastSucceeded: number | undefined;

  constructor(
    readonly name: string,
    readonly type: 'Map' | 'Parallel',
    /** The lane the state itself is in. */
    readonly lane: string,
    private readonly limit: number,
    /** Items (Map) or branches (Parallel). */
    readonly expected: number,
  ) {}

  get length(): number {
    return this.expected;
  }

  start(startedId: number): void {
    this.startedId = startedId;
    this.active.clear();
    this.ended.clear();
    this.freeSlots = [];
    this.endedCount = 0;
    this.failedCount = 0;
    this.lastSucceeded = undefined;
    this.failedCursor = undefined;
    this.failedLane = undefined;
    this.failing = false;
    this.caught = false;
  }

  hasFreeSlot(): boolean {
    return this.freeSlots.length > 0 || this.active.size < this.limit;
  }

  /** Gives an iteration a slot; returns what its MapIterationStarted points at. */
  admit(lane: string): number {
    this.active.add(lane);
    return this.freeSlots.shift() ?? this.startedId;
  }

  /** An iteration the library starts after another failed. */
  bury(lane: string): void {
    this.dead.add(lane);
  }

  isDead(lane: string): boolean {
    return this.dead.has(lane);
  }

  get hasFailedChild(): boolean {
    return this.failedCount > 0;
  }

  isOpen(lane: string): boolean {
    return this.active.has(lane);
  }

  iterationEnded(lane: string, lastOfIteration: number, endEventId: number, failed: boolean): void {
    this.active.delete(lane);
    this.ended.add(lane);
    this.endedCount++;
    if (failed) {
      this.failedCount++;
      this.failedCursor = lastOfIteration;
    } else {
      this.freeSlots.push(lastOfIteration);
      this.lastSucceeded = endEventId;
    }
  }

  branchEnded(failed: boolean): void {
    this.endedCount++;
    if (failed) this.failedCount++;
  }

  /** The Parallel branch whose failure fails the state. */
  failedLane: string | undefined;

  noteFailure(lane: string, lastOfBranch: number): void {
    this.failedLane = lane;
    this.failedCursor = lastOfBranch;
  }

  failed(): void {
    this.failing = true;
  }

  /** Its StateExited may be written: every child ended, or the failure was caught. */
  readyToExit(): boolean {
    return this.caught || this.endedCount >= this.expected;
  }

  /** Its StateFailed may be written: the failing child's last events are in, or nothing runs. */
  readyToFail(): boolean {
    return this.failedCount > 0 || (this.type === 'Map' ? this.active.size === 0 : this.endedCount >= this.expected);
  }

  /** Where MapStateSucceeded and MapStateExited point. */
  succeededFrom(): number {
    return this.lastSucceeded ?? this.startedId;
  }

  openLanes(): string[] {
    return [...this.active];
  }

  retire(): void {
    this.active.clear();
  }
}
