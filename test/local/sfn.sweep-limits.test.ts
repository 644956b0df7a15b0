import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { startSfnServer, type AslMachine, type LambdaHandler, type RunningSfnServer } from '../../local/sfn';
import { MAX_SWEEP_ENTRIES as CONFIG_MAX } from '../../functions/core/config';
import { RequestIdSchema } from '../../functions/core/request';
import type { DueEntry } from '../../functions/core/sweep';
import { fullHistory } from '../support/history';
import {
  ENTRY_BYTES_BUDGET,
  entryCost,
  EVENTS_PER_ENTRY,
  FIXED_EVENTS,
  HISTORY_EVENT_LIMIT,
  LONGEST,
  longestSingleEntry,
  MAX_SWEEP_ENTRIES,
  STATE_PAYLOAD_LIMIT_BYTES,
  takeWithinBudget,
} from '../../functions/core/sweep-limits';

/**
 * sweepMaxEntries is safe under both Step Functions quotas: the very retention-sweep ASL runs on
 * the local engine (which enforces them as AWS does) at the maximum, with every field at its
 * longest and every Retry used up, and a run just over the byte budget fails.
 *
 * The Tasks are stand-ins, not the real handlers: the real ones need 280 seeded requests, stores
 * and deferred items, and what is checked here is the ASL's state and history, which only depend
 * on the shapes the handlers return (find-due-deferrals.ts, sweep.ts SweepResult,
 * write-sweep-receipts.ts). The stand-ins return those shapes at their largest.
 */
const REGION = 'us-east-1';
const ASL = join(__dirname, '..', '..', 'statemachines', 'retention-sweep.asl.json');
const fn = (name: string): string => `arn:aws:lambda:${REGION}:000000000000:function:${name}`;
const MACHINE = `arn:aws:states:${REGION}:000000000000:stateMachine:retention-sweep`;
const named = (name: string): Error => Object.assign(new Error('stand-in failure'), { name });

const definition = JSON.parse(readFileSync(ASL, 'utf8')) as AslMachine;
const attemptsOf = (state: { Retry?: { MaxAttempts?: number }[] }): number => 1 + (state.Retry ?? []).reduce((n, r) => n + (r.MaxAttempts ?? 3), 0);

