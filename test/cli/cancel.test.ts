/**
 * `dsr cancel`: a request awaiting approval ends cancelled at once (an approval after it is
 * refused); a running erasure stops between stores — every store either finished or untouched,
 * which a new request's plan shows store by store — with a chained `cancelled` receipt, while
 * another subject's erasure beside it completes; the new request then finishes the job.
 * Cancelled while it rewrites log objects, every S3 object is either its original version or
 * a complete rewrite (the original's lines less the subject's, nothing staged left behind),
 * the receipt counts what the finished stores really did, and the identity the request kept
 * goes once a new request can find the subject again, stays for `dsr resume` otherwise.
 */
import { gunzipSync } from 'node:zlib';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { lastJson, NOW, plainSubject, verification } from './support';

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
let sfn: SFNClient;
const taken: string[] = [];

beforeAll(async () => {
  env = await startSeededEngine({ seed: 79, now: NOW, approvalRequired: true });
  ({ t, report } = env);
  sfn = new SFNClient({});
}, 300_000);

afterAll(async () => {
  sfn?.destroy();
  await env?.close();
});

type PlanJson = { plan: { planHash: string; stores: Array<{ store: string; counts: Record<string, number> }> } };
const plan = async (id: string) => lastJson<PlanJson>((await t.dsr('plan', id, '--json')).out).plan;
const erasing = (counts: Record<string, number>) => (counts.erase ?? 0) + (counts.anonymize ?? 0);

async function awaitingErasure(id: string, subjectId: string) {
  const r = await t.dsr('start', '--type', 'erasure', '--subject', subjectId, '--request-id', id, ...verification, '--wait', '--json');
  expect(lastJson<{ status: string }>(r.out).status).toBe('awaiting-approval');
}

