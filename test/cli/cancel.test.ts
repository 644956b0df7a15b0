/**
 * `dsr cancel`: a request awaiting approval ends cancelled at once (an approval after it is
 * refused); a running erasure stops between stores — every store either finished or untouched,
 * which a new request's plan shows store by store — with a chained `cancelled` receipt, while
 * another subject's erasure beside it completes; the new request then finishes the job.
 */
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { lastJson, NOW, plainSubject, verification } from './support';

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
let sfn: SFNClient;
const taken: string[] = [];

beforeAll(async () => {
  env = await startSeededEngine({ seed: 79, now: NOW, approvalRequired: true });
  ({ t, report } = env);
  sfn = new SFNClient({});
}, 300_000);

afterAll(async () => {
  sfn?.destroy();
  await env?.close();
});

type PlanJson = { plan: { planHash: string; stores: Array<{ store: string; counts: Record<string, number> }> } };
const plan = async (id: string) => lastJson<PlanJson>((await t.dsr('plan', id, '--json')).out).plan;
const erasing = (counts: Record<string, number>) => (counts.erase ?? 0) + (counts.anonymize ?? 0);

async function awaitingErasure(id: string, subjectId: string) {
  const r = await t.dsr('start', '--type', 'erasure', '--subject', subjectId, '--request-id', id, ...verification, '--wait', '--json');
  expect(lastJson<{ status: string }>(r.out).status).toBe('awaiting-approval');
}

/** Polls the execution's history until its first EraseStore task has started (the erasure is under way). */
async function untilErasureStarted(executionArn: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const out = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    if ((out.events ?? []).some((e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'EraseStore')) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('EraseStore never started');
}

describe('dsr cancel', () => {
  it('awaiting approval: ends cancelled, with a receipt; an approval after it is refused; listed as cancelled', async () => {
    const subject = plainSubject(report, taken);
    await awaitingErasure('cx-wait', subject.subjectId);
    const cancelled = await t.dsr('cancel', 'cx-wait', '--reason', `the subject ${subject.subjectId} withdrew the request`, '--json');
    expect(cancelled.err).toBe('');
    expect(cancelled.code).toBe(0);
    expect(lastJson(cancelled.out)).toMatchObject({ requestId: 'cx-wait', status: 'cancelled' });
    expect(cancelled.out).not.toContain(subject.subjectId);
    const approve = await t.dsr('approve', 'cx-wait', '--approved-by', 'agent-2');
    expect(approve.code).toBe(2);
    expect(approve.err).toMatch(/is cancelled, with no plan awaiting approval/);
    expect((await t.dsr('status', 'cx-wait')).out).toMatch(/^request cx-wait \(erasure\): cancelled — cancelled\n/);
    expect(lastJson<{ requests: Array<{ requestId: string }> }>((await t.dsr('requests', '--status', 'cancelled', '--json')).out).requests.map((r) => r.requestId)).toEqual(['cx-wait']);
    const history = await t.dsr('history', 'cx-wait');
    expect(history.out).toMatch(/receipt #\d+ sha256 [0-9a-f]{12}…\s+cancelled \(was awaiting-approval\), plan [0-9a-f]{12}…, reason sha256 [0-9a-f]{12}…\n\s+nothing applied/);
    expect(history.out).not.toContain('withdrew');
    const again = await t.dsr('cancel', 'cx-wait', '--reason', 'again');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/already cancelled/);
    const extend = await t.dsr('extend', 'cx-wait', '--days', '5', '--reason', 'x');
    expect(extend.code).toBe(4);
    expect(extend.err).toMatch(/\(answered\)/);
  }, 300_000);

  it('running: stops between stores, leaves each store finished or untouched, records it; beside it another erasure completes; its resume finishes', async () => {
    const subject = plainSubject(report, taken, (s) => s.expected.contacts.owner > 0 && s.expected['call-records'].owner > 0);
    const other = plainSubject(report, taken, (s) => s.expected.contacts.owner > 0);
    await awaitingErasure('cx-run', subject.subjectId);
    await awaitingErasure('cx-beside', other.subjectId);
    const before = await plan('cx-run');
    const approved = lastJson<{ executionArn: string }>((await t.dsr('approve', 'cx-run', '--approved-by', 'agent-2', '--json')).out);
    const besideRun = t.dsr('approve', 'cx-beside', '--approved-by', 'agent-2', '--wait', '--json');
    await untilErasureStarted(approved.executionArn);
    const cancelled = await t.dsr('cancel', 'cx-run', '--reason', 'opened in error', '--wait', '--json');
    expect(cancelled.err).toBe('');
    expect(cancelled.code).toBe(0);
    const result = lastJson<{ status: string; receipt: { sequence: number }; stores: Record<string, { state: string } & Record<string, number>> }>(cancelled.out);
    expect(result.status).toBe('cancelled');
    const states = Object.values(result.stores).map((s) => s.state);
    expect(states).toContain('done');
    expect(states).toContain('untouched');

    const beside = lastJson<{ status: string }>((await besideRun).out);
    expect(beside.status).toBe('completed');
    const status = await t.dsr('status', 'cx-run', '--json');
    expect(lastJson<{ status: string; execution: { error: string } }>(status.out)).toMatchObject({ status: 'cancelled', execution: { error: 'RequestCancelled' } });
    expect((await t.dsr('receipt', 'verify')).code).toBe(0);

    // A new request of the subject would not find it once the account store was finished (nothing
    // left to find the subject by); the request's resume finishes with the identity it kept:
    // a finished store has nothing left to erase, an untouched one all of it.
    const resumed = await t.dsr('resume', 'cx-run', '--wait', '--json');
    expect(resumed.err).toBe('');
    expect(resumed.code).toBe(0);
    const finished = lastJson<{ status: string; counts: { decisions: Record<string, Record<string, number>>; verification: { unexpected: number } } }>(resumed.out);
    expect(finished).toMatchObject({ status: 'completed', counts: { verification: { unexpected: 0 } } });
    for (const s of before.stores) {
      const left = erasing(finished.counts.decisions[s.store] ?? {});
      const state = result.stores[s.store].state;
      // Untouched: all still there (less a mention the erasure beside it may have removed with its own list).
      if (state === 'untouched' && erasing(s.counts) > 0) expect([s.store, left > 0 && left <= erasing(s.counts)]).toEqual([s.store, true]);
      if (state === 'done') expect([s.store, left]).toEqual([s.store, 0]);
    }
    const history = await t.dsr('history', 'cx-run');
    expect(history.out).toMatch(/RequestCancelled/);
    expect(history.out).toMatch(/cancelled \(was running\)/);
  }, 600_000);
});
