/**
 * `dsr history` as an auditor reads it: every execution and change of the request in order,
 * absolute UTC times, the verification method and reference, the basis of what was kept,
 * third-party counts apart, no erasure wording for an access request, no personal value — and
 * a store's result stays under its Map whatever order the events come in (the nesting is read
 * from previousEventId).
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { renderTimeline } from '../../cli/commands/history';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { NOW, personalValuesIn, plainSubject, verification } from './support';

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
const taken: string[] = [];
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;

const identifiersOf = (s: SubjectEntry) => Object.values(s.identifiers).flat();

beforeAll(async () => {
  env = await startSeededEngine({ seed: 43, now: NOW });
  ({ t, report } = env);
}, 300_000);

afterAll(async () => {
  await env?.close();
});

/**
 * The same events as the library emits them at its worst: each Map iteration's end after the
 * Map's exit and the next state's entry. Ids follow the new order; links follow the events.
 */
function iterationEndsLate(events: HistoryEvent[], map: string): HistoryEvent[] {
  const ends = events.filter((e) => e.type === 'MapIterationSucceeded' && e.mapIterationSucceededEventDetails?.name === map);
  const rest = events.filter((e) => !ends.includes(e));
  const exit = rest.findIndex((e) => e.type === 'MapStateExited' && e.stateExitedEventDetails?.name === map);
  const nextEntered = rest.findIndex((e, i) => i > exit && e.type?.endsWith('StateEntered'));
  const order = [...rest.slice(0, nextEntered + 1), ...ends, ...rest.slice(nextEntered + 1)];
  const newId = new Map(order.map((e, i) => [e.id!, i + 1]));
  return order.map((e) => ({ ...e, id: newId.get(e.id!), previousEventId: e.previousEventId ? newId.get(e.previousEventId) : 0 }));
}

describe('dsr history', () => {
  let subject: SubjectEntry;

  it('an erasure: UTC times, verification, bases of what was kept, third-party apart, no personal value', async () => {
    subject = plainSubject(report, taken, (s) => s.expected.invoices.owner > 0 && s.expected.contacts.thirdParty > 0);
    expect((await t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'hi-1', ...verification, '--wait')).code).toBe(0);
    const h = await t.dsr('history', 'hi-1');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^request hi-1 \(erasure\), received /);
    expect(h.out).toContain('by method id-document, reference TICKET-5');
    for (const line of h.out.split('\n').filter((l) => /^\s+\d{4}-/.test(l))) expect(line).toMatch(ISO);
    expect(h.out).toMatch(/kept: invoices: retain-until \d+, basis tax, due \d{4}-\d\d-\d\d/);
    expect(h.out).toMatch(/ApplyRetention\s+plan [0-9a-f]{12}…: erase \d+.*\(of which \d+ third-party\)/);
    expect(h.out).toMatch(/EraseStores\s+accounts: delete 1;/);
    expect(h.out).toMatch(/VerifyErasure\s+remaining \d+ \(unexpected 0\)\n/);
    expect(h.out).toMatch(/receipt #\d+ sha256 [0-9a-f]{12}…\s+completed/);
    expect(personalValuesIn(h.out, report).filter((v) => identifiersOf(subject).includes(v))).toEqual([]);
  }, 300_000);

  it('a store\'s result stays under its Map when the iteration ends come after the next state', async () => {
    const json = JSON.parse((await t.dsr('history', 'hi-1', '--json')).out) as { events: HistoryEvent[] };
    const asRecorded = renderTimeline(json.events);
    const late = renderTimeline(iterationEndsLate(json.events, 'EraseStores'));
    expect(late).toEqual(asRecorded);
    expect(late.find((l) => /EraseStores/.test(l))).toMatch(/delete/);
    expect(late.find((l) => /VerifyErasure/.test(l))).toMatch(/remaining \d+ \(unexpected 0\)$/);
  });

  it('records the stores hold under a legal hold or Object Lock are kept, with that basis', async () => {
    const held = report.subjects.find((s) => s.flags.legalHeldMedia && !s.flags.fraudInvestigation && !s.flags.specialCharacters && !taken.includes(s.subjectId));
    if (!held) throw new Error('the seeded dataset has a subject with legally held media');
    taken.push(held.subjectId);
    await t.dsr('start', '--type', 'erasure', '--subject', held.subjectId, '--request-id', 'hi-held', ...verification, '--wait');
    const h = await t.dsr('history', 'hi-held');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/kept: [a-z-]+: refused \d+, basis object-legal-hold/);
    expect(personalValuesIn(h.out, report).filter((v) => identifiersOf(held).includes(v))).toEqual([]);
  }, 300_000);

  it('an access request says what was found, not what was erased', async () => {
    const other = plainSubject(report, taken);
    await t.dsr('start', '--type', 'access', '--subject', other.subjectId, '--request-id', 'hi-access', ...verification, '--wait');
    const h = await t.dsr('history', 'hi-access');
    expect(h.out).toMatch(/ApplyRetention\s+plan [0-9a-f]{12}…: \d+ records found/);
    expect(h.out).not.toMatch(/erase \d/);
    expect(personalValuesIn(h.out, report).filter((v) => identifiersOf(other).includes(v))).toEqual([]);
  }, 300_000);

  it('lists every execution in order, each receipt after the execution that wrote it', async () => {
    const replan = await t.dsr('plan', 'hi-access', '--replan', '--json');
    expect(replan.code).toBe(0);
    const h = await t.dsr('history', 'hi-access');
    const blocks = [...h.out.matchAll(/^(execution \S+|\S+\s+receipt #\d+)/gm)].map((m) => m[1].replace(/^\S+\s+receipt/, 'receipt'));
    expect(blocks).toEqual(['execution hi-access', expect.stringMatching(/^receipt #\d+$/), expect.stringMatching(/^execution hi-access--plan-[0-9a-z]+$/)]);
    // After an erasure the subject is gone: planning again is refused, and says why.
    const gone = await t.dsr('plan', 'hi-1', '--replan');
    expect(gone.code).toBe(4);
    expect(gone.out).toMatch(/planning failed: RequestRefused: unknown-subject/);
  }, 300_000);

  it('an unknown request is named as such', async () => {
    const r = await t.dsr('history', 'hi-nope');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no such request hi-nope/);
  });
});
