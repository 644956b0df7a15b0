/**
 * Retention, holds and deferred erasure against the local engine, with the clock moved:
 * what an erasure must keep, and the sweeps that erase it once the reason has ended.
 */
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';

const NOW = '2026-11-02T12:00:00.000Z';
const MONTH = 30 * 86_400_000;
let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
let ddb: DynamoDBClient;
let s3: S3Client;

const verification = ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'TICKET-9', '--verified-at', NOW];

async function erase(requestId: string, subject: string) {
  const r = await t.dsr('start', '--type', 'erasure', '--subject', subject, '--request-id', requestId, ...verification, '--wait', '--json');
  return { ...r, summary: JSON.parse(r.out.trim().split('\n').pop() ?? '{}') };
}

async function items(table: string, keyName: string, value: string): Promise<Record<string, unknown>[]> {
  const out = await ddb.send(new QueryCommand({ TableName: table, KeyConditionExpression: '#k = :v', ExpressionAttributeNames: { '#k': keyName }, ExpressionAttributeValues: { ':v': { S: value } } }));
  return (out.Items ?? []).map((i) => unmarshall(i));
}

async function sweep(now: string) {
  const r = await t.dsr('sweep', '--now', now, '--json');
  expect(r.err).toBe('');
  return JSON.parse(r.out.trim()) as { status: string; erased: number; receipts: number; due: number; runs: number; remaining: number; sweepIds: string[] };
}

function pick(pred: (s: SubjectEntry) => boolean, taken: string[]): SubjectEntry {
  const s = report.subjects.find((x) => pred(x) && !taken.includes(x.subjectId) && !x.flags.specialCharacters);
  if (!s) throw new Error('no subject in the dataset fits');
  taken.push(s.subjectId);
  return s;
}

const taken: string[] = [];

beforeAll(async () => {
  // One due (request, store) entry per sweep run: every sweep here runs in pages, as a big one would.
  env = await startSeededEngine({ seed: 11, now: NOW, sweepMaxEntries: 1 });
  ({ t, report, ddb, s3 } = env);
}, 240_000);

afterAll(() => env?.close());