/** Polls the execution's history until an EraseStore task has started (of `store` if given: the erasure is under way there). */
async function untilErasureStarted(executionArn: string, store?: string): Promise<void> {
  for (let i = 0; i < 4000; i++) {
    const out = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    const entered = (out.events ?? []).filter((e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'EraseStore');
    if (entered.some((e) => store === undefined || JSON.parse(e.stateEnteredEventDetails?.input ?? '{}').store === store)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`EraseStore${store ? ` of ${store}` : ''} never started`);
}

const ownedItems = async (table: string, keyName: string, subjectId: string) =>
  ((await env.ddb.send(new QueryCommand({ TableName: table, KeyConditionExpression: '#k = :v', ExpressionAttributeNames: { '#k': keyName }, ExpressionAttributeValues: { ':v': { S: subjectId } } }))).Items ?? []).map((i) => unmarshall(i));

interface ObjectState {
  readonly versionId: string;
  readonly lines?: string[];
}

/** Every key of a bucket with its latest version (and, for log objects, its lines), plus whether anything is staged under `.dsr-rewrite/`. */
async function bucketState(bucket: string, readLines: boolean): Promise<Map<string, ObjectState>> {
  const state = new Map<string, ObjectState>();
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await env.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
    for (const v of page.Versions ?? []) {
      if (!v.IsLatest) continue;
      let lines: string[] | undefined;
      if (readLines) {
        const body = Buffer.from(await (await env.s3.send(new GetObjectCommand({ Bucket: bucket, Key: v.Key!, VersionId: v.VersionId }))).Body!.transformToByteArray());
        lines = (body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body).toString('utf8').split('\n').filter((l) => l !== '');
      }
      state.set(v.Key!, { versionId: v.VersionId!, lines });
    }
    for (const m of page.DeleteMarkers ?? []) if (m.IsLatest) state.delete(m.Key!);
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
  } while (keyMarker);
  return state;
}

/**
 * The identity a cancelled erasure kept for a resume: every version gone when the account record
 * (what identity resolution reads) is still there, so a new request finds the subject; kept
 * when it was erased. The `cancelled` receipt says which; returns it.
 */
async function keptIdentitySettled(requestId: string, account: { state: string; delete?: number }): Promise<string> {
  const receipts = JSON.parse((await t.dsr('receipt', requestId, '--json')).out) as { changes: Array<{ receipt: { change: string; keptIdentity?: string } }> };
  const said = receipts.changes.find((c) => c.receipt.change === 'cancelled')!.receipt.keptIdentity;
  const kept = await env.s3.send(new ListObjectVersionsCommand({ Bucket: 'dsr-work', Prefix: `deferred/${requestId}/` }));
  const versions = (kept.Versions ?? []).length + (kept.DeleteMarkers ?? []).length;
  if (account.state === 'done' && (account.delete ?? 0) > 0) expect([said, versions > 0]).toEqual(['kept-for-resume', true]);
  else expect([said, versions]).toEqual(['deleted', 0]);
  return said!;
}

/** Whether `line` names one of the subject's identifiers as a whole token (in any letter case: an email matches so). */
function namesSubject(line: string, s: SubjectEntry): boolean {
  return Object.values(s.identifiers)
    .flat()
    .filter((v) => v.length >= 4)
    .some((v) => new RegExp(`(^|[^0-9A-Za-z])${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^0-9A-Za-z])`, 'i').test(line));
}

/** `after` is `before` with some lines taken out, in order. */
function isSubsequence(after: readonly string[], before: readonly string[]): boolean {
  let i = 0;
  for (const line of before) if (i < after.length && after[i] === line) i++;
  return i === after.length;
}

describe('dsr cancel', () => {
  it('awaiting approval: ends cancelled, with a receipt; an approval after it is refused; listed as cancelled', async () => {
    const subject = plainSubject(report, taken);
    await awaitingErasure('cx-wait', subject.subjectId);
    const cancelled = await t.dsr('cancel', 'cx-wait', '--reason', `the subject ${subject.subjectId} withdrew the request`, '--json');
    expect(cancelled.err).toBe('');
    expect(cancelled.code).toBe(0);
    expect(lastJson(cancelled.out)).toMatchObject({ requestId: 'cx-wait', status: 'cancelled' });
    expect(cancelled.out).not.toContain(subject.subjectId);
    const approve = await t.dsr('approve', 'cx-wait', '--approved-by', 'agent-2');
    expect(approve.code).toBe(2);
    expect(approve.err).toMatch(/is cancelled, with no plan awaiting approval/);
    expect((await t.dsr('status', 'cx-wait')).out).toMatch(/^request cx-wait \(erasure\): cancelled — cancelled\n/);
    expect(lastJson<{ requests: Array<{ requestId: string }> }>((await t.dsr('requests', '--status', 'cancelled', '--json')).out).requests.map((r) => r.requestId)).toEqual(['cx-wait']);
    const history = await t.dsr('history', 'cx-wait');
    expect(history.out).toMatch(/receipt #\d+ sha256 [0-9a-f]{12}…\s+cancelled \(was awaiting-approval\), plan [0-9a-f]{12}…, reason sha256 [0-9a-f]{12}…\n\s+nothing applied/);
    expect(history.out).not.toContain('withdrew');
    const again = await t.dsr('cancel', 'cx-wait', '--reason', 'again');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/already cancelled/);
    const extend = await t.dsr('extend', 'cx-wait', '--days', '5', '--reason', 'x');
    expect(extend.code).toBe(4);
    expect(extend.err).toMatch(/\(answered\)/);

    // Nothing was touched, and a new request of the subject finishes the job.
    expect(await ownedItems('voip-contacts', 'ownerAccountId', subject.subjectId)).toHaveLength(subject.expected.contacts.owner);
    await awaitingErasure('cx-wait-new', subject.subjectId);
    const finished = lastJson<{ status: string; counts: { verification: { unexpected: number } } }>((await t.dsr('approve', 'cx-wait-new', '--approved-by', 'agent-2', '--wait', '--json')).out);
    expect(finished).toMatchObject({ status: 'completed', counts: { verification: { unexpected: 0 } } });
    expect(await ownedItems('voip-contacts', 'ownerAccountId', subject.subjectId)).toHaveLength(0);
    expect(await ownedItems('voip-accounts', 'accountId', subject.subjectId)).toHaveLength(0);
  }, 300_000);

  it('running: stops between stores, leaves each store finished or untouched, records it; beside it another erasure completes; its resume finishes', async () => {
    const subject = plainSubject(report, taken, (s) => s.expected.contacts.owner > 0 && s.expected['call-records'].owner > 0);
    const other = plainSubject(report, taken, (s) => s.expected.contacts.owner > 0);
    await awaitingErasure('cx-run', subject.subjectId);
    await awaitingErasure('cx-beside', other.subjectId);
    const before = await plan('cx-run');
    const approved = lastJson<{ executionArn: string }>((await t.dsr('approve', 'cx-run', '--approved-by', 'agent-2', '--json')).out);
    const besideRun = t.dsr('approve', 'cx-beside', '--approved-by', 'agent-2', '--wait', '--json');
    await untilErasureStarted(approved.executionArn);
    const cancelled = await t.dsr('cancel', 'cx-run', '--reason', 'opened in error', '--wait', '--json');
    expect(cancelled.err).toBe('');
    expect(cancelled.code).toBe(0);
    const result = lastJson<{ status: string; receipt: { sequence: number }; stores: Record<string, { state: string } & Record<string, number>> }>(cancelled.out);
    expect(result.status).toBe('cancelled');
    const states = Object.values(result.stores).map((s) => s.state);
    expect(states).toContain('done');
    expect(states).toContain('untouched');

    const beside = lastJson<{ status: string }>((await besideRun).out);
    expect(beside.status).toBe('completed');
    const status = await t.dsr('status', 'cx-run', '--json');
    expect(lastJson<{ status: string; execution: { error: string } }>(status.out)).toMatchObject({ status: 'cancelled', execution: { error: 'RequestCancelled' } });
    expect((await t.dsr('receipt', 'verify')).code).toBe(0);
    await keptIdentitySettled('cx-run', result.stores.accounts);

    // A new request of the subject would not find it once the account store was finished (nothing
    // left to find the subject by); the request's resume finishes with the identity it kept:
    // a finished store has nothing left to erase, an untouched one all of it.
    const resumed = await t.dsr('resume', 'cx-run', '--wait', '--json');
    expect(resumed.err).toBe('');
    expect(resumed.code).toBe(0);
    const finished = lastJson<{ status: string; counts: { decisions: Record<string, Record<string, number>>; verification: { unexpected: number } } }>(resumed.out);
    expect(finished).toMatchObject({ status: 'completed', counts: { verification: { unexpected: 0 } } });
    for (const s of before.stores) {
      const left = erasing(finished.counts.decisions[s.store] ?? {});
      const state = result.stores[s.store].state;
      // Untouched: all still there (less a mention the erasure beside it may have removed with its own list).
      if (state === 'untouched' && erasing(s.counts) > 0) expect([s.store, left > 0 && left <= erasing(s.counts)]).toEqual([s.store, true]);
      if (state === 'done') expect([s.store, left]).toEqual([s.store, 0]);
    }
    const history = await t.dsr('history', 'cx-run');
    expect(history.out).toMatch(/RequestCancelled/);
    expect(history.out).toMatch(/cancelled \(was running\)/);
  }, 600_000);

  it('running while it rewrites log objects: each object the original or a complete rewrite, the receipt counting what was done, the kept identity settled', async () => {
    const subject = plainSubject(report, taken, (s) => s.expected['sip-logs'].records > 0 && s.expected['app-logs'].records > 0 && s.expected['call-recordings'].objects + s.expected.voicemail.objects > 0);
    await awaitingErasure('cx-logs', subject.subjectId);
    const logsBefore = await bucketState('voip-logs', true);
    const mediaBefore = await bucketState('voip-media', false);
    const approved = lastJson<{ executionArn: string }>((await t.dsr('approve', 'cx-logs', '--approved-by', 'agent-2', '--json')).out);
    await untilErasureStarted(approved.executionArn, 'sip-logs');
    const cancelled = lastJson<{ status: string; stores: Record<string, { state: string } & Record<string, number>> }>((await t.dsr('cancel', 'cx-logs', '--reason', 'asked twice', '--wait', '--json')).out);
    expect(cancelled.status).toBe('cancelled');
    const stateOf = (store: string) => cancelled.stores[store].state;
    // Begun before the cancel was seen: finished.
    expect(stateOf('sip-logs')).toBe('done');

    // Log objects: untouched, or the original's lines less lines that name the subject; nothing left staged.
    const logsAfter = await bucketState('voip-logs', true);
    expect([...logsAfter.keys()].filter((k) => k.startsWith('.dsr-rewrite/'))).toEqual([]);
    const removed: Record<string, number> = { 'sip-logs': 0, 'app-logs': 0 };
    let rewritten = 0;
    for (const [key, was] of logsBefore) {
      const now = logsAfter.get(key);
      const store = key.startsWith('sip/') ? 'sip-logs' : 'app-logs';
      expect([key, now !== undefined]).toEqual([key, true]);
      if (now!.versionId === was.versionId) continue;
      rewritten++;
      expect([key, stateOf(store)]).toEqual([key, 'done']);
      expect([key, isSubsequence(now!.lines!, was.lines!)]).toEqual([key, true]);
      const gone = was.lines!.filter((l) => !now!.lines!.includes(l));
      expect([key, gone.length]).not.toEqual([key, 0]);
      expect([key, gone.filter((l) => !namesSubject(l, subject))]).toEqual([key, []]);
      removed[store] += was.lines!.length - now!.lines!.length;
    }
    expect(rewritten).toBeGreaterThan(0);
    // What the receipt says a finished log store erased is what left its objects.
    for (const store of ['sip-logs', 'app-logs']) if (stateOf(store) === 'done') expect([store, cancelled.stores[store].delete]).toEqual([store, removed[store]]);
    expect(removed['sip-logs']).toBe(subject.expected['sip-logs'].records);

    // Media objects: a finished store took all of the subject's, an untouched one none; no other key changed.
    const mediaAfter = await bucketState('voip-media', false);
    for (const [key, was] of mediaBefore) {
      const store = ['call-recordings', 'voicemail', 'fax'].find((m) => key.startsWith(`${m === 'call-recordings' ? 'recordings' : m}/${subject.subjectId}/`));
      const now = mediaAfter.get(key);
      if (store && stateOf(store) === 'done') expect([key, now]).toEqual([key, undefined]);
      else expect([key, now?.versionId]).toEqual([key, was.versionId]);
    }
    // DynamoDB: what a finished store's receipt counts is gone, an untouched one is whole.
    const contacts = await ownedItems('voip-contacts', 'ownerAccountId', subject.subjectId);
    expect(contacts).toHaveLength(stateOf('contacts') === 'done' ? 0 : subject.expected.contacts.owner);
    if (stateOf('contacts') === 'done') expect(cancelled.stores.contacts.delete).toBe(subject.expected.contacts.owner);

    const identity = await keptIdentitySettled('cx-logs', cancelled.stores.accounts);
    console.log(`cancelled: ${JSON.stringify(Object.fromEntries(Object.entries(cancelled.stores).map(([k, v]) => [k, v.state])))}; ${rewritten} log objects rewritten, ${removed['sip-logs']} sip and ${removed['app-logs']} app lines removed; identity ${identity}`);

    // Finished later: the resume erases what is left; the kept identity stays only while the sweep has entries to erase with it.
    const resumed = lastJson<{ status: string; counts: { totals: Record<string, number>; verification: { unexpected: number } } }>((await t.dsr('resume', 'cx-logs', '--wait', '--json')).out);
    expect(resumed).toMatchObject({ status: 'completed', counts: { verification: { unexpected: 0 } } });
    const left = await env.s3.send(new ListObjectVersionsCommand({ Bucket: 'dsr-work', Prefix: 'deferred/cx-logs/' }));
    expect((left.Versions ?? []).length > 0).toBe((resumed.counts.totals['retain-until'] ?? 0) > 0);
  }, 600_000);

  it('running, the account kept by its fraud flag: the kept identity goes, and a new request finds the subject and finishes the job', async () => {
    const subject = report.subjects.find((s) => s.flags.fraudInvestigation && !s.flags.specialCharacters && !taken.includes(s.subjectId) && s.expected.contacts.owner > 0 && s.expected.devices.owner > 0)!;
    expect(subject).toBeDefined();
    taken.push(subject.subjectId);
    await awaitingErasure('cx-flag', subject.subjectId);
    const approved = lastJson<{ executionArn: string }>((await t.dsr('approve', 'cx-flag', '--approved-by', 'agent-2', '--json')).out);
    await untilErasureStarted(approved.executionArn);
    const cancelled = lastJson<{ status: string; stores: Record<string, { state: string; delete?: number }> }>((await t.dsr('cancel', 'cx-flag', '--reason', 'duplicate', '--wait', '--json')).out);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.stores.accounts.delete ?? 0).toBe(0);
    expect(await keptIdentitySettled('cx-flag', cancelled.stores.accounts)).toBe('deleted');
    expect(await ownedItems('voip-accounts', 'accountId', subject.subjectId)).toHaveLength(1);

    await awaitingErasure('cx-flag-new', subject.subjectId);
    const finished = lastJson<{ status: string; counts: { verification: { unexpected: number } } }>((await t.dsr('approve', 'cx-flag-new', '--approved-by', 'agent-2', '--wait', '--json')).out);
    expect(finished).toMatchObject({ status: 'completed', counts: { verification: { unexpected: 0 } } });
    expect(await ownedItems('voip-contacts', 'ownerAccountId', subject.subjectId)).toHaveLength(0);
    expect(await ownedItems('voip-devices', 'accountId', subject.subjectId)).toHaveLength(0);
    // Still held for the investigation.
    expect(await ownedItems('voip-accounts', 'accountId', subject.subjectId)).toHaveLength(1);
    console.log(`cancelled with the account held: ${JSON.stringify(Object.fromEntries(Object.entries(cancelled.stores).map(([k, v]) => [k, `${v.state}${v.delete ? ` ${v.delete} deleted` : ''}`])))}`);
  }, 600_000);
});
