/**
 * `dsr approve` on a deployment that does not require approval (its own engine: the handlers'
 * settings are per process): the answer says so, instead of "no plan awaiting approval".
 */
import { startSeededEngine, type SeededEngine } from '../support/engine';
import { lastJson, NOW, plainSubject, verification } from './support';

let env: SeededEngine;

beforeAll(async () => {
  env = await startSeededEngine({ seed: 71, now: NOW });
}, 300_000);

afterAll(async () => {
  await env?.close();
});

describe('dsr approve where approval is not required', () => {
  it('says approval is not required in this deployment', async () => {
    const subject = plainSubject(env.report, []);
    const r = await env.t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'ap-free', ...verification, '--wait', '--json');
    expect(lastJson(r.out)).toMatchObject({ status: 'completed' });
    const approve = await env.t.dsr('approve', 'ap-free', '--approved-by', 'dpo-1');
    expect(approve.code).toBe(2);
    expect(approve.err).toMatch(/^dsr: approval is not required in this deployment/);
    const reject = await env.t.dsr('reject', 'ap-free', '--rejected-by', 'dpo-1', '--reference', 'R-1');
    expect(reject.code).toBe(2);
    expect(reject.err).toMatch(/^dsr: approval is not required in this deployment/);
  }, 300_000);
});
