/**
 * Every request type under IAM, end to end: the local endpoints enforce each principal's
 * infra/policies.ts policy on every SDK call (each Task function signs as its own role, the
 * CLI as support or auditor), and a whole working day — requests side by side, approval,
 * bundles, restriction lifted, rectification closed, holds, a sweep — is not denied once.
 * Auditors read history and receipts, and nothing else.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import path from 'node:path';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';

const NOW = '2026-11-02T12:00:00.000Z';
let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;

const verification = ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'TICKET-5', '--verified-at', NOW];
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop() ?? '{}');
const support = (...args: string[]) => t.dsr('--as', 'support', ...args);
const auditor = (...args: string[]) => t.dsr('--as', 'auditor', ...args);

const taken: string[] = [];
function subject(pred: (s: SubjectEntry) => boolean = () => true): SubjectEntry {
  const s = report.subjects.find((x) => pred(x) && !x.flags.fraudInvestigation && !x.flags.legalHeldMedia && !x.flags.specialCharacters && !taken.includes(x.subjectId));
  if (!s) throw new Error('no subject in the dataset fits');
  taken.push(s.subjectId);
  return s;
}

const denials = () => t.engine.denials.map((d) => `${d.accessKeyId} ${d.action} ${d.resource}`);

beforeAll(async () => {
  // The auditors' part is denied on purpose; until then every step checks there was no denial.
  env = await startSeededEngine({ seed: 31, now: NOW, approvalRequired: true, expectDenials: true });
  ({ t, report } = env);
}, 300_000);

afterAll(() => env?.close());

describe('IAM enforced: a working day without one denial', () => {
  let erased: SubjectEntry;

  it('runs access, portability, restriction, rectification and erasure side by side, each function as its own role', async () => {
    erased = subject((s) => s.expected.invoices.owner > 0 && s.expected['call-recordings'].versions > 0);
    const start = (type: string, id: string, who: SubjectEntry) => support('start', '--type', type, '--subject', who.subjectId, '--request-id', id, ...verification, '--wait', '--json');
    const runs = await Promise.all([
      start('access', 'iam-access', subject()),
      start('portability', 'iam-port', subject()),
      start('restriction', 'iam-restrict', subject((s) => s.expected.invoices.owner > 0)),
      start('rectification', 'iam-rectify', subject()),
      start('erasure', 'iam-erase', erased),
    ]);
    expect(runs.map((r) => [r.code, r.err])).toEqual(runs.map(() => [0, '']));
    expect(runs.map((r) => lastJson(r.out).status)).toEqual(['completed', 'completed', 'completed', 'routed-to-person', 'awaiting-approval']);
    expect(denials()).toEqual([]);
  }, 600_000);

  it('approves the erasure after a dry run; what the law keeps is deferred', async () => {
    expect((await support('plan', 'iam-erase', '--json')).code).toBe(0);
    const approved = await support('approve', 'iam-erase', '--approved-by', 'dpo', '--wait', '--json');
    expect([approved.code, approved.err]).toEqual([0, '']);
    const summary = lastJson(approved.out);
    expect(summary.status).toBe('completed');
    expect(summary.counts.verification.unexpected).toBe(0);
    expect(summary.counts.decisions.invoices['retain-until']).toBeGreaterThan(0);
    // ScheduleDeferred wrote the entries (BatchWriteItem) and kept the identity for the sweep.
    const kept = await env.s3.send(new ListObjectVersionsCommand({ Bucket: 'dsr-work', Prefix: 'deferred/iam-erase/identity.json' }));
    expect(kept.Versions ?? []).toHaveLength(1);
    expect(denials()).toEqual([]);
  }, 600_000);

  it('hands out the bundle (downloaded, and by a presigned URL support signed), lifts the restriction, closes the rectification', async () => {
    const file = path.join(t.dataDir, 'iam-port.zip');
    const downloaded = await support('bundle', 'iam-port', '--out', file);
    expect([downloaded.code, downloaded.err]).toEqual([0, '']);
    const { url, sha256 } = lastJson((await support('bundle', 'iam-port', '--json')).out) as { url: string; sha256: string };
    expect(url).toMatch(/X-Amz-Credential=dsrSupport%2F/);
    const fetched = await fetch(url);
    expect(fetched.status).toBe(200);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(fs.readFileSync(file))).toBe(true);
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);

    const lifted = await support('lift-restriction', 'iam-restrict', '--by', 'agent-9', '--json');
    expect([lifted.code, lastJson(lifted.out).status]).toEqual([0, 'completed']);
    const done = await support('rectification', 'done', 'iam-rectify', '--by', 'agent-9', '--reference', 'FIX-3', '--json');
    expect([done.code, lastJson(done.out).status]).toEqual([0, 'completed']);
    expect(denials()).toEqual([]);
  }, 600_000);

  it('places, lists and releases a hold on a subject (support resolves the identity with its own grants)', async () => {
    const held = subject();
    const placed = await support('hold', 'place', '--subject', held.subjectId, '--kind', 'litigation', '--reference', 'CASE-9', '--placed-by', 'legal', '--json');
    expect([placed.code, placed.err]).toEqual([0, '']);
    const holdId = lastJson(placed.out).holdId as string;
    expect((await support('hold', 'list', '--json')).out).toContain(holdId);
    expect((await support('hold', 'release', holdId, '--released-by', 'legal')).code).toBe(0);
    expect(denials()).toEqual([]);
  }, 300_000);

  it('sweeps once everything kept has come due: erases it, writes receipts, forgets the kept identity', async () => {
    const swept = await support('sweep', '--now', '2034-06-01T00:00:00Z', '--json');
    expect([swept.code, swept.err]).toEqual([0, '']);
    const total = lastJson(swept.out) as { status: string; receipts: number; erased: number };
    expect(total.status).toBe('SUCCEEDED');
    expect(total.receipts).toBeGreaterThanOrEqual(1);
    expect(total.erased).toBeGreaterThan(0);
    // WriteSweepReceipts listed and deleted every version of the identity (and left no delete marker).
    const kept = await env.s3.send(new ListObjectVersionsCommand({ Bucket: 'dsr-work', Prefix: 'deferred/iam-erase/' }));
    expect([...(kept.Versions ?? []), ...(kept.DeleteMarkers ?? [])]).toEqual([]);
    expect((await support('receipt', 'verify')).code).toBe(0);
    expect(denials()).toEqual([]);
  }, 600_000);
});

describe('IAM enforced: auditors', () => {
  it('read the execution history and the receipts of every request', async () => {
    const history = await auditor('history', 'iam-erase');
    expect([history.code, history.err]).toEqual([0, '']);
    expect(history.out).toMatch(/LoadApprovedPlan/);
    for (const id of ['iam-erase', 'iam-port', 'iam-rectify', 'iam-rectify--rectified']) {
      const receipt = await auditor('receipt', id, '--json');
      expect([id, receipt.code, receipt.err]).toEqual([id, 0, '']);
      expect(JSON.parse(receipt.out).receipt.id).toBe(id);
    }
    expect((await auditor('receipt', 'verify')).out).toMatch(/^receipt chain intact/);
    expect(denials()).toEqual([]);
  }, 300_000);

  it('cannot start a request, nor read a request item (it holds the subject id): AccessDenied, as AWS says it', async () => {
    const someone = subject();
    const started = await auditor('start', '--type', 'access', '--subject', someone.subjectId, '--request-id', 'iam-by-auditor', ...verification);
    expect(started.code).toBe(1);
    expect(started.err).toMatch(
      /AccessDeniedException: User: arn:aws:sts::000000000000:assumed-role\/dsr-auditor\/dsr-auditor is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table\/dsr-ledger because no identity-based policy allows the dynamodb:PutItem action/,
    );
    const stored = await env.ddb.send(new GetItemCommand({ TableName: 'dsr-ledger', Key: { pk: { S: 'request#iam-by-auditor' }, sk: { S: 'request' } } }));
    expect(stored.Item).toBeUndefined();
    const status = await auditor('status', 'iam-erase');
    expect(status.err).toMatch(/dsr-auditor is not authorized to perform: dynamodb:GetItem/);
    // The same through DSR_AS.
    process.env.DSR_AS = 'auditor';
    try {
      expect((await t.dsr('receipt', 'iam-erase')).code).toBe(0);
      expect((await t.dsr('sweep', '--json')).err).toMatch(/dsr-auditor is not authorized to perform: states:StartExecution/);
    } finally {
      delete process.env.DSR_AS;
    }
    expect(new Set(t.engine.denials.map((d) => d.accessKeyId))).toEqual(new Set(['dsrAuditor']));
  }, 300_000);
});
