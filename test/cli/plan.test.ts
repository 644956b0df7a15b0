/**
 * `dsr plan` on an engine that requires approval: it shows the stored plan that awaits
 * approval (hash, per store and decision with bases) without starting anything; `--replan`
 * plans again and the new plan is the one awaiting approval.
 */
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { lastJson, NOW, personalValuesIn, plainSubject, verification } from './support';

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
let sfn: SFNClient;
const taken: string[] = [];

async function executionNames(): Promise<string[]> {
  const out = await sfn.send(new ListExecutionsCommand({ stateMachineArn: process.env.DSR_STATE_MACHINE_ARN }));
  return (out.executions ?? []).map((e) => e.name!).sort();
}

beforeAll(async () => {
  env = await startSeededEngine({ seed: 47, now: NOW, approvalRequired: true });
  ({ t, report } = env);
  sfn = new SFNClient({});
}, 300_000);

afterAll(async () => {
  sfn?.destroy();
  await env?.close();
});

interface PlanJson {
  status: string;
  execution: string | null;
  plan: { planHash: string; awaitingApproval: boolean; totals: Record<string, number>; stores: Array<{ store: string; rows: Array<{ decision: string; basis: string; count: number; role: string }> }> };
}

describe('dsr plan', () => {
  it('shows the plan awaiting approval, with bases, and starts nothing', async () => {
    const subject = plainSubject(report, taken, (s) => s.expected.invoices.owner > 0);
    const started = lastJson<{ planHash: string }>((await t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'pl-1', ...verification, '--wait', '--json')).out);
    const before = await executionNames();

    const json = lastJson<PlanJson>((await t.dsr('plan', 'pl-1', '--json')).out);
    expect(json).toMatchObject({ status: 'awaiting-approval', execution: null, plan: { planHash: started.planHash, awaitingApproval: true } });
    const rows = json.plan.stores.flatMap((s) => s.rows);
    expect(rows).toEqual(expect.arrayContaining([expect.objectContaining({ decision: 'retain-until', basis: 'tax' })]));
    // Every entry is counted once per row: rows add up to the totals, third-party apart.
    const decided = Object.entries(json.plan.totals).filter(([k]) => k !== 'third-party').reduce((n, [, v]) => n + v, 0);
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(decided);
    expect(rows.filter((r) => r.role === 'third-party').reduce((n, r) => n + r.count, 0)).toBe(json.plan.totals['third-party'] ?? 0);

    const text = await t.dsr('plan', 'pl-1');
    expect(text.code).toBe(0);
    expect(text.out).toContain(`plan ${started.planHash} (awaiting approval)`);
    expect(text.out).toMatch(/invoices: .*\n(\s+\d+\s+\S+\s+basis \S+.*\n)+/);
    expect(text.out).toMatch(/retain-until basis tax, due \d{4}-\d\d-\d\d/);
    expect(text.out).toContain(`next: npx dsr approve pl-1 --approved-by YOU --plan-hash ${started.planHash.slice(0, 12)}`);
    expect(personalValuesIn(text.out, report).filter((v) => Object.values(subject.identifiers).flat().includes(v))).toEqual([]);
    expect(await executionNames()).toEqual(before);
  }, 300_000);

  it('--replan plans again; the new plan, made after a hold, is the one awaiting approval', async () => {
    const subject = plainSubject(report, taken, (s) => s.expected.invoices.owner > 0);
    const first = lastJson<{ planHash: string }>((await t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'pl-2', ...verification, '--wait', '--json')).out).planHash;
    expect((await t.dsr('hold', 'place', '--subject', subject.subjectId, '--kind', 'litigation', '--reference', 'CASE-3', '--placed-by', 'legal')).code).toBe(0);
    const replanned = await t.dsr('plan', 'pl-2', '--replan', '--json');
    expect(replanned.code).toBe(0);
    const json = lastJson<PlanJson>(replanned.out);
    expect(json.execution).toBe('SUCCEEDED');
    expect(json.plan.planHash).not.toBe(first);
    expect(json.plan.awaitingApproval).toBe(true);
    expect(json.plan.stores.flatMap((s) => s.rows).filter((r) => r.decision === 'refused').every((r) => r.basis === 'litigation')).toBe(true);
    expect(json.plan.totals.refused).toBeGreaterThan(0);
    expect((await executionNames()).filter((n) => n.startsWith('pl-2--plan'))).toHaveLength(1);

    // The old hash is no longer the one to approve.
    const old = await t.dsr('approve', 'pl-2', '--approved-by', 'dpo-1', '--plan-hash', first);
    expect(old.code).toBe(2);
    expect(old.err).toMatch(new RegExp(`no plan ${first.slice(0, 12)}… awaiting approval; the plan awaiting approval is ${json.plan.planHash.slice(0, 12)}…`));
  }, 300_000);

  it('a rectification has nothing to plan; an unknown request is named', async () => {
    const subject = plainSubject(report, taken);
    await t.dsr('start', '--type', 'rectification', '--subject', subject.subjectId, '--request-id', 'pl-rect', ...verification, '--wait');
    const rect = await t.dsr('plan', 'pl-rect');
    expect(rect.code).toBe(2);
    expect(rect.err).toMatch(/is a rectification: a person handles it/);
    const unknown = await t.dsr('plan', 'pl-nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/no such request pl-nope/);
  }, 300_000);
});
