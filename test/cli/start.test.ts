/**
 * `dsr start` as support types it: control characters in an id or verification field are
 * refused with the option named (never the value), and `--wait` off a terminal prints one line
 * per state change with the elapsed time, stores done per Map, and a final line.
 */
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { lastJson, NOW, plainSubject, verification } from './support';

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
const taken: string[] = [];

beforeAll(async () => {
  env = await startSeededEngine({ seed: 59, now: NOW });
  ({ t, report } = env);
}, 300_000);

afterAll(async () => {
  await env?.close();
});

describe('dsr start', () => {
  it.each([
    ['--subject', (id: string) => ['--subject', `${id}\n`, ...verification]],
    ['--subject', (id: string) => ['--subject', `${id}\u0000x`, ...verification]],
    ['--verification-ref', (id: string) => ['--subject', id, ...verification.map((v) => (v === 'TICKET-5' ? 'TICKET\t5' : v))]],
  ])('a control character in %s is refused, naming the option and not the value', async (option, args) => {
    const subject = report.subjects[0].subjectId;
    const r = await t.dsr('start', '--type', 'access', '--request-id', 'st-bad', ...args(subject));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^dsr: ${option}: contains a control character`));
    expect(r.err).not.toContain(subject);
    expect((await t.dsr('status', 'st-bad')).err).toMatch(/no such request st-bad/);
  });

  it('--wait off a terminal prints one line per state change, stores done per Map, and how it ended', async () => {
    const subject = plainSubject(report, taken);
    const r = await t.dsr('start', '--type', 'access', '--subject', subject.subjectId, '--request-id', 'st-1', ...verification, '--wait');
    expect(r.code).toBe(0);
    const lines = r.err.replace(/\n$/, '').split('\n');
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^ {2}\d+\.\d s {2}\S+/);
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines.some((l) => /DiscoverStores · stores done 12\/12$/.test(l))).toBe(true);
    expect(lines.some((l) => /ExportStores · stores done 12\/12$/.test(l))).toBe(true);
    // Quiet: Choices only route, and a Map's progress is not a line per store.
    expect(lines.filter((l) => /IsRequestAccepted|RouteByRequestType/.test(l))).toEqual([]);
    expect(lines.filter((l) => /stores done/.test(l))).toHaveLength(2);
    expect(lines[lines.length - 1]).toMatch(/^ {2}succeeded after \d+\.\d s/);
    expect(r.out).toMatch(/^request st-1 \(access\): completed\n/);
    expect(r.out).toMatch(/decisions: \d+ records found/);
    expect(r.out).not.toMatch(/decisions: erase/);
    expect(r.err).not.toContain(subject.subjectId);
  }, 300_000);

  it('--json prints one object and no progress', async () => {
    const subject = plainSubject(report, taken);
    const r = await t.dsr('start', '--type', 'access', '--subject', subject.subjectId, '--request-id', 'st-2', ...verification, '--wait', '--json');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(lastJson(r.out)).toMatchObject({ requestId: 'st-2', status: 'completed' });
  }, 300_000);

  it('--type withdraw-consent --purposes: the outcome per purpose in words, a refused one with its basis; an unknown purpose is exit 2', async () => {
    const subject = plainSubject(report, taken);
    const r = await t.dsr('start', '--type', 'withdraw-consent', '--purposes', 'analytics,service-delivery', '--subject', subject.subjectId, '--request-id', 'st-wc', ...verification, '--wait');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^request st-wc \(withdraw-consent\): completed\n/);
    expect(r.out).toMatch(/\n {2}purpose analytics: consent withdrawn in 1 place\(s\): 1 item\(s\), [01] changed/);
    expect(r.out).toMatch(/\n {2}purpose service-delivery: refused: its basis is contract \(The service agreement/);
    expect(r.err).toMatch(/ApplyConsent/);
    expect(r.err + r.out).not.toContain(subject.subjectId);
    const receipt = await t.dsr('receipt', 'st-wc');
    expect(receipt.out).toMatch(/Per purpose/);
    expect(receipt.out).toMatch(/Consent attributes set/);

    const unknown = await t.dsr('start', '--type', 'objection', '--purposes', 'profiling', '--subject', subject.subjectId, '--request-id', 'st-obj', ...verification);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^dsr: --purposes: unknown purpose "profiling": the data map declares analytics, billing/);
    expect((await t.dsr('status', 'st-obj')).err).toMatch(/no such request st-obj/);
  }, 300_000);
});
