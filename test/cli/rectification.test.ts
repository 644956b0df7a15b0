/**
 * `dsr rectification done`: the person's correction closes the request with a chained receipt
 * (reference, when, a hash of who); who stays in the ledger, and `dsr history` shows it.
 */
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { NOW, personalValuesIn, plainSubject, verification } from './support';

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
const taken: string[] = [];

beforeAll(async () => {
  env = await startSeededEngine({ seed: 61, now: NOW });
  ({ t, report } = env);
}, 300_000);

afterAll(async () => {
  await env?.close();
});

describe('dsr rectification done', () => {
  it('closes a routed rectification on the record', async () => {
    const subject = plainSubject(report, taken);
    expect((await t.dsr('start', '--type', 'rectification', '--subject', subject.subjectId, '--request-id', 're-1', ...verification, '--wait')).code).toBe(0);
    const done = await t.dsr('rectification', 'done', 're-1', '--by', 'agent-9', '--reference', 'FIX-88', '--json');
    expect(done.code).toBe(0);
    const closing = JSON.parse((await t.dsr('receipt', 're-1--rectified', '--json')).out) as { receipt: Record<string, unknown> };
    expect(closing.receipt).toMatchObject({ requestId: 're-1', change: 'rectified', outcome: 'rectified-by-person', reference: 'FIX-88' });
    expect(closing.receipt.actorHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(closing)).not.toContain('agent-9');
    const history = await t.dsr('history', 're-1');
    expect(history.out).toMatch(/RoutedToPerson[\s\S]*receipt #\d+ sha256 [0-9a-f]{12}…\s+rectified by a person by agent-9, reference FIX-88/);
    expect(personalValuesIn(history.out, report).filter((v) => Object.values(subject.identifiers).flat().includes(v))).toEqual([]);
    const again = await t.dsr('rectification', 'done', 're-1', '--by', 'agent-9', '--reference', 'FIX-88');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/is completed, not routed to a person/);
  }, 300_000);

  it('names what is wrong: another type, an unknown request', async () => {
    const subject = plainSubject(report, taken);
    await t.dsr('start', '--type', 'access', '--subject', subject.subjectId, '--request-id', 're-access', ...verification, '--wait');
    expect((await t.dsr('rectification', 'done', 're-access', '--by', 'a', '--reference', 'F')).err).toMatch(/re-access is an access request, not a rectification/);
    const unknown = await t.dsr('rectification', 'done', 're-nope', '--by', 'a', '--reference', 'F');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/no such request re-nope/);
  }, 300_000);
});
