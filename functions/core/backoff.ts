/** Bounded exponential backoff with full jitter, for retrying throttled batch work. */

export interface BackoffOptions {
  /** How many times the work is tried in all (the first try included). */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 2000 };

/** The delay before retry number `retry` (1 = the first retry): random in [0, min(max, base * 2^(retry-1))]. */
export function backoffDelay(retry: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const cap = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * cap);
}

export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
