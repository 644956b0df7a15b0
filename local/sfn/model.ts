import type { AslMachine } from './definition';
import type { MapRunRecord } from './map-runs';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export const ACCOUNT_ID = '000000000000';

export const ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/local-sfn-execution`;

/** A state machine the server runs: a project machine, or a Distributed Map's processor. */
export interface MachineEntry {
  name: string;
  arn: string;
  definition: AslMachine;
  text: string;
  creationDate: number;
}

export interface ExecutionRecord {
  /** Creation order; ListExecutions sorts on it because startDates can tie at 1 ms. */
  seq: number;
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  /** Epoch milliseconds; converted to AWS's epoch seconds only on the wire. */
  startDate: number;
  stopDate?: number;
  /** A Distributed Map's child execution: the Map Run that started it. */
  mapRunArn?: string;
}

/** A history event in AWS's shape (e.g. `{ type, stateEnteredEventDetails }`), timestamp in ms. */
export interface StoredEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [detailsKey: string]: unknown;
}

export interface StoredExecution {
  execution: ExecutionRecord;
  events: StoredEvent[];
  /** The Map Runs its Distributed Maps started (map-runs.ts). */
  mapRuns?: MapRunRecord[];
}

export interface Outcome {
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  output?: string;
  error?: string;
  cause?: string;
}

export const stateMachineArn = (region: string, name: string): string => `arn:aws:states:${region}:${ACCOUNT_ID}:stateMachine:${name}`;

export const executionArn = (machineArn: string, name: string): string => {
  const parts = machineArn.split(':');
  return `${parts.slice(0, 5).join(':')}:execution:${parts[6]}:${name}`;
};
