/**
 * `dsr extend` and `dsr requests`, and the deadline `dsr status` shows: every request is due
 * 30 days after it was received; one extension of at most 30 days, before the first deadline,
 * recorded as a chained change receipt carrying the reason's hash only; listings by due date
 * from the ledger's deadline index, never naming a subject. The engine's clock is moved.
 */
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { deadlineCounts, deadlineMetricLine } from '../../functions/core/deadlines';
import { Ledger } from '../../functions/core/ledger';
import { changeReceipts } from '../../functions/core/receipt';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { lastJson, NOW, personalValuesIn, plainSubject, verification } from './support';

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
const taken: string[] = [];
const DAY = 86_400_000;
const at = (days: number) => new Date(new Date(NOW).getTime() + days * DAY).toISOString();

beforeAll(async () => {
  env = await startSeededEngine({ seed: 71, now: NOW });
  ({ t, report } = env);
}, 300_000);

afterAll(async () => {
  await env?.close();
});

const rectify = async (id: string, subjectId: string, receivedAt?: string) => {
  const r = await t.dsr('start', '--type', 'rectification', '--subject', subjectId, '--request-id', id, ...verification, ...(receivedAt ? ['--received-at', receivedAt] : []), '--wait');
  expect(r.code).toBe(0);
};

describe('dsr extend', () => {
  afterEach(() => t.setClock(NOW));

  it('extends once before the first deadline; refused a second time, after day 30, beyond 30 days', async () => {
    const [a, b] = [plainSubject(report, taken), plainSubject(report, taken)];
    await rectify('dl-1', a.subjectId);
    await rectify('dl-2', b.subjectId);
    const status = await t.dsr('status', 'dl-1');
    expect(status.out).toContain(`  received ${NOW}, due ${at(30)}: 30 days left\n`);

    t.setClock(at(10));
    const tooLong = await t.dsr('extend', 'dl-1', '--days', '31', '--reason', 'x');
    expect(tooLong.code).toBe(2);
    expect(tooLong.err).toMatch(/--days: an extension is 1 to 30 whole days/);
    const reason = `consultation needed; the subject ${a.subjectId} asked for everything`;
    const extended = await t.dsr('extend', 'dl-1', '--days', '20', '--reason', reason, '--json');
    expect(extended.code).toBe(0);
    expect(lastJson(extended.out)).toMatchObject({ requestId: 'dl-1', firstDueAt: at(30), dueAt: at(50), days: 20 });
    expect(extended.out).not.toContain(a.subjectId);

    const [notice] = await changeReceipts({ dynamodb: env.ddb, ledger: new Ledger(env.ddb, 'dsr-ledger') }, 'dl-1');
    const body = JSON.parse(notice.body) as Record<string, unknown>;
    expect(body).toMatchObject({ kind: 'change', requestId: 'dl-1', change: 'deadline-extended', firstDueAt: at(30), dueAt: at(50), days: 20, at: at(10) });
    expect(body.reasonHash).toMatch(/^[0-9a-f]{64}$/);
    expect(notice.body).not.toContain('consultation');
    expect(notice.body).not.toContain(a.subjectId);

    const twice = await t.dsr('extend', 'dl-1', '--days', '5', '--reason', 'again');
    expect(twice.code).toBe(4);
    expect(twice.err).toMatch(/extension refused \(already-extended\).*one extension/);
    // The identical command again (a lost answer) answers the extension on record.
    expect(lastJson((await t.dsr('extend', 'dl-1', '--days', '20', '--reason', reason, '--json')).out)).toMatchObject({ dueAt: at(50), receipt: { sequence: notice.sequence } });

    t.setClock(at(31));
    const late = await t.dsr('extend', 'dl-2', '--days', '5', '--reason', 'late');
    expect(late.code).toBe(4);
    expect(late.err).toMatch(/extension refused \(deadline-passed\): request dl-2 was due .*before the first deadline/);
    const json = lastJson<{ deadline: Record<string, unknown> }>((await t.dsr('status', 'dl-1', '--json')).out);
    expect(json.deadline).toMatchObject({ dueAt: at(50), daysLeft: 19, extended: true, answered: false });
    expect((await t.dsr('status', 'dl-2')).out).toMatch(/due .*: overdue by 1 days/);
    expect((await t.dsr('receipt', 'verify')).code).toBe(0);
  }, 300_000);
});

