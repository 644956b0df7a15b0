/**
 * How many due entries one retention sweep run may carry, so that the run can never hit Step
 * Functions' quotas: 262,144 bytes per state input or output and 25,000 history events
 * (statemachines/retention-sweep.asl.json; the local engine enforces both as AWS does).
 *
 * Bytes: the largest state is the Map's output and what follows it (the sweep's input, the due
 * list, one result per entry, the summary, and on failure a Catch's error). Events: each entry
 * costs the events of its Map iteration with every Retry attempt used and the final failure
 * caught; the states around the Map cost the same with their own retries used up.
 * test/local/sfn.sweep-limits.test.ts checks both figures against the ASL file, and runs the ASL
 * at the maximum on the local engine.
 */
import type { DueEntry } from './sweep';

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

export const STATE_PAYLOAD_LIMIT_BYTES = 262_144;
export const HISTORY_EVENT_LIMIT = 25_000;

/** The longest values the product accepts (RequestIdSchema, the data map's store names, a retention rule's basis, FindDueDeferrals' sweepId). */
export const LONGEST = { requestId: 64, store: 63, basis: 64, sweepId: 80 } as const;

/**
 * Room kept for what does not grow with the entries: the execution input, the sweep's own
 * fields, the summary, and a Catch's {Error, Cause} (AWS keeps at most 32,768 characters of a cause).
 */
export const FIXED_STATE_BYTES = 32_768 + 2_048;

/**
 * Worst case per entry: MapIterationStarted, TaskStateEntered, 18 attempts (1 + 4 + 5 + 8
 * retries: EraseDueEntry's three retriers each exhausted) of Scheduled/Started/Failed,
 * TaskStateExited, the catcher's Pass Entered/Exited, MapIterationSucceeded.
 */
export const EVENTS_PER_ENTRY = 1 + 1 + 18 * 3 + 1 + 2 + 1;
/** Worst case around the Map: start, FindDueDeferrals (10 attempts), Map entered/started/succeeded/exited, WriteSweepReceipts (5 attempts), the Choice, the last state, the end. */
export const FIXED_EVENTS = 1 + (1 + 10 * 3 + 1) + 4 + (1 + 5 * 3 + 1) + 2 + 2 + 1;

const LARGEST_COUNT = Number.MAX_SAFE_INTEGER;
/** Every count an entry's result can carry (functions/core/sweep.ts sweepEntry), at the largest value. */
const COUNT_KEYS = ['found', 'delete', 'anonymize', 'redact-mentions', 'restrict', 'refused', 'missing', 'rescheduled'];

/** The bytes one result of EraseDueEntry can take in the state, at the entry's request id and store. */
export function resultBytes(requestId: string, store: string): number {
  const counts = Object.fromEntries(COUNT_KEYS.map((key) => [key, LARGEST_COUNT]));
  const done = { requestId, store, status: 'done', counts };
  // EraseDueEntryFailed keeps the error name instead of counts; Step Functions keeps at most 256 characters of one.
  const failed = { requestId, store, status: 'failed', error: 'E'.repeat(256) };
  return Math.max(bytes(done), bytes(failed));
}

/** What one due entry adds to the largest state: itself in the due list and its result, with their commas. */
export function entryCost(entry: DueEntry): number {
  const { requestId, store, sks } = entry;
  return bytes({ requestId, store, sks }) + 1 + resultBytes(entry.requestId, entry.store) + 1;
}

/** The costliest entry with one deferred item: every field at its longest. */
export function longestSingleEntry(): DueEntry {
  const requestId = 'r'.repeat(LONGEST.requestId);
  const store = 's'.repeat(LONGEST.store);
  return { requestId, store, sks: [`9999-12-31#${requestId}#${store}#${'b'.repeat(LONGEST.basis)}`] };
}

export const ENTRY_BYTES_BUDGET = STATE_PAYLOAD_LIMIT_BYTES - FIXED_STATE_BYTES;

/** The most entries a run takes: both quotas hold even with every entry at its longest. */
export const MAX_SWEEP_ENTRIES = Math.min(Math.floor(ENTRY_BYTES_BUDGET / entryCost(longestSingleEntry())), Math.floor((HISTORY_EVENT_LIMIT - 1 - FIXED_EVENTS) / EVENTS_PER_ENTRY));

/**
 * The first entries (at most `max`) whose costs fit the byte budget. An entry with many deferred
 * items costs more, so such a page is shorter. The first entry is always taken: a run that
 * cannot carry even it fails visibly (States.DataLimitExceeded) instead of stalling the cursor.
 */
export function takeWithinBudget<T extends DueEntry>(entries: readonly T[], max: number): T[] {
  const page: T[] = [];
  let used = 0;
  for (const entry of entries) {
    if (page.length >= max) break;
    const cost = entryCost(entry);
    if (page.length > 0 && used + cost > ENTRY_BYTES_BUDGET) break;
    page.push(entry);
    used += cost;
  }
  return page;
}

