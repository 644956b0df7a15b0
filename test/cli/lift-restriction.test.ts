/**
 * `dsr lift-restriction`: the lift is a change on the record — a receipt of its own in the
 * chain (new hash), the request points at it, `dsr status` shows the lift's plan with its
 * receipt, and `dsr history` lists the lift with who asked for it.
 */
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { lastJson, NOW, personalValuesIn, plainSubject, verification } from './support';

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
const taken: string[] = [];

beforeAll(async () => {
  env = await startSeededEngine({ seed: 41, now: NOW });
  ({ t, report } = env);
}, 300_000);

afterAll(async () => {
  await env?.close();
});

describe('dsr lift-restriction', () => {
  it('appends a receipt of its own, and status and history show the lift', async () => {
    const subject = plainSubject(report, taken);
    const restricted = await t.dsr('start', '--type', 'restriction', '--subject', subject.subjectId, '--request-id', 'lr-1', ...verification, '--wait', '--json');
    expect(restricted.code).toBe(0);
    const before = lastJson<{ receipt: { sequence: number; hash: string } }>(restricted.out).receipt;

    const noBy = await t.dsr('lift-restriction', 'lr-1');
    expect(noBy.code).toBe(2);
    expect(noBy.err).toMatch(/required option '--by <who>'/);
    const lifted = await t.dsr('lift-restriction', 'lr-1', '--by', 'dpo-9', '--json');
    expect(lifted.code).toBe(0);
    const after = lastJson<{ planHash: string; receipt: { sequence: number; hash: string; planHash: string } }>(lifted.out);
    expect(after.receipt.sequence).toBeGreaterThan(before.sequence);
    expect(after.receipt.hash).not.toBe(before.hash);
    expect(after.receipt.planHash).toBe(after.planHash);

    const status = lastJson<{ status: string; reason: string; planHash: string; receipt: { hash: string; planHash: string } }>((await t.dsr('status', 'lr-1', '--json')).out);
    expect(status).toMatchObject({ status: 'completed', reason: 'restriction-lifted', planHash: after.planHash, receipt: { hash: after.receipt.hash, planHash: after.planHash } });

    const receipt = JSON.parse((await t.dsr('receipt', 'lr-1', '--json')).out) as { changes: Array<{ sha256: string; receipt: Record<string, unknown> }> };
    expect(receipt.changes).toHaveLength(1);
    expect(receipt.changes[0]).toMatchObject({ sha256: after.receipt.hash, receipt: { change: 'restriction-lifted', outcome: 'completed', requestId: 'lr-1' } });
    expect(receipt.changes[0].receipt.actorHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(receipt)).not.toContain('dpo-9');

    const history = await t.dsr('history', 'lr-1');
    expect(history.out).toMatch(/execution lr-1\n[\s\S]*execution lr-1--lift\n[\s\S]*restriction lifted by dpo-9/);
    expect(personalValuesIn(history.out, report).filter((v) => Object.values(subject.identifiers).flat().includes(v))).toEqual([]);

    // Lifting again rejoins the lift that ran: no second receipt.
    const again = lastJson<{ receipt: { hash: string } }>((await t.dsr('lift-restriction', 'lr-1', '--by', 'dpo-9', '--json')).out);
    expect(again.receipt.hash).toBe(after.receipt.hash);
    expect((await t.dsr('receipt', 'verify')).code).toBe(0);
  }, 300_000);

  it('refuses a request that is not a restriction, and an unknown one', async () => {
    const subject = plainSubject(report, taken);
    await t.dsr('start', '--type', 'access', '--subject', subject.subjectId, '--request-id', 'lr-access', ...verification, '--wait');
    const wrong = await t.dsr('lift-restriction', 'lr-access', '--by', 'dpo-9');
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/lr-access is an access request, not a restriction/);
    const unknown = await t.dsr('lift-restriction', 'lr-nope', '--by', 'dpo-9');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/no such request lr-nope/);
  }, 300_000);
});
