/**
 * Erasures side by side on the local engine: two people whose records share log objects,
 * erased at the same moment; the retention sweep erasing several people's due records in one
 * store at concurrency 4; two erasures of one person; an identical `dsr start` retried.
 * (The lease rules themselves: test/core/erasure-lock.test.ts.)
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { ErasureInProgressError, storeLockKey } from '../../functions/core/erasure-lock';
import { placeHold } from '../../functions/core/hold-ledger';
import { Ledger } from '../../functions/core/ledger';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { currentTexts } from '../support/log-store';
import { phonesIn } from '../examples/voip-support';

const NOW = '2026-11-02T12:00:00.000Z';
let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;

const verification = ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'TICKET-3'];
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop() ?? '{}');

async function erase(requestId: string, subject: string) {
  const r = await t.dsr('start', '--type', 'erasure', '--subject', subject, '--request-id', requestId, ...verification, '--verified-at', NOW, '--wait', '--json');
  return { ...r, summary: lastJson(r.out) };
}

/** Every log object's lines (decompressed), by key. */
async function logLines(): Promise<Map<string, string[]>> {
  const texts = await currentTexts(env.s3, 'voip-logs');
  return new Map([...texts].map(([key, text]) => [key, text.split('\n')]));
}

const sipUserOf = (line: string): string | undefined => {
  try {
    return String((JSON.parse(line) as { sipUser?: unknown }).sipUser);
  } catch {
    return undefined;
  }
};

/** The SIP log objects holding a line of the subject (its SIP user name: an exact field). */
function objectsOf(lines: Map<string, string[]>, s: SubjectEntry): Set<string> {
  const users = new Set(s.identifiers.sipUsername);
  return new Set([...lines].filter(([key, ls]) => key.startsWith('sip/') && ls.some((l) => users.has(sipUserOf(l) ?? ''))).map(([key]) => key));
}

/**
 * Whether a text mentions an identifier value in some written form, read independently of
 * functions/core/identifiers.ts: an address in any letter case; a number as E.164, in a SIP or
 * tel URI, or in the usual North American forms (`(514) 555-0101`, `514.555.0101`,
 * `+1 514 555 0101`); any other value as written.
 */
function mentions(text: string, type: string, value: string): boolean {
  if (type === 'email') return text.toLowerCase().includes(value.toLowerCase());
  if (type !== 'phone') return text.includes(value);
  if (text.includes(value) || phonesIn(text).includes(value)) return true;
  for (const m of text.matchAll(/(?<![0-9A-Za-z+])(?:\+?1[ .-]?)?\(?[2-9][0-9]{2}\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}(?![0-9])/g)) {
    const digits = m[0].replace(/[^0-9]/g, '');
    if ((digits.length === 10 ? `+1${digits}` : `+${digits}`) === value) return true;
  }
  return false;
}

/** Whether `span` is, whole, one written form of the value (independently of functions/core/identifiers.ts). */
function isWrittenValue(span: string, type: string, value: string): boolean {
  if (type === 'email') return span.toLowerCase() === value.toLowerCase();
  if (type !== 'phone' || span === value) return span === value;
  if (!/^(?:\+?1[ .-]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .-]?)[0-9]{3}[ .-]?[0-9]{4}$/.test(span)) return false;
  const digits = span.replace(/[^0-9]/g, '');
  return (digits.length === 10 ? `+1${digits}` : `+${digits}`) === value;
}

function parsesAsJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `now` is `was` with written values replaced in place by `[REDACTED]`: every other
 * byte kept, in order, and each replaced span one that `replaced` accepts.
 */
function redactedInPlace(was: string, now: string, replaced: (span: string) => boolean): boolean {
  const parts = now.split('[REDACTED]');
  if (parts.length < 2 || !was.startsWith(parts[0])) return false;
  let at = parts[0].length;
  for (let k = 1; k < parts.length; k++) {
    const last = k === parts.length - 1;
    const next = last ? (was.endsWith(parts[k]) ? was.length - parts[k].length : -1) : was.indexOf(parts[k], at + 1);
    if (next <= at || !replaced(was.slice(at, next))) return false;
    at = next + parts[k].length;
  }
  return at === was.length;
}

const eligible = (s: SubjectEntry) => !s.flags.fraudInvestigation && !s.flags.legalHeldMedia && !s.flags.specialCharacters && s.identifiers.sipUsername.length > 0;
const taken = new Set<string>();

beforeAll(async () => {
  env = await startSeededEngine({ seed: 31, now: NOW });
  ({ t, report } = env);
}, 300_000);

afterAll(() => env?.close());

