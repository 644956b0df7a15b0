/**
 * Retention enforcement on the local engine with the clock moved (`--now`, and the engine's
 * clock with it): a pending access request blocks both kinds of purge of its subject until it
 * is answered, and a fraud flag keeps the flagged owner's records from the record-level purge.
 *
 * - subject level: an account past its 2 years whose subject has an access request received
 *   and not answered is not erased (`keptPendingRequest`); once the request is answered, the
 *   next run erases it;
 * - record level: CDRs older than 12 months of a subject with a pending access request stay
 *   (basis `pending-access-request` in the run's counts and in `dsr retention report`), and go
 *   in the first run after the answer; the old CDRs of a fraud-flagged account stay with basis
 *   `investigation` in both runs.
 *
 * The access requests are recorded through the ledger (what `dsr start` does before it starts
 * an execution) and answered later with the identical `dsr start`, as pending-access.test.ts.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { Ledger } from '../../functions/core/ledger';
import { pendingAccessRequests, pendingAccessSubjects } from '../../functions/core/pending-requests';
import { createRequest } from '../../functions/core/request';
import { addDuration } from '../../functions/core/retention';
import { cutoffFor } from '../../functions/core/retention-limits';
import { lastJson, NOW, verification } from '../cli/support';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';

/** Twenty days after the dataset's date: the run's `--now` and the engine's clock. */
const LATER = new Date(Date.parse(NOW) + 20 * 86_400_000).toISOString();
const CUTOFF = cutoffFor(new Date(LATER), { months: 12 }).toISOString();

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
let ddb: DynamoDBClient;

type Cdr = Record<string, unknown> & { accountId: string; callId: string; startTime: string; callerNumber?: string; calleeNumber?: string };

