/**
 * Retention enforcement on the local engine, with the clock moved: subjects past a
 * subject-level limit get a system-originated erasure through the normal pipeline, records
 * past a record-level limit are purged through the date index or the segmented Scan, holds
 * and fraud flags keep what they cover (a flagged owner's old CDRs too, basis investigation), a run is idempotent, and nothing personal reaches the
 * execution history or the report.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { addDuration } from '../../functions/core/retention';
import { cutoffFor } from '../../functions/core/retention-limits';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';

const NOW = '2026-11-02T12:00:00.000Z';
let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
let ddb: DynamoDBClient;

async function scanAll(table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const out = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []).map((i) => unmarshall(i)));
    start = out.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return items;
}

interface EnforceResult {
  status: string;
  runId: string;
  subjectLimits: Record<string, { pastLimit: number; started: number; alreadyStarted: number }>;
  purges: Array<{ store: string; status: string; counts: { pastLimit: number; purged: number; kept: Record<string, number> } }>;
  erasures: Record<string, string>;
  summary: { started: number; purged: number };
}

async function enforce(...extra: string[]): Promise<EnforceResult> {
  const r = await t.dsr('retention', 'enforce', '--json', ...extra);
  expect(r.err).toBe('');
  return JSON.parse(r.out.trim().split('\n').pop()!) as EnforceResult;
}

interface ReportJson {
  stores: Record<string, { basis: string; purged: number; kept: Record<string, number> }>;
  subjectErasures: Record<string, { requests: number; outcomes: Record<string, number>; kept: Record<string, Record<string, number>> }>;
}

async function retentionReport(): Promise<{ text: string; json: ReportJson }> {
  const r = await t.dsr('retention', 'report', '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return { text: r.out, json: JSON.parse(r.out.trim()) };
}

const account = async (id: string) => (await scanAll('voip-accounts')).find((a) => a.accountId === id);
const bySubject = (id: string) => report.subjects.find((s) => s.subjectId === id)!;

let held: SubjectEntry;
let accountsBefore: Record<string, unknown>[];
let cdrsBefore: Record<string, unknown>[];
const runIds: string[] = [];
const erasureIds: string[] = [];

beforeAll(async () => {
  env = await startSeededEngine({ seed: 11, now: NOW });
  ({ t, report, ddb } = env);
  accountsBefore = await scanAll('voip-accounts');
  cdrsBefore = await scanAll('voip-cdrs');
  const cutoff = cutoffFor(new Date(NOW), { months: 12 }).toISOString();
  // An active customer with CDRs on both sides of 12 months, put under a litigation hold.
  held = report.subjects.find((s) => !s.flags.deactivated && !s.flags.specialCharacters && cdrsBefore.some((c) => c.accountId === s.subjectId && String(c.startTime) < cutoff) && cdrsBefore.some((c) => c.accountId === s.subjectId && String(c.startTime) >= cutoff))!;
  const placed = await t.dsr('hold', 'place', '--subject', held.subjectId, '--kind', 'litigation', '--reference', 'CASE-9', '--placed-by', 'legal');
  expect(placed.code).toBe(0);
}, 300_000);

afterAll(() => env?.close());

describe('retention enforcement', () => {
  it('two runs side by side start each erasure once, purge old CDRs and invoices, and keep what a hold covers', async () => {
    const [a, b] = await Promise.all([enforce('--wait'), enforce('--wait')]);
    runIds.push(a.runId, b.runId);
    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const startedA = Object.values(a.subjectLimits).reduce((n, l) => n + l.started, 0);
    const startedB = Object.values(b.subjectLimits).reduce((n, l) => n + l.started, 0);
    // The account past 2 years (pin: deactivated 2 years and 150 days ago) and the fraud-flagged one at least.
    expect(startedA + startedB).toBeGreaterThanOrEqual(2);
    expect(a.subjectLimits.account.pastLimit).toBe(b.subjectLimits.account.pastLimit);
    expect(startedA + startedB).toBe(a.subjectLimits.account.pastLimit + a.subjectLimits['call-recording'].pastLimit);

    // One execution per started request, whichever run started it.
    const sfn = new SFNClient({});
    const executions = await sfn.send(new ListExecutionsCommand({ stateMachineArn: process.env.DSR_STATE_MACHINE_ARN, maxResults: 1000 }));
    const names = (executions.executions ?? []).map((e) => e.name!).filter((n) => n.startsWith('ret-'));
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(startedA + startedB);
    sfn.destroy();

    const cutoff = cutoffFor(new Date(NOW), { months: 12 }).toISOString();
    const cdrs = await scanAll('voip-cdrs');
    const phones = new Set(held.identifiers.phone);
    const heldOld = cdrsBefore.filter((c) => String(c.startTime) < cutoff && (c.accountId === held.subjectId || phones.has(String(c.calleeNumber)) || phones.has(String(c.callerNumber))));
    expect(heldOld.length).toBeGreaterThan(0);
    // Older than 12 months: only what the hold covers and what fraud-flagged accounts own (basis investigation) is left, all of it.
    const flaggedOwners = new Set(accountsBefore.filter((a) => a.fraudInvestigation === true).map((a) => a.accountId));
    const heldKeys = new Set(heldOld.map((c) => `${c.accountId}#${c.callId}`));
    const flaggedOld = cdrsBefore.filter((c) => String(c.startTime) < cutoff && flaggedOwners.has(c.accountId) && !heldKeys.has(`${c.accountId}#${c.callId}`));
    expect(flaggedOld.length).toBeGreaterThan(0);
    const old = cdrs.filter((c) => String(c.startTime) < cutoff);
    expect(old.map((c) => `${c.accountId}#${c.callId}`).sort()).toEqual([...heldOld, ...flaggedOld].map((c) => `${c.accountId}#${c.callId}`).sort());
    // Younger ones all stay (erasures of subjects deactivated years ago had none).
    expect(cdrs.filter((c) => String(c.startTime) >= cutoff).length).toBe(cdrsBefore.filter((c) => String(c.startTime) >= cutoff).length);

    const invoiceCutoff = cutoffFor(new Date(NOW), { years: 7 }).toISOString();
    expect((await scanAll('voip-billing')).filter((i) => String(i.invoiceDate) < invoiceCutoff && i.accountId !== held.subjectId && !flaggedOwners.has(i.accountId))).toHaveLength(0);

    const purges = [...a.purges, ...b.purges].filter((p) => p.store === 'call-records');
    expect(purges.reduce((n, p) => n + p.counts.purged, 0)).toBe(cdrsBefore.filter((c) => String(c.startTime) < cutoff).length - heldOld.length - flaggedOld.length);
    expect(purges.reduce((n, p) => n + (p.counts.kept.litigation ?? 0), 0)).toBeGreaterThanOrEqual(heldOld.length);
    expect(purges.reduce((n, p) => n + (p.counts.kept.investigation ?? 0), 0)).toBeGreaterThanOrEqual(flaggedOld.length);
  }, 600_000);

  it('erases an account past 2 years after deactivation and keeps a fraud-flagged one with basis investigation', async () => {
    const due = report.subjects.filter((s) => s.flags.deactivatedOverTwoYearsAgo && !s.flags.specialCharacters);
    const erased = due.find((s) => !s.flags.fraudInvestigation)!;
    const flagged = due.find((s) => s.flags.fraudInvestigation)!;
    expect(erased && flagged).toBeTruthy();
    expect(await account(erased.subjectId)).toBeUndefined();
    expect(await account(flagged.subjectId)).toBeDefined();
    const { json } = await retentionReport();
    expect(json.subjectErasures.account.kept.accounts.investigation).toBeGreaterThanOrEqual(1);
    expect(json.stores['call-records'].kept.litigation).toBeGreaterThan(0);
    expect(json.stores['call-records'].basis).toBe('telecom-regulator');
    expect(json.stores.invoices.basis).toBe('tax');
  }, 120_000);

  it('erases the recordings of a contract terminated over 6 months ago, only those, keeping what a legal hold covers', async () => {
    // Deactivated (and terminated) 240 days before the dataset's date, recordings under an S3 legal hold: a pinned customer.
    const subject = report.subjects.find((s) => s.flags.deactivated && !s.flags.deactivatedOverTwoYearsAgo && s.flags.legalHeldMedia && s.expected['call-recordings'].objects > 0)!;
    expect(subject).toBeDefined();
    expect(await account(subject.subjectId)).toBeDefined();
    const { json } = await retentionReport();
    const recordings = json.subjectErasures['call-recording'];
    expect(recordings.requests).toBeGreaterThanOrEqual(1);
    expect(recordings.outcomes.completed).toBe(recordings.requests);
    // The legal hold's versions stay, reported by their reason; no other store was touched.
    expect(Object.keys(recordings.kept['call-recordings'] ?? {})).not.toHaveLength(0);
    expect(Object.keys(recordings.kept).filter((store) => store !== 'call-recordings')).toEqual([]);
  }, 120_000);

  it('erases an account deactivated 2 years and a day ago, not one deactivated 2 years less a day ago, and never twice', async () => {
    // Deactivated 90 days before the dataset's date (a pinned customer); not yet due at NOW.
    const subject = report.subjects.find((s) => s.flags.deactivated && !s.flags.deactivatedOverTwoYearsAgo && !s.flags.fraudInvestigation && !s.flags.specialCharacters && Date.parse(NOW) - Date.parse(s.flags.deactivatedAt!) < 100 * 86_400_000)!;
    const twoYears = addDuration(new Date(subject.flags.deactivatedAt!), { years: 2 }).getTime();
    const lessADay = new Date(twoYears - 86_400_000).toISOString();
    t.setClock(lessADay);
    const before = await enforce('--wait');
    expect(before.status).toBe('SUCCEEDED');
    expect(await account(subject.subjectId)).toBeDefined();

    const andADay = new Date(twoYears + 86_400_000).toISOString();
    t.setClock(andADay);
    const after = await enforce('--wait');
    expect(after.status).toBe('SUCCEEDED');
    expect(after.subjectLimits.account.started).toBeGreaterThanOrEqual(1);
    expect(Object.values(after.erasures).every((s) => s === 'SUCCEEDED')).toBe(true);
    expect(await account(subject.subjectId)).toBeUndefined();
    // Its audit trail says why it ran where a person's verification would be.
    const history = await t.dsr('history', Object.keys(after.erasures)[0]);
    expect(history.out).toMatch(/no verification: started by the retention schedule \(limit (account|call-recording), at most /);
    erasureIds.push(...Object.keys(after.erasures));

    // Same day again: everything past the limit was started before.
    const again = await enforce();
    expect(again.subjectLimits.account.started).toBe(0);
    expect(again.subjectLimits.account.alreadyStarted).toBe(again.subjectLimits.account.pastLimit);
    runIds.push(before.runId, after.runId, again.runId);
  }, 600_000);

  it('puts no personal value in the enforcement history or the report', async () => {
    const values = new Set<string>();
    for (const s of report.subjects) for (const v of Object.values(s.identifiers).flat()) values.add(v);
    for (const a of accountsBefore) for (const k of ['firstName', 'lastName', 'fullName', 'email']) if (typeof a[k] === 'string') values.add(a[k] as string);
    const sfn = new SFNClient({});
    const texts: string[] = [(await retentionReport()).text, (await t.dsr('retention', 'report')).out];
    for (const runId of runIds) {
      const arn = `${process.env.DSR_ENFORCEMENT_STATE_MACHINE_ARN!.replace(':stateMachine:', ':execution:')}:${runId}`;
      const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000 }));
      texts.push(JSON.stringify(history.events));
    }
    // And the system-originated erasures' own histories, as `dsr history` prints them.
    for (const id of erasureIds) texts.push((await t.dsr('history', id)).out);
    sfn.destroy();
    const all = texts.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    // Whole tokens: `cust-1` must not be found inside `cust-10`, nor a store name inside a value.
    const leaks = [...values].filter((v) => v.length >= 4 && new RegExp(`(^|[^A-Za-z0-9._+-])${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_-])`).test(all));
    expect(leaks).toEqual([]);
    expect(bySubject(held.subjectId)).toBeDefined();
  }, 120_000);
});
