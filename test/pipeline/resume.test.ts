/**
 * A half-done erasure is finished with `dsr resume`, on an engine that requires approval: the
 * approved plan is applied after a hold on one store was placed and released (so that store is
 * refused with HoldsChanged while the others — the account record among them — are erased); a
 * new request for the person is then `unknown-subject`, and only a resume, with the identity
 * the request kept, can reach the rest.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { currentTexts } from '../support/log-store';

const NOW = '2026-11-02T12:00:00.000Z';
let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;

const verification = ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'TICKET-12', '--verified-at', NOW];
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop() ?? '{}');

/** The `sipUser` of every SIP log line still in the bucket (current versions). */
async function sipUsers(): Promise<string[]> {
  const users: string[] = [];
  for (const text of (await currentTexts(env.s3, 'voip-logs', 'sip/')).values()) {
    for (const line of text.split('\n').filter(Boolean)) {
      try {
        users.push(String((JSON.parse(line) as { sipUser?: unknown }).sipUser));
      } catch {
        // A truncated line is the store's own; it names nobody we look for.
      }
    }
  }
  return users;
}

async function workVersions(prefix: string): Promise<number> {
  const out = await env.s3.send(new ListObjectVersionsCommand({ Bucket: process.env.DSR_WORK_BUCKET!, Prefix: prefix }));
  return (out.Versions?.length ?? 0) + (out.DeleteMarkers?.length ?? 0);
}

beforeAll(async () => {
  env = await startSeededEngine({ seed: 29, now: NOW, approvalRequired: true });
  ({ t, report } = env);
}, 300_000);

afterAll(() => env?.close());

describe('dsr resume', () => {
  let subject: SubjectEntry;

  it('a hold changed on one store between plan and apply fails that store only; the account is gone', async () => {
    subject = report.subjects.find((s) => !s.flags.fraudInvestigation && !s.flags.legalHeldMedia && !s.flags.specialCharacters && s.expected['sip-logs'].records > 0 && s.identifiers.sipUsername.length > 0)!;
    expect(subject).toBeTruthy();
    const started = await t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'res-1', ...verification, '--wait', '--json');
    expect(lastJson(started.out).status).toBe('awaiting-approval');

    const placed = await t.dsr('hold', 'place', '--store', 'sip-logs', '--kind', 'litigation', '--reference', 'CASE-77', '--placed-by', 'legal', '--json');
    expect(placed.code).toBe(0);
    expect((await t.dsr('hold', 'release', JSON.parse(placed.out).holdId, '--released-by', 'legal')).code).toBe(0);

    const applied = await t.dsr('approve', 'res-1', '--approved-by', 'dpo', '--wait', '--json');
    // Refused where the hold changed (PlanOutdated, exit 4), erased elsewhere: a resume finishes it.
    expect(applied.code).toBe(4);
    expect(lastJson(applied.out).next).toMatch(/npx dsr resume res-1/);
    expect(lastJson(applied.out).status).toBe('failed');
    const receipt = JSON.parse((await t.dsr('receipt', 'res-1', '--json')).out).receipt;
    expect(receipt.failedStores).toEqual([{ store: 'sip-logs', error: 'HoldsChanged' }]);
    const account = await env.ddb.send(new GetItemCommand({ TableName: 'voip-accounts', Key: { accountId: { S: subject.subjectId } } }));
    expect(account.Item).toBeUndefined();
    const mine = new Set(subject.identifiers.sipUsername);
    expect((await sipUsers()).filter((u) => mine.has(u)).length).toBeGreaterThan(0);
  }, 300_000);

  it('a new request for the same person is unknown-subject, and keeps no identity object', async () => {
    const again = await t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'res-1-new', ...verification, '--wait', '--json');
    expect(again.code).toBe(4);
    expect(lastJson(again.out)).toMatchObject({ status: 'refused', reason: 'unknown-subject' });
    expect(await workVersions('requests/res-1-new/')).toBe(0);
    expect(await workVersions('deferred/res-1-new/')).toBe(0);
  }, 300_000);

  it('resuming finishes it with the kept identity: nothing of the subject is left in the logs, the chain verifies', async () => {
    const r = await t.dsr('resume', 'res-1', '--wait', '--json');
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    const summary = lastJson(r.out);
    expect(summary).toMatchObject({ requestId: 'res-1', status: 'completed', execution: { status: 'SUCCEEDED' } });
    expect(summary.execution.arn).toMatch(/:res-1--resume-1$/);
    expect(summary.counts.verification.unexpected).toBe(0);
    expect(summary.counts.applied['sip-logs'].delete ?? summary.counts.applied['sip-logs'].deleted).toBeGreaterThan(0);

    const mine = new Set(subject.identifiers.sipUsername);
    expect((await sipUsers()).filter((u) => mine.has(u))).toEqual([]);

    // The resume's own receipt, after the run's, in the same chain.
    const first = JSON.parse((await t.dsr('receipt', 'res-1', '--json')).out);
    const resumed = JSON.parse((await t.dsr('receipt', 'res-1--resume-1', '--json')).out);
    expect(resumed.sequence).toBeGreaterThan(first.sequence);
    expect(resumed.receipt).toMatchObject({ id: 'res-1--resume-1', requestId: 'res-1', outcome: 'completed', failedStores: [] });
    expect(summary.receipt).toMatchObject({ sequence: resumed.sequence, hash: resumed.sha256 });
    // dsr status follows the request to its latest resume.
    const status = lastJson((await t.dsr('status', 'res-1', '--json')).out);
    expect(status).toMatchObject({ status: 'completed', execution: { status: 'SUCCEEDED' }, receipt: summary.receipt });
    expect(status.execution.arn).toBe(summary.execution.arn);
    const chain = await t.dsr('receipt', 'verify');
    expect(chain.code).toBe(0);
    expect(chain.out).toMatch(/receipt chain intact/);
  }, 300_000);

  it('refuses, with a clear error and exit 2, what cannot be resumed', async () => {
    const done = await t.dsr('resume', 'res-1');
    expect(done.code).toBe(2);
    expect(done.err).toMatch(/request res-1 is completed: nothing is left to resume/);
    const refused = await t.dsr('resume', 'res-1-new');
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/request res-1-new is refused \(unknown-subject\): only a failed erasure is resumed/);
    const missing = await t.dsr('resume', 'no-such-request');
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no such request no-such-request/);
    const access = await t.dsr('start', '--type', 'access', '--subject', report.subjects[1].subjectId, '--request-id', 'res-access', ...verification, '--wait');
    expect(access.code).toBe(0);
    const notErasure = await t.dsr('resume', 'res-access');
    expect(notErasure.code).toBe(2);
    expect(notErasure.err).toMatch(/request res-access is an access request: only an erasure, a withdrawal of consent or an objection is resumed/);
  }, 300_000);
});