async function cdrs(): Promise<Cdr[]> {
  const items: Cdr[] = [];
  let start: Record<string, never> | undefined;
  do {
    const out = await ddb.send(new ScanCommand({ TableName: 'voip-cdrs', ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []).map((i) => unmarshall(i) as Cdr));
    start = out.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return items;
}

const key = (c: Cdr) => `${c.accountId}#${c.callId}`;
const old = (list: Cdr[]) => list.filter((c) => c.startTime < CUTOFF);
const ownedBy = (list: Cdr[], s: SubjectEntry) => list.filter((c) => c.accountId === s.subjectId);
const mentioning = (list: Cdr[], s: SubjectEntry) => list.filter((c) => c.accountId !== s.subjectId && (s.identifiers.phone.includes(String(c.callerNumber)) || s.identifiers.phone.includes(String(c.calleeNumber))));
const pastTwoYears = (s: SubjectEntry) => s.flags.deactivatedAt !== null && addDuration(new Date(s.flags.deactivatedAt), { years: 2 }).getTime() < Date.parse(LATER);

interface Purge {
  store: string;
  status: string;
  counts: { pastLimit: number; purged: number; kept: Record<string, number> };
}
interface Enforced {
  status: string;
  subjectLimits: Record<string, { pastLimit: number; started: number; alreadyStarted: number; keptPendingRequest: number }>;
  purges: Purge[];
  erasures: Record<string, string>;
}

async function enforce(): Promise<Enforced> {
  const r = await t.dsr('retention', 'enforce', '--now', LATER, '--wait', '--json');
  expect(r.err).toBe('');
  const result = lastJson<Enforced>(r.out);
  expect(result.status).toBe('SUCCEEDED');
  return result;
}

const cdrPurge = (e: Enforced) => {
  const p = e.purges.filter((x) => x.store === 'call-records');
  expect(p.map((x) => x.status)).toEqual(['done']);
  return p[0].counts;
};

async function reportedKept(): Promise<Record<string, number>> {
  const r = await t.dsr('retention', 'report', '--json');
  expect(r.code).toBe(0);
  return (JSON.parse(r.out.trim()) as { stores: Record<string, { kept: Record<string, number> }> }).stores['call-records'].kept;
}

let before: Cdr[];
let dueAccount: SubjectEntry;
let active: SubjectEntry;
let flagged: SubjectEntry;

beforeAll(async () => {
  env = await startSeededEngine({ seed: 29, now: NOW });
  ({ t, report, ddb } = env);
  t.setClock(LATER);
  before = await cdrs();
  const plain = (s: SubjectEntry) => !s.flags.fraudInvestigation && !s.flags.legalHeldMedia && !s.flags.specialCharacters;
  // An account past its 2 years (the dataset's calls are of the last 2 years: it has none of its own).
  dueAccount = report.subjects.find((s) => plain(s) && pastTwoYears(s))!;
  // An active customer with CDRs on both sides of 12 months.
  active = report.subjects.find((s) => plain(s) && !s.flags.deactivated && old(ownedBy(before, s)).length > 0 && ownedBy(before, s).some((c) => c.startTime >= CUTOFF))!;
  // A fraud-flagged account not past its 2 years (no subject-level erasure), with old CDRs.
  flagged = report.subjects.find((s) => s.flags.fraudInvestigation && !pastTwoYears(s) && !s.flags.specialCharacters && old(ownedBy(before, s)).length > 0)!;
  expect([dueAccount, active, flagged].every(Boolean)).toBe(true);

  const rt = { dynamodb: ddb, ledger: new Ledger(ddb, 'dsr-ledger') };
  for (const [requestId, subject] of [['ep-access-due', dueAccount], ['ep-access-active', active]] as const) {
    const access = createRequest({ requestId, subjectId: subject.subjectId, type: 'access', verification: { method: 'id-document', verifiedBy: 'agent-7', reference: 'TICKET-5', verifiedAt: NOW } }, new Date(NOW));
    await rt.ledger.putRequest(access, new Date(NOW), () => false);
  }
  expect([...(await pendingAccessSubjects(rt))].sort()).toEqual([dueAccount.subjectId, active.subjectId].sort());
}, 300_000);

afterAll(() => env?.close());

describe('retention enforcement and what it must keep', () => {
  let first: Enforced;

  it('a pending access request blocks the erasure of its subject past a limit and the purge of its old CDRs; a fraud flag keeps the flagged owner\'s', async () => {
    first = await enforce();
    // Subject level: the account past its limit with a pending access request is the one kept back.
    expect(first.subjectLimits.account.keptPendingRequest).toBe(1);
    expect(first.subjectLimits.account.pastLimit).toBe(report.subjects.filter(pastTwoYears).length);
    expect(first.subjectLimits.account.started).toBe(first.subjectLimits.account.pastLimit - 1);
    const accounts = (await ddb.send(new ScanCommand({ TableName: 'voip-accounts' }))).Items!.map((i) => unmarshall(i).accountId as string);
    expect(accounts).toContain(dueAccount.subjectId);

    // Record level: every old CDR of the two pending subjects and of the flagged account is left.
    const after = await cdrs();
    const left = new Set(after.map(key));
    const pendingOwned = [...old(ownedBy(before, dueAccount)), ...old(ownedBy(before, active))];
    const flaggedOwned = old(ownedBy(before, flagged));
    expect(pendingOwned.filter((c) => !left.has(key(c)))).toEqual([]);
    expect(flaggedOwned.filter((c) => !left.has(key(c)))).toEqual([]);
    // So is an old CDR mentioning a pending subject, unless its own owner's erasure (started by this run) took it.
    const erasedOwners = new Set(report.subjects.filter((s) => pastTwoYears(s) && s !== dueAccount).map((s) => s.subjectId));
    const pendingMentions = [...old(mentioning(before, dueAccount)), ...old(mentioning(before, active))];
    expect(pendingMentions.filter((c) => !erasedOwners.has(c.accountId) && !left.has(key(c)))).toEqual([]);
    // Nothing else older than 12 months is left, except what other flagged owners hold.
    const flaggedOwners = new Set(report.subjects.filter((s) => s.flags.fraudInvestigation).map((s) => s.subjectId));
    const keptKeys = new Set([...pendingOwned, ...pendingMentions].map(key));
    expect(old(after).filter((c) => !keptKeys.has(key(c)) && !flaggedOwners.has(c.accountId))).toEqual([]);
    // Younger ones are untouched by the purge (erasures took only their own subjects').
    expect(after.filter((c) => c.startTime >= CUTOFF && !erasedOwners.has(c.accountId)).length).toBe(before.filter((c) => c.startTime >= CUTOFF && !erasedOwners.has(c.accountId)).length);

    const counts = cdrPurge(first);
    expect(counts.kept['pending-access-request']).toBeGreaterThanOrEqual(pendingOwned.length);
    expect(counts.kept['pending-access-request']).toBeLessThanOrEqual(pendingOwned.length + pendingMentions.length);
    expect(counts.kept.investigation).toBeGreaterThanOrEqual(flaggedOwned.length);
    expect(counts.kept.investigation).toBeLessThanOrEqual(old(before).filter((c) => flaggedOwners.has(c.accountId)).length);
    expect(counts.purged + Object.values(counts.kept).reduce((a, b) => a + b, 0)).toBe(counts.pastLimit);
    const reported = await reportedKept();
    expect(reported['pending-access-request']).toBe(counts.kept['pending-access-request']);
    expect(reported.investigation).toBe(counts.kept.investigation);
    console.log(`run 1: ${counts.pastLimit} CDRs past 12 months, ${counts.purged} purged, kept ${JSON.stringify(counts.kept)}; pending subjects own ${pendingOwned.length} old CDRs and are mentioned in ${pendingMentions.length}; the flagged account owns ${flaggedOwned.length}`);
  }, 600_000);

  it('once the access requests are answered, the next run erases the account and purges their old CDRs; the flagged account keeps its own', async () => {
    for (const [requestId, subject] of [['ep-access-due', dueAccount], ['ep-access-active', active]] as const) {
      const answered = await t.dsr('start', '--type', 'access', '--subject', subject.subjectId, '--request-id', requestId, ...verification, '--wait', '--json');
      expect(answered.code).toBe(0);
      expect(lastJson<{ status: string }>(answered.out).status).toBe('completed');
    }
    const rt = { dynamodb: ddb, ledger: new Ledger(ddb, 'dsr-ledger') };
    expect(await pendingAccessRequests(rt, active.subjectId)).toEqual([]);
    expect(await pendingAccessSubjects(rt)).toEqual(new Set());

    const second = await enforce();
    expect(second.subjectLimits.account.keptPendingRequest).toBe(0);
    expect(second.subjectLimits.account.started).toBe(1);
    // Every limit's subject kept back by the first run (the account, and its recordings' limit too if it had any) starts now, and only those.
    const keptBack = Object.values(first.subjectLimits).reduce((n, l) => n + l.keptPendingRequest, 0);
    expect(Object.values(second.subjectLimits).reduce((n, l) => n + l.started, 0)).toBe(keptBack);
    expect(Object.values(second.erasures)).toEqual(Array(keptBack).fill('SUCCEEDED'));
    const accounts = (await ddb.send(new ScanCommand({ TableName: 'voip-accounts' }))).Items!.map((i) => unmarshall(i).accountId as string);
    expect(accounts).not.toContain(dueAccount.subjectId);

    const after = await cdrs();
    expect(old(ownedBy(after, active))).toEqual([]);
    expect(old(ownedBy(after, dueAccount))).toEqual([]);
    expect(ownedBy(after, active).length).toBe(ownedBy(before, active).filter((c) => c.startTime >= CUTOFF).length);
    expect(old(ownedBy(after, flagged)).length).toBe(old(ownedBy(before, flagged)).length);

    const counts = cdrPurge(second);
    expect(counts.kept['pending-access-request'] ?? 0).toBe(0);
    expect(counts.kept.investigation).toBeGreaterThanOrEqual(old(ownedBy(before, flagged)).length);
    // What the first run kept for the pending requests is what this one purges (the erasure of the account may take its own first).
    expect(counts.purged).toBeLessThanOrEqual(cdrPurge(first).kept['pending-access-request']);
    expect(counts.purged).toBeGreaterThanOrEqual(old(ownedBy(before, active)).length);
    expect((await reportedKept())['pending-access-request'] ?? 0).toBe(0);
    console.log(`run 2: ${counts.pastLimit} CDRs past 12 months, ${counts.purged} purged, kept ${JSON.stringify(counts.kept)}`);
  }, 600_000);
});
