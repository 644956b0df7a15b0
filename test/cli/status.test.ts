/**
 * `dsr status`: where a request stands — the execution that last changed it, its plan and
 * receipt, third-party counts apart, and an unknown id named as such.
 */
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { lastJson, NOW, plainSubject, verification } from './support';

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
const taken: string[] = [];

beforeAll(async () => {
  env = await startSeededEngine({ seed: 67, now: NOW });
  ({ t, report } = env);
}, 300_000);

afterAll(async () => {
  await env?.close();
});

describe('dsr status', () => {
  it('an erasure: status, plan, decisions with third-party apart, receipt of that plan', async () => {
    const subject = plainSubject(report, taken, (s) => s.expected.contacts.thirdParty > 0);
    const started = lastJson<{ planHash: string; receipt: { hash: string } }>((await t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'ss-1', ...verification, '--wait', '--json')).out);
    const r = await t.dsr('status', 'ss-1');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^request ss-1 \(erasure\): completed\n {2}execution SUCCEEDED\n/);
    expect(r.out).toContain(`  plan ${started.planHash}\n`);
    expect(r.out).toMatch(/ {2}decisions: erase \d+.* \(of which \d+ third-party\)\n/);
    expect(r.out).toContain(`  receipt #`);
    expect(r.out).toContain(started.receipt.hash);
    expect(r.out).not.toMatch(/of plan/);
    expect(r.out).not.toContain(subject.subjectId);
    const json = lastJson<{ receipt: { planHash: string }; next: string | null }>((await t.dsr('status', 'ss-1', '--json')).out);
    expect(json.receipt.planHash).toBe(started.planHash);
    expect(json.next).toBeNull();
  }, 300_000);

  it('an unknown request is named as such', async () => {
    const r = await t.dsr('status', 'ss-nope');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^dsr: no such request ss-nope/);
  });
});
