/**
 * `dsr reject`: the plan awaiting approval is rejected on the record (a chained receipt with
 * the reference; who in the ledger), nothing is applied, and the request can be planned again
 * and approved.
 */
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { lastJson, NOW, plainSubject, verification } from './support';

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
const taken: string[] = [];

beforeAll(async () => {
  env = await startSeededEngine({ seed: 53, now: NOW, approvalRequired: true });
  ({ t, report } = env);
}, 300_000);

afterAll(async () => {
  await env?.close();
});

describe('dsr reject', () => {
  it('rejects the plan on the record; a new plan can then be approved', async () => {
    const subject = plainSubject(report, taken);
    const planHash = lastJson<{ planHash: string }>((await t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'rj-1', ...verification, '--wait', '--json')).out).planHash;
    const missing = await t.dsr('reject', 'rj-1', '--rejected-by', 'dpo-3');
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/required option '--reference <ref>'/);

    const rejected = await t.dsr('reject', 'rj-1', '--rejected-by', 'dpo-3', '--reference', 'REVIEW-12', '--json');
    expect(rejected.code).toBe(0);
    expect(lastJson(rejected.out)).toMatchObject({ status: 'rejected', planHash });
    const status = lastJson<{ status: string; reason: string; next: string }>((await t.dsr('status', 'rj-1', '--json')).out);
    expect(status).toMatchObject({ status: 'rejected', reason: 'plan-rejected', next: 'plan again: npx dsr plan rj-1 --replan' });

    const receipt = JSON.parse((await t.dsr('receipt', 'rj-1', '--json')).out) as { changes: Array<{ receipt: Record<string, unknown> }> };
    expect(receipt.changes.map((c) => c.receipt)).toEqual([expect.objectContaining({ change: 'plan-rejected', reference: 'REVIEW-12', planHash })]);
    expect(JSON.stringify(receipt)).not.toContain('dpo-3');
    expect((await t.dsr('history', 'rj-1')).out).toMatch(/plan rejected by dpo-3, plan [0-9a-f]{12}…, reference REVIEW-12/);

    const approveRejected = await t.dsr('approve', 'rj-1', '--approved-by', 'dpo-4');
    expect(approveRejected.code).toBe(2);
    expect(approveRejected.err).toMatch(/rj-1 is rejected, with no plan awaiting approval; plan again: npx dsr plan rj-1 --replan/);

    const again = lastJson<{ status: string; plan: { planHash: string } }>((await t.dsr('plan', 'rj-1', '--replan', '--json')).out);
    expect(again.status).toBe('awaiting-approval');
    const applied = await t.dsr('approve', 'rj-1', '--approved-by', 'dpo-4', '--plan-hash', again.plan.planHash, '--wait', '--json');
    expect(applied.code).toBe(0);
    expect(lastJson(applied.out)).toMatchObject({ status: 'completed' });
    expect((await t.dsr('receipt', 'verify')).code).toBe(0);
  }, 300_000);

  it('nothing to reject: no plan awaiting, or no such request', async () => {
    const unknown = await t.dsr('reject', 'rj-nope', '--rejected-by', 'dpo-3', '--reference', 'R-1');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/no such request rj-nope/);
    const done = await t.dsr('reject', 'rj-1', '--rejected-by', 'dpo-3', '--reference', 'R-1');
    expect(done.code).toBe(2);
    expect(done.err).toMatch(/rj-1 is completed, with no plan awaiting approval/);
  });
});