describe('retention schedule and deferred erasure', () => {
  it('erases recordings and contacts at once, keeps young CDRs and invoices, and sweeps them when due', async () => {
    const subject = pick((s) => !s.flags.fraudInvestigation && !s.flags.legalHeldMedia && s.expected.invoices.owner > 0 && s.expected['call-records'].owner > 0, taken);
    const id = subject.subjectId;
    const r = await erase('ret-erase-1', id);
    expect(r.summary.status).toBe('completed');

    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'voip-media', Prefix: `recordings/${id}/` }));
    expect(versions.Versions ?? []).toHaveLength(0);
    expect(await items('voip-contacts', 'ownerAccountId', id)).toHaveLength(0);

    const now = new Date(NOW).getTime();
    const invoices = await items('voip-billing', 'accountId', id);
    expect(invoices.length).toBeGreaterThan(0);
    for (const inv of invoices) {
      expect(new Date(String(inv.invoiceDate)).getTime()).toBeGreaterThan(now - 7 * 366 * 86_400_000);
      expect(inv['dsr:restricted']).toBeDefined();
    }
    const cdrs = await items('voip-cdrs', 'accountId', id);
    for (const cdr of cdrs) expect(new Date(String(cdr.startTime)).getTime()).toBeGreaterThan(now - 12 * MONTH - 5 * 86_400_000);
    expect(r.summary.counts.decisions.invoices['retain-until']).toBe(invoices.length);

    const afterYear = await sweep('2027-12-05T00:00:00Z');
    expect(afterYear.status).toBe('SUCCEEDED');
    expect(await items('voip-cdrs', 'accountId', id)).toHaveLength(0);
    expect((await items('voip-billing', 'accountId', id)).length).toBe(invoices.length - invoices.filter((i) => new Date(String(i.invoiceDate)).getTime() + 7 * 365.25 * 86_400_000 < Date.parse('2027-12-05')).length);
    expect(afterYear.receipts).toBeGreaterThanOrEqual(1);

    const afterSeven = await sweep('2033-12-05T00:00:00Z');
    expect(await items('voip-billing', 'accountId', id)).toHaveLength(0);
    expect(afterSeven.receipts).toBeGreaterThanOrEqual(1);

    // Nothing of the request is pending any more: the identity kept for the sweeps is gone.
    const kept = await s3.send(new ListObjectVersionsCommand({ Bucket: 'dsr-work', Prefix: 'deferred/ret-erase-1/' }));
    expect([...(kept.Versions ?? []), ...(kept.DeleteMarkers ?? [])]).toHaveLength(0);

    const again = await sweep('2033-12-05T00:00:00Z');
    expect(again).toMatchObject({ status: 'SUCCEEDED', erased: 0, receipts: 0 });
  }, 600_000);

  it('keeps the account of a subject flagged for a fraud investigation, with basis investigation', async () => {
    const subject = pick((s) => s.flags.fraudInvestigation, taken);
    const r = await erase('ret-fraud-1', subject.subjectId);
    expect(r.summary.status).toBe('completed');
    expect(r.summary.counts.decisions.accounts).toMatchObject({ refused: 1, erase: 0 });
    const account = await items('voip-accounts', 'accountId', subject.subjectId);
    expect(account).toHaveLength(1);
    expect(account[0]['dsr:restricted']).toBeDefined();
  }, 300_000);

  it('a hold placed before erasure blocks it; after release the next sweep erases', async () => {
    const subject = pick((s) => !s.flags.fraudInvestigation && !s.flags.legalHeldMedia && s.expected.contacts.owner > 0, taken);
    const placed = await t.dsr('hold', 'place', '--subject', subject.subjectId, '--kind', 'litigation', '--reference', 'CASE-77', '--placed-by', 'legal', '--json');
    expect(placed.code).toBe(0);
    const holdId = JSON.parse(placed.out).holdId as string;
    const r = await erase('ret-held-1', subject.subjectId);
    expect(r.summary.status).toBe('completed');
    expect(r.summary.counts.applied.contacts.delete ?? 0).toBe(0);
    const contacts = await items('voip-contacts', 'ownerAccountId', subject.subjectId);
    expect(contacts).toHaveLength(subject.expected.contacts.owner);
    for (const c of contacts) expect(c['dsr:restricted']).toBeDefined();

    expect((await t.dsr('hold', 'release', holdId, '--released-by', 'legal')).code).toBe(0);
    const second = await t.dsr('hold', 'release', holdId, '--released-by', 'legal');
    expect(second.code).toBe(2);
    expect(second.err).toMatch(/already released/);
    await sweep(NOW);
    expect(await items('voip-contacts', 'ownerAccountId', subject.subjectId)).toHaveLength(0);
  }, 600_000);

  it('a restriction marks everything restricted, deletes nothing, and can be lifted', async () => {
    const subject = pick((s) => !s.flags.fraudInvestigation && s.expected.invoices.owner > 0, taken);
    const r = await t.dsr('start', '--type', 'restriction', '--subject', subject.subjectId, '--request-id', 'ret-restrict-1', ...verification, '--wait', '--json');
    const summary = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(summary.status).toBe('completed');
    const applied = summary.counts.applied as Record<string, Record<string, number>>;
    expect(Object.values(applied).reduce((n, c) => n + (c.delete ?? 0), 0)).toBe(0);
    expect(applied.invoices.restrict).toBe(subject.expected.invoices.owner);
    const invoices = await items('voip-billing', 'accountId', subject.subjectId);
    expect(invoices).toHaveLength(subject.expected.invoices.owner);
    for (const inv of invoices) expect(inv['dsr:restricted']).toBeDefined();

    const lifted = await t.dsr('lift-restriction', 'ret-restrict-1', '--by', 'dpo', '--json');
    expect(lifted.code).toBe(0);
    for (const inv of await items('voip-billing', 'accountId', subject.subjectId)) expect(inv['dsr:restricted']).toBeUndefined();
    await t.dsr('start', '--type', 'access', '--subject', subject.subjectId, '--request-id', 'ret-access-1', ...verification, '--wait');
    const wrongType = await t.dsr('lift-restriction', 'ret-access-1', '--by', 'dpo');
    expect(wrongType.err).toMatch(/is an access request, not a restriction/);
  }, 300_000);

  it('a sweep with more due entries than one run runs again until each has had its turn', async () => {
    const subjects = [0, 1].map(() => pick((s) => !s.flags.fraudInvestigation && !s.flags.legalHeldMedia && s.expected['call-records'].owner > 0, taken));
    for (const [i, s] of subjects.entries()) expect((await erase(`ret-page-${i}`, s.subjectId)).summary.status).toBe('completed');
    for (const s of subjects) expect((await items('voip-cdrs', 'accountId', s.subjectId)).length).toBeGreaterThan(0);
    // At +13 months the CDRs of both requests are due, behind entries that wait on holds still
    // on (earlier tests' fraud and held subjects): one entry per run, each run after the last.
    const r = await sweep('2027-12-20T00:00:00Z');
    expect(r.status).toBe('SUCCEEDED');
    expect(r.runs).toBeGreaterThanOrEqual(2);
    // every entry due at the first run had exactly one turn: one run each
    expect(r.due).toBe(r.runs);
    // the auditor sees in the first run's history that it left entries for the next
    const first = await t.dsr('history', r.sweepIds[0]);
    expect(first.out).toMatch(/1 due \(request, store\) entries, \d+ left for the next run/);
    for (const s of subjects) expect(await items('voip-cdrs', 'accountId', s.subjectId)).toHaveLength(0);
  }, 600_000);

  it('rejects bad hold and sweep input with a clear error and no change', async () => {
    const before = (await t.dsr('hold', 'list', '--json')).out;
    expect((await t.dsr('hold', 'place', '--store', 'no-such-store', '--kind', 'litigation', '--reference', 'X', '--placed-by', 'legal')).err).toMatch(/no store "no-such-store"/);
    expect((await t.dsr('hold', 'place', '--subject', 'cust-does-not-exist', '--kind', 'litigation', '--reference', 'X', '--placed-by', 'legal')).err).toMatch(/no store knows this subject/);
    expect((await t.dsr('hold', 'place', '--store', 'invoices', '--kind', 'vacation', '--reference', 'X', '--placed-by', 'legal')).err).toMatch(/unknown kind "vacation"/);
    expect((await t.dsr('sweep', '--now', 'next tuesday')).err).toMatch(/--now: not a date/);
    expect((await t.dsr('hold', 'list', '--json')).out).toBe(before);
  });
});