describe('erasures side by side', () => {
  it('two people sharing log objects, erased at the same moment: both complete, every other record is byte-identical', async () => {
    const before = await logLines();
    const candidates = report.subjects.filter(eligible);
    let pair: [SubjectEntry, SubjectEntry] | undefined;
    for (const a of candidates) {
      const mine = objectsOf(before, a);
      const b = candidates.find((x) => x !== a && [...objectsOf(before, x)].some((k) => mine.has(k)));
      if (b) {
        pair = [a, b];
        break;
      }
    }
    expect(pair).toBeDefined();
    const [a, b] = pair!;
    for (const s of pair!) taken.add(s.subjectId);
    const shared = [...objectsOf(before, a)].filter((k) => objectsOf(before, b).has(k));
    expect(shared.length).toBeGreaterThan(0);
    const accountsBefore = (await env.ddb.send(new ScanCommand({ TableName: 'voip-accounts' }))).Items ?? [];

    const [ra, rb] = await Promise.all([erase('pair-a', a.subjectId), erase('pair-b', b.subjectId)]);
    for (const r of [ra, rb]) {
      expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
      expect(r.summary.status).toBe('completed');
      expect(r.summary.counts.verification.unexpected).toBe(0);
    }

    const after = await logLines();
    const users = new Set([...a.identifiers.sipUsername, ...b.identifiers.sipUsername]);
    const values = [a, b].flatMap((s) => Object.entries(s.identifiers).flatMap(([type, vs]) => vs.filter((v) => v.length > 0).map((v) => ({ type, v }))));
    const theTwo = (span: string) => values.some(({ type, v }) => isWrittenValue(span, type, v));
    for (const [key, was] of before) {
      const now = after.get(key) ?? [];
      // What is left is the lines that were there, byte for byte and in order ...
      let i = 0;
      const removed: string[][] = [];
      let run: string[] | undefined;
      for (const line of was) {
        if (now[i] === line) {
          i++;
          run = undefined;
        } else if (now[i] !== undefined && !parsesAsJson(line) && redactedInPlace(line, now[i], theTwo)) {
          // A line that does not parse (truncated) keeps every byte but their identifiers.
          i++;
          run = undefined;
        } else {
          if (!run) removed.push((run = []));
          run.push(line);
        }
      }
      expect({ key, unmatched: now.slice(i) }).toEqual({ key, unmatched: [] });
      // ... without exactly the records of the two people (a CSV record may span lines).
      for (const lines of removed) {
        const text = lines.join('\n');
        expect({ key, text, ofTheTwo: values.some(({ type, v }) => mentions(text, type, v)) }).toEqual({ key, text, ofTheTwo: true });
      }
      expect(now.filter((l) => users.has(sipUserOf(l) ?? ''))).toEqual([]);
    }
    for (const key of shared) expect(after.get(key)!.length).toBeLessThan(before.get(key)!.length);

    const accountsAfter = (await env.ddb.send(new ScanCommand({ TableName: 'voip-accounts' }))).Items ?? [];
    const others = (items: typeof accountsBefore) => items.filter((i) => i.accountId?.S !== a.subjectId && i.accountId?.S !== b.subjectId).map((i) => JSON.stringify(i)).sort();
    expect(others(accountsAfter)).toEqual(others(accountsBefore));
    expect(accountsAfter.length).toBe(accountsBefore.length - 2);
  }, 600_000);

  it('the sweep erases several people\'s due records in one store at concurrency 4', async () => {
    const subjects = report.subjects.filter((s) => eligible(s) && !taken.has(s.subjectId) && s.expected['call-records'].owner > 0).slice(0, 5);
    expect(subjects).toHaveLength(5);
    for (const s of subjects) taken.add(s.subjectId);
    const runs = await Promise.all(subjects.map((s, i) => erase(`swept-${i}`, s.subjectId)));
    for (const r of runs) expect(r.summary.status).toBe('completed');

    // At +13 months every one of them has call records due in the same store.
    const r = await t.dsr('sweep', '--now', '2027-12-20T00:00:00Z', '--json');
    expect(r.err).toBe('');
    const sweep = JSON.parse(r.out.trim()) as { status: string; erased: number; due: number };
    expect(sweep.status).toBe('SUCCEEDED');
    expect(sweep.due).toBeGreaterThanOrEqual(5);
    for (const s of subjects) {
      const cdrs = await env.ddb.send(
        new ScanCommand({ TableName: 'voip-cdrs', FilterExpression: 'accountId = :a', ExpressionAttributeValues: { ':a': { S: s.subjectId } } }),
      );
      expect({ subject: s.subjectId, left: cdrs.Count }).toEqual({ subject: s.subjectId, left: 0 });
    }
  }, 600_000);

  it('two erasures of the same person at once: never HoldsChanged; one may be refused SubjectErasureInProgress, and a resume finishes it', async () => {
    const s = report.subjects.find((x) => eligible(x) && !taken.has(x.subjectId))!;
    taken.add(s.subjectId);
    const runs = await Promise.all([erase('same-1', s.subjectId), erase('same-2', s.subjectId)]);
    const errors = new Set<string>();
    for (const r of runs) {
      const receipt = JSON.parse((await t.dsr('receipt', r.summary.requestId, '--json')).out).receipt;
      for (const f of receipt.failedStores as { error: string }[]) errors.add(f.error);
    }
    // On AWS the refused one retries for minutes (IntervalSeconds 15, BackoffRate 1.5); the
    // local engine waits a fixed, scaled interval, so here it may run out of attempts.
    expect([...errors].filter((e) => e !== 'SubjectErasureInProgress')).toEqual([]);
    expect(runs.some((r) => r.summary.status === 'completed')).toBe(true);
    for (const r of runs.filter((x) => x.summary.status !== 'completed')) {
      expect(r.summary.status).toBe('failed');
      const resumed = await t.dsr('resume', r.summary.requestId, '--wait', '--json');
      expect({ code: resumed.code, status: lastJson(resumed.out).status }).toEqual({ code: 0, status: 'completed' });
    }
  }, 600_000);

  it('the identical dsr start, retried without --verified-at, rejoins the same execution', async () => {
    // The default verification time is the real "now": run on the real clock.
    t.setClock(undefined);
    try {
      const s = report.subjects.find((x) => eligible(x) && !taken.has(x.subjectId))!;
      taken.add(s.subjectId);
      const args = ['start', '--type', 'erasure', '--subject', s.subjectId, '--request-id', 'retry-1', ...verification, '--json'];
      const first = await t.dsr(...args);
      expect({ code: first.code, err: first.err }).toEqual({ code: 0, err: '' });
      await new Promise((r) => setTimeout(r, 1100));
      const second = await t.dsr(...args, '--wait');
      expect({ code: second.code, err: second.err }).toEqual({ code: 0, err: '' });
      expect(lastJson(second.out).execution.arn).toBe(lastJson(first.out).executionArn);
      const different = await t.dsr('start', '--type', 'erasure', '--subject', `${s.subjectId}0`, '--request-id', 'retry-1', ...verification);
      expect(different.code).toBe(2);
      expect(different.err).toMatch(/already exists with different content/);
    } finally {
      t.setClock(NOW);
    }
  }, 600_000);

  it('a hold placed on the subject or its store while its erasure holds the lease is refused; afterwards it is placed', async () => {
    const s = report.subjects.find((x) => eligible(x) && !taken.has(x.subjectId) && x.expected.contacts.owner > 0)!;
    taken.add(s.subjectId);
    const table = process.env.DSR_LEDGER_TABLE!;
    const doc = DynamoDBDocumentClient.from(env.ddb);
    const running = erase('held-during', s.subjectId);
    // Wait for the erasure to take its lease on the contacts, erased at once (held until its receipt).
    let leased = false;
    for (let i = 0; i < 2000 && !leased; i++) {
      const item = (await doc.send(new GetCommand({ TableName: table, Key: storeLockKey('contacts'), ConsistentRead: true }))).Item;
      leased = item?.erasingUntil !== undefined && item.erasingUntil > new Date().toISOString();
      if (!leased) await new Promise((r) => setTimeout(r, 10));
    }
    expect(leased).toBe(true);
    const storeHold = await t.dsr('hold', 'place', '--store', 'contacts', '--kind', 'litigation', '--reference', 'CASE-8', '--placed-by', 'legal', '--json');
    const ledger = { dynamodb: env.ddb, ledger: new Ledger(env.ddb, table) };
    const subjectHold = placeHold(ledger, { scope: 'subject', subjectId: s.subjectId, kind: 'litigation', reference: 'CASE-9', placedBy: 'legal' }, new Date(), 'hold-during-erasure');
    await expect(subjectHold).rejects.toBeInstanceOf(ErasureInProgressError);
    expect(storeHold.code).toBe(2);
    expect(storeHold.err).toMatch(/an erasure of this subject or store is in progress/);
    expect((await running).summary.status).toBe('completed');

    const later = await t.dsr('hold', 'place', '--store', 'contacts', '--kind', 'litigation', '--reference', 'CASE-8', '--placed-by', 'legal', '--json');
    expect(later.code).toBe(0);
    expect((await t.dsr('hold', 'release', JSON.parse(later.out).holdId, '--released-by', 'legal')).code).toBe(0);
  }, 600_000);
});
