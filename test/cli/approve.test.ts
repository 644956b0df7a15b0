/**
 * `dsr approve` as support runs it, on an engine that requires approval: it approves exactly
 * the plan `dsr plan` shows (full hash or its prefix), refuses another, records the approval
 * in the receipt chain, and a plan that meets a hold placed after it ends in PlanOutdated with
 * the next step printed — after which a new plan can be made, approved and applied.
 */
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { lastJson, NOW, personalValuesIn, plainSubject, verification } from './support';

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
const taken: string[] = [];

beforeAll(async () => {
  env = await startSeededEngine({ seed: 31, now: NOW, approvalRequired: true });
  ({ t, report } = env);
}, 300_000);

afterAll(async () => {
  await env?.close();
});

describe('dsr approve', () => {
  it('approves the plan dsr plan shows, by its hash prefix, and records who in the ledger and a receipt', async () => {
    const subject = plainSubject(report, taken);
    const started = await t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'ap-1', ...verification, '--wait', '--json');
    expect(started.code).toBe(0);
    const stored = lastJson<{ planHash: string; status: string }>(started.out);
    expect(stored.status).toBe('awaiting-approval');

    const shown = await t.dsr('plan', 'ap-1');
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(`plan ${stored.planHash} (awaiting approval)`);

    const wrong = await t.dsr('approve', 'ap-1', '--approved-by', 'dpo-1', '--plan-hash', 'f'.repeat(64));
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/no plan ffffffffffff… awaiting approval/);
    const badHash = await t.dsr('approve', 'ap-1', '--approved-by', 'dpo-1', '--plan-hash', 'xyz');
    expect(badHash.code).toBe(2);
    expect(badHash.err).toMatch(/--plan-hash: give the plan's hash/);

    const ok = await t.dsr('approve', 'ap-1', '--approved-by', 'dpo-1', '--plan-hash', stored.planHash.slice(0, 12), '--wait', '--json');
    expect(ok.code).toBe(0);
    const summary = lastJson<{ status: string; planHash: string; counts: { verification: { unexpected: number } } }>(ok.out);
    expect(summary).toMatchObject({ status: 'completed', planHash: stored.planHash });
    expect(summary.counts.verification.unexpected).toBe(0);

    const receipt = JSON.parse((await t.dsr('receipt', 'ap-1', '--json')).out) as { changes: Array<{ receipt: Record<string, unknown> }> };
    const approval = receipt.changes.map((c) => c.receipt).find((r) => r.change === 'plan-approved');
    expect(approval).toMatchObject({ planHash: stored.planHash, requestId: 'ap-1' });
    expect(approval!.actorHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(receipt)).not.toContain('dpo-1');
    const history = await t.dsr('history', 'ap-1');
    expect(history.out).toMatch(/plan approved by dpo-1, plan [0-9a-f]{12}…/);
    expect(personalValuesIn(history.out, report)).toEqual([]);

    // Approving again what ran is refused with where the request stands.
    const again = await t.dsr('approve', 'ap-1', '--approved-by', 'dpo-1');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/request ap-1 is completed, with no plan awaiting approval/);
  }, 300_000);

  it('a hold placed after the plan ends the apply in PlanOutdated with the next step; the new plan applies', async () => {
    const subject = plainSubject(report, taken, (s) => s.expected.invoices.owner > 0);
    const started = await t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'ap-2', ...verification, '--wait', '--json');
    const first = lastJson<{ planHash: string }>(started.out).planHash;
    const hold = await t.dsr('hold', 'place', '--subject', subject.subjectId, '--kind', 'litigation', '--reference', 'CASE-9', '--placed-by', 'legal');
    expect(hold.code).toBe(0);

    const outdated = await t.dsr('approve', 'ap-2', '--approved-by', 'dpo-1', '--plan-hash', first, '--wait');
    expect(outdated.code).toBe(4);
    expect(outdated.out).toMatch(/execution FAILED \(PlanOutdated: /);
    expect(outdated.out).toMatch(/next: holds changed after the plan was approved; finish it under today.s holds: npx dsr resume ap-2; or plan again and review: npx dsr plan ap-2 --replan/);
    expect(outdated.out).not.toMatch(/store-failed/);

    // dsr plan alone shows the stored (outdated) plan and plans nothing.
    const stale = lastJson<{ plan: { planHash: string; awaitingApproval: boolean }; execution: string | null }>((await t.dsr('plan', 'ap-2', '--json')).out);
    expect(stale.plan).toMatchObject({ planHash: first, awaitingApproval: false });
    expect(stale.execution).toBeNull();

    const replanned = lastJson<{ status: string; plan: { planHash: string; awaitingApproval: boolean; stores: Array<{ rows: Array<{ decision: string; basis: string }> }> } }>(
      (await t.dsr('plan', 'ap-2', '--replan', '--json')).out,
    );
    expect(replanned.status).toBe('awaiting-approval');
    expect(replanned.plan.planHash).not.toBe(first);
    expect(replanned.plan.awaitingApproval).toBe(true);
    expect(replanned.plan.stores.flatMap((s) => s.rows)).toEqual(expect.arrayContaining([expect.objectContaining({ decision: 'refused', basis: 'litigation' })]));

    const applied = await t.dsr('approve', 'ap-2', '--approved-by', 'dpo-2', '--plan-hash', replanned.plan.planHash, '--wait', '--json');
    expect(applied.code).toBe(0);
    expect(lastJson<{ status: string; execution: { arn: string } }>(applied.out)).toMatchObject({ status: 'completed', execution: { arn: expect.stringMatching(/:ap-2--apply-[0-9a-f]{8}$/) } });
    expect((await t.dsr('receipt', 'verify')).code).toBe(0);
  }, 300_000);

  it('a request that does not wait for approval, and an unknown request, are named as such', async () => {
    const subject = plainSubject(report, taken);
    await t.dsr('start', '--type', 'access', '--subject', subject.subjectId, '--request-id', 'ap-access', ...verification, '--wait');
    const access = await t.dsr('approve', 'ap-access', '--approved-by', 'dpo-1');
    expect(access.code).toBe(2);
    expect(access.err).toMatch(/ap-access is an access request: only an erasure waits for approval/);
    const unknown = await t.dsr('approve', 'ap-nope', '--approved-by', 'dpo-1');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/no such request ap-nope/);
  }, 300_000);
});
