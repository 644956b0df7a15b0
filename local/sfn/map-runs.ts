/**
 * Map Runs: the resource a Distributed Map creates (DescribeMapRun, ListMapRuns,
 * ListExecutions --map-run-arn). Counts use AWS's fields (itemCounts and executionCounts:
 * pending, running, succeeded, failed, timedOut, aborted, total, resultsWritten).
 */
export type MapRunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export interface Counts {
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  aborted: number;
  total: number;
  resultsWritten: number;
}

export interface MapRunRecord {
  seq: number;
  mapRunArn: string;
  executionArn: string;
  /** The child state machine: `…:stateMachine:<machine>/<label>`. */
  stateMachineArn: string;
  status: MapRunStatus;
  startDate: number;
  stopDate?: number;
  maxConcurrency: number;
  toleratedFailurePercentage: number;
  toleratedFailureCount: number;
  itemCounts: Counts;
  executionCounts: Counts;
}

export const emptyCounts = (): Counts => ({ pending: 0, running: 0, succeeded: 0, failed: 0, timedOut: 0, aborted: 0, total: 0, resultsWritten: 0 });

/** `arn:aws:states:<region>:<acct>:mapRun:<machine>/<label>:<uuid>` from the machine ARN. */
export const mapRunArnOf = (machineArn: string, label: string, id: string): string => {
  const parts = machineArn.split(':');
  return `${parts.slice(0, 5).join(':')}:mapRun:${parts[6]}/${label}:${id}`;
};

export class MapRuns {
  private readonly runs = new Map<string, MapRunRecord>();
  private nextSeq = 1;

  add(run: Omit<MapRunRecord, 'seq'>): MapRunRecord {
    const record = { ...run, seq: this.nextSeq++ };
    this.runs.set(record.mapRunArn, record);
    return record;
  }

  /** Persisted runs come back with their parent execution (see ExecutionManager.restore). */
  restore(record: MapRunRecord): void {
    this.runs.set(record.mapRunArn, record);
    this.nextSeq = Math.max(this.nextSeq, record.seq + 1);
  }

  get(arn: string): MapRunRecord | undefined {
    return this.runs.get(arn);
  }

  /** Newest first, as AWS lists them. */
  ofExecution(executionArn: string): MapRunRecord[] {
    return [...this.runs.values()].filter((r) => r.executionArn === executionArn).sort((a, b) => b.seq - a.seq);
  }
}