describe('dsr requests', () => {
  it('lists overdue and soon-due open requests by due date, with no subject in any output', async () => {
    const subjects = [0, 1, 2, 3].map(() => plainSubject(report, taken));
    await rectify('ls-over', subjects[0].subjectId, at(-40));
    await rectify('ls-soon', subjects[1].subjectId, at(-25));
    await rectify('ls-later', subjects[2].subjectId);
    const done = await t.dsr('start', '--type', 'access', '--subject', subjects[3].subjectId, '--request-id', 'ls-done', ...verification, '--received-at', at(-40), '--wait');
    expect(done.code).toBe(0);
    const future = await t.dsr('start', '--type', 'access', '--subject', subjects[3].subjectId, '--request-id', 'ls-future', ...verification, '--received-at', at(1));
    expect(future.code).toBe(2);
    expect(future.err).toMatch(/--received-at: .* is in the future/);

    type Listing = { requests: Array<{ requestId: string; type: string; origin: string; status: string; daysLeft: number; overdue: boolean; dueAt: string }> };
    const ids = async (...args: string[]) => {
      const r = await t.dsr('requests', ...args, '--json');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      return lastJson<Listing>(r.out).requests.filter((x) => x.requestId.startsWith('ls-'));
    };
    const overdue = await ids('--overdue');
    expect(overdue.map((r) => r.requestId)).toEqual(['ls-over']);
    expect(overdue[0]).toMatchObject({ type: 'rectification', origin: 'subject', status: 'routed-to-person', daysLeft: -10, overdue: true, dueAt: at(-10) });
    expect((await ids('--due-within', '7d')).map((r) => [r.requestId, r.daysLeft])).toEqual([['ls-soon', 5]]);
    expect((await ids('--overdue', '--due-within', '7d')).map((r) => r.requestId)).toEqual(['ls-over', 'ls-soon']);
    expect((await ids('--status', 'completed')).map((r) => r.requestId)).toEqual(['ls-done']);
    expect((await ids('--type', 'access')).map((r) => r.requestId)).toEqual(['ls-done']);
    expect((await ids()).map((r) => r.requestId)).toEqual(['ls-done', 'ls-over', 'ls-soon', 'ls-later']);
    expect((await ids('--origin', 'subject')).map((r) => r.requestId)).toEqual(['ls-done', 'ls-over', 'ls-soon', 'ls-later']);
    expect(await ids('--origin', 'retention-schedule')).toEqual([]);
    expect((await t.dsr('requests', '--origin', 'robot')).err).toMatch(/--origin: one of subject, retention-schedule/);

    // Support's own policy allows it (the local engine enforces it: a denial fails the test at stop).
    expect((await t.dsr('--as', 'support', 'requests', '--overdue', '--json')).code).toBe(0);
    const text = await t.dsr('requests');
    expect(text.out).toMatch(/^request +type +origin +status +received +due +days left\n/);
    expect(text.out).toMatch(/ls-over +rectification +subject +routed-to-person +2026-09-23 12:00 +2026-10-23 12:00 +-10 \(overdue\)/);
    const all = [text.out, (await t.dsr('requests', '--json')).out, (await t.dsr('requests', '--overdue')).out, (await t.dsr('status', 'ls-over')).out].join('\n');
    for (const s of subjects) expect(all).not.toContain(s.subjectId);
    expect(personalValuesIn(all, report)).toEqual([]);
    expect((await t.dsr('requests', '--status', 'nope')).code).toBe(2);

    // What the deadline alarm reads (the sweep's deadline check): the same index, counts only.
    const counts = await deadlineCounts({ dynamodb: env.ddb, ledger: { table: 'dsr-ledger' } }, new Date(NOW), 7);
    const open = lastJson<Listing>((await t.dsr('requests', '--overdue', '--due-within', '7d', '--json')).out).requests;
    expect(counts).toEqual({ nearing: open.length, overdue: open.filter((r) => r.overdue).length, nearingDays: 7 });
    expect(counts.overdue).toBeGreaterThanOrEqual(1);
    const line = JSON.parse(deadlineMetricLine(counts, new Date(NOW))) as Record<string, unknown>;
    expect(line).toMatchObject({ RequestsNearingDeadline: counts.nearing, RequestsOverdue: counts.overdue, _aws: { CloudWatchMetrics: [{ Namespace: 'SubjectRightsOrchestrator' }] } });
    const sweep = await t.dsr('sweep', '--json');
    expect(sweep.code).toBe(0);
  }, 300_000);
});