/** 64-character request ids that differ, each with the longest store and basis. */
function longestEntries(n: number): DueEntry[] {
  const { store, sks } = longestSingleEntry();
  return Array.from({ length: n }, (_, i) => {
    const requestId = `${String(i).padStart(6, '0')}`.padEnd(LONGEST.requestId, 'r');
    return { requestId, store, sks: [sks[0].replace(/#r+#/, `#${requestId}#`)] };
  });
}

interface Scenario {
  due: DueEntry[];
  /** Every Task fails each retrier's errors until its attempts are used up. */
  exhaustRetries: boolean;
  /** EraseDueEntry finally fails (with the longest error name) instead of succeeding with the largest counts. */
  entriesFail: boolean;
}

let scenario: Scenario;
const attempts = new Map<string, number>();

/** Fails with each retrier's first error until its MaxAttempts are spent, then lets the call through. */
function retryErrors(stateName: string, key: string): void {
  if (!scenario.exhaustRetries) return;
  const attempt = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, attempt);
  let spent = 0;
  for (const retrier of definition.States[stateName]?.Retry ?? (definition.States.EraseDue.ItemProcessor as AslMachine).States[stateName].Retry ?? []) {
    spent += retrier.MaxAttempts ?? 3;
    if (attempt <= spent) throw named(retrier.ErrorEquals[0]);
  }
}

const lambdas: Record<string, LambdaHandler> = {
  [fn('find-due-deferrals')]: async (event) => {
    const { sweepId } = event as { sweepId: string };
    retryErrors('FindDueDeferrals', `find:${sweepId}`);
    return { sweepId, now: '2031-12-31T23:59:59.999Z', due: scenario.due, count: scenario.due.length, remaining: Number.MAX_SAFE_INTEGER, deadlines: { nearing: Number.MAX_SAFE_INTEGER, overdue: Number.MAX_SAFE_INTEGER, nearingDays: 29 } };
  },
  [fn('erase-due-entry')]: async (event) => {
    const { sweepId, entry } = event as { sweepId: string; entry: DueEntry };
    RequestIdSchema.parse(entry.requestId);
    retryErrors('EraseDueEntry', `erase:${sweepId}:${entry.requestId}`);
    if (scenario.entriesFail) throw named('E'.repeat(256));
    const n = Number.MAX_SAFE_INTEGER;
    const counts = { found: n, delete: n, anonymize: n, 'redact-mentions': n, restrict: n, refused: n, missing: n, rescheduled: n };
    return { requestId: entry.requestId, store: entry.store, status: 'done', counts };
  },
  [fn('write-sweep-receipts')]: async (event) => {
    const { sweepId, results } = event as { sweepId: string; results: { status: string }[] };
    retryErrors('WriteSweepReceipts', `write:${sweepId}`);
    const n = Number.MAX_SAFE_INTEGER;
    return { receipts: n, erased: n, failed: results.filter((r) => r.status === 'failed').length };
  },
};

let server: RunningSfnServer;
let sfn: SFNClient;

beforeAll(async () => {
  server = await startSfnServer({
    stateMachines: [
      {
        name: 'retention-sweep',
        definitionPath: ASL,
        substitutions: { FindDueDeferralsFunctionArn: fn('find-due-deferrals'), EraseDueEntryFunctionArn: fn('erase-due-entry'), WriteSweepReceiptsFunctionArn: fn('write-sweep-receipts') },
      },
    ],
    lambdas,
    // Every Retry is used up (17 waits per entry, 280 entries, 4 at a time): at the engine's
    // default scale (15 s -> 15 ms) the waits alone take 10 s a run. What is checked is the
    // history and the state sizes, which do not depend on how long a retry waits: each wait
    // still goes through a timer (about 1 ms).
    retryIntervalScale: 0.000001,
  });
  sfn = new SFNClient({ endpoint: server.endpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  sfn.destroy();
  await server.close();
});

async function sweep(name: string, s: Scenario): Promise<{ status?: string; error?: string; cause?: string; events: HistoryEvent[] }> {
  scenario = s;
  const sweepId = name.padEnd(LONGEST.sweepId, '0');
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name, input: JSON.stringify({ sweepId }) }));
  await server.waitForExecution(executionArn as string, 120_000);
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { status: described.status, error: described.error, cause: described.cause, events: await fullHistory(sfn, executionArn as string) };
}

/** The largest input or output any state had, in UTF-8 bytes. */
const largestState = (events: HistoryEvent[]): number =>
  Math.max(...events.map((e) => Buffer.byteLength((e.stateEnteredEventDetails?.input ?? e.stateExitedEventDetails?.output ?? '') as string)));

describe('the limits one entry is measured against', () => {
  it('uses the longest request id the product accepts', () => {
    expect(RequestIdSchema.safeParse('r'.repeat(LONGEST.requestId)).success).toBe(true);
    expect(RequestIdSchema.safeParse('r'.repeat(LONGEST.requestId + 1)).success).toBe(false);
  });

  it("counts the events of the ASL's own retries and catches", () => {
    const processor = definition.States.EraseDue.ItemProcessor as AslMachine;
    const erase = processor.States.EraseDueEntry;
    const catcher = processor.States[(erase.Catch as { Next: string }[])[0].Next];
    expect(catcher).toMatchObject({ Type: 'Pass', End: true });
    expect(EVENTS_PER_ENTRY).toBe(1 + 1 + attemptsOf(erase) * 3 + 1 + 2 + 1);
    const task = (name: string): number => 1 + attemptsOf(definition.States[name]) * 3 + 1;
    expect(FIXED_EVENTS).toBe(1 + task('FindDueDeferrals') + 4 + task('WriteSweepReceipts') + 2 + 2 + 1);
  });

  it('caps the setting at what both quotas allow, for the construct and the handlers alike', () => {
    expect(MAX_SWEEP_ENTRIES).toBe(280);
    expect(CONFIG_MAX).toBe(MAX_SWEEP_ENTRIES);
    expect(MAX_SWEEP_ENTRIES * entryCost(longestSingleEntry())).toBeLessThanOrEqual(ENTRY_BYTES_BUDGET);
    expect(FIXED_EVENTS + MAX_SWEEP_ENTRIES * EVENTS_PER_ENTRY).toBeLessThan(HISTORY_EVENT_LIMIT);
  });

  it('shortens a page whose entries carry many deferred items, and always takes the first', () => {
    const plain = longestEntries(MAX_SWEEP_ENTRIES);
    expect(takeWithinBudget(plain, MAX_SWEEP_ENTRIES)).toHaveLength(MAX_SWEEP_ENTRIES);
    expect(takeWithinBudget(plain, 10)).toHaveLength(10);
    const heavy = plain.map((e) => ({ ...e, sks: Array.from({ length: 20 }, (_, i) => `${e.sks[0]}${i}`) }));
    const page = takeWithinBudget(heavy, MAX_SWEEP_ENTRIES);
    expect(page.length).toBeLessThan(MAX_SWEEP_ENTRIES);
    expect(page.reduce((n, e) => n + entryCost(e), 0)).toBeLessThanOrEqual(ENTRY_BYTES_BUDGET);
    const huge = [{ ...plain[0], sks: Array.from({ length: 2000 }, (_, i) => `${plain[0].sks[0]}${i}`) }, plain[1]];
    expect(takeWithinBudget(huge, MAX_SWEEP_ENTRIES)).toEqual([huge[0]]);
  });
});

describe('retention-sweep.asl.json on the local engine at the maximum', () => {
  it('completes with every entry erased at the largest counts and every retry around the Map used', async () => {
    const result = await sweep('at-max-done', { due: longestEntries(MAX_SWEEP_ENTRIES), exhaustRetries: true, entriesFail: false });
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(result.events.filter((e) => e.type === 'MapIterationSucceeded')).toHaveLength(MAX_SWEEP_ENTRIES);
    expect(largestState(result.events)).toBeLessThanOrEqual(STATE_PAYLOAD_LIMIT_BYTES);
  }, 120_000);

  it('reaches its own end (SweepFailed) with every entry retried to the last attempt, then failed with the longest error name', async () => {
    const result = await sweep('at-max-failed', { due: longestEntries(MAX_SWEEP_ENTRIES), exhaustRetries: true, entriesFail: true });
    expect(result).toMatchObject({ status: 'FAILED', error: 'SweepFailed' });
    // The Choice goes to the Fail state, which has no Exited event: one event less than the worst case.
    expect(result.events).toHaveLength(FIXED_EVENTS - 1 + MAX_SWEEP_ENTRIES * EVENTS_PER_ENTRY);
    expect(result.events.length).toBeLessThan(HISTORY_EVENT_LIMIT);
    const largest = largestState(result.events);
    expect(largest).toBeLessThanOrEqual(STATE_PAYLOAD_LIMIT_BYTES);
    expect(largest).toBeGreaterThan(STATE_PAYLOAD_LIMIT_BYTES * 0.8);
  }, 120_000);

  it('fails with States.DataLimitExceeded once the entries outgrow the state, whatever the Catch', async () => {
    const over = Math.ceil(STATE_PAYLOAD_LIMIT_BYTES / entryCost(longestSingleEntry()));
    const result = await sweep('over-limit', { due: longestEntries(over), exhaustRetries: false, entriesFail: true });
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded', cause: "The state/task 'EraseDue' returned a result with a size exceeding the maximum number of bytes service limit." });
    expect(result.events.map((e) => e.type)).not.toContain('FailStateEntered');
  }, 120_000);
});
