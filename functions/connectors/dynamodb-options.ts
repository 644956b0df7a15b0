/**
 * The DynamoDB connector's tuning, read by discovery, apply and export alike.
 */
import { DEFAULT_BACKOFF, type BackoffOptions } from '../core/backoff';

export interface DynamoDbConnectorOptions {
  /** `Limit` per Query/Scan page; absent: DynamoDB's own 1 MB pages. */
  readonly pageSize?: number;
  /** Requests in flight at once per store (queries, updates). */
  readonly concurrency?: number;
  /** Retries of UnprocessedKeys / UnprocessedItems. */
  readonly backoff?: Partial<BackoffOptions>;
  /** How often a conditional update is re-read and retried when the item changed under it. */
  readonly conditionalAttempts?: number;
}

export interface ResolvedOptions {
  readonly pageSize?: number;
  readonly concurrency: number;
  readonly backoff: BackoffOptions;
  readonly conditionalAttempts: number;
}

export function resolveOptions(options: DynamoDbConnectorOptions): ResolvedOptions {
  return {
    pageSize: options.pageSize,
    concurrency: options.concurrency ?? 8,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    conditionalAttempts: options.conditionalAttempts ?? 3,
  };
}
