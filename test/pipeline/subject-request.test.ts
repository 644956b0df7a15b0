/**
 * The subject-request state machine end to end, through the local Step Functions endpoint,
 * against the seeded reference operator: every request type, refusals, idempotency, and a
 * search of every history event for every personal value of every subject.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';

const NOW = '2026-11-02T12:00:00.000Z';
let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
let ddb: DynamoDBClient;
let s3: S3Client;

function verification(at = NOW): string[] {
  return ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'TICKET-1', '--verified-at', at];
}

async function run(type: string, requestId: string, subject: string, extra: string[] = verification()) {
  const r = await t.dsr('start', '--type', type, '--subject', subject, '--request-id', requestId, ...extra, '--wait', '--json');
  const summary = r.out.trim() ? JSON.parse(r.out.trim().split('\n').pop()!) : undefined;
  return { ...r, summary };
}

/** A subject with data everywhere and nothing that holds its data back. */
function plainSubject(exclude: string[] = []): SubjectEntry {
  const s = report.subjects.find(
    (x) => !x.flags.fraudInvestigation && !x.flags.legalHeldMedia && !x.flags.specialCharacters && x.expected['call-recordings'].versions > 0 && !exclude.includes(x.subjectId),
  );
  if (!s) throw new Error('the small dataset has no plain subject with recordings');
  return s;
}

beforeAll(async () => {
  env = await startSeededEngine({ seed: 7, now: NOW });
  ({ t, report, ddb, s3 } = env);
}, 240_000);

afterAll(() => env?.close());

describe('subject request end to end', () => {
  it('refuses a request without verification, in a state named for the reason', async () => {
    const r = await run('access', 'refuse-noverif', plainSubject().subjectId, []);
    expect(r.code).toBe(4);
    expect(r.summary.execution).toMatchObject({ status: 'FAILED', error: 'RequestRefused', cause: 'verification-missing' });
    expect(r.summary.status).toBe('refused');
  });

  it('refuses a stale verification and an unknown subject', async () => {
    const stale = await run('erasure', 'refuse-stale', plainSubject().subjectId, verification('2026-09-01T00:00:00.000Z'));
    expect(stale.summary.execution).toMatchObject({ error: 'RequestRefused', cause: 'verification-stale' });
    const unknown = await run('erasure', 'refuse-unknown', 'cust-does-not-exist');
    expect(unknown.code).toBe(4);
    expect(unknown.summary.execution).toMatchObject({ error: 'RequestRefused', cause: 'unknown-subject' });
  });

  it('access: reports every record discovery found, per store', async () => {
    const subject = plainSubject();
    const r = await run('access', 'access-1', subject.subjectId);
    expect(r.code).toBe(0);
    expect(r.summary.status).toBe('completed');
    const exported = r.summary.counts.exported as Record<string, { records: number; files: number }>;
    expect(exported.accounts.records).toBe(subject.expected.accounts.owner);
    expect(exported.invoices.records).toBe(subject.expected.invoices.owner);
    expect(exported['call-records'].records).toBe(subject.expected['call-records'].owner + subject.expected['call-records'].thirdParty);
    expect(exported['sip-logs'].records).toBe(subject.expected['sip-logs'].records);
    expect(exported['call-recordings'].files).toBe(subject.expected['call-recordings'].current);
  }, 300_000);

  it('erasure: erases what may go, keeps what the law keeps, and a near-miss neighbour keeps everything', async () => {
    // Erase the subject whose account id is a prefix of another's (cust-1 beside cust-10).
    const pair = report.nearMisses.find((n) => n.type === 'accountId')!;
    const subject = report.subjects.find((s) => s.subjectId === pair.value)!;
    const neighbour = report.subjects.find((s) => s.subjectId === pair.near)!;
    expect(subject && neighbour).toBeTruthy();
    const r = await run('erasure', 'erase-1', subject.subjectId);
    expect(r.code).toBe(0);
    expect(r.summary.status).toBe('completed');
    expect(r.summary.counts.verification).toEqual({ remaining: expect.any(Number), held: 0, unexpected: 0 });
    const account = await ddb.send(new GetItemCommand({ TableName: 'voip-accounts', Key: { accountId: { S: subject.subjectId } } }));
    expect(account.Item === undefined).toBe(!subject.flags.fraudInvestigation);
    if (!subject.flags.legalHeldMedia) {
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'voip-media', Prefix: `recordings/${subject.subjectId}/` }));
      expect([...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])]).toHaveLength(0);
    }
    // Invoices younger than 7 years stay (tax) and are counted as retained.
    expect(r.summary.counts.decisions.invoices['retain-until']).toBeGreaterThan(0);

    const again = await run('erasure', 'erase-1', subject.subjectId);
    expect(again.summary.execution.arn).toBe(r.summary.execution.arn);
    expect(again.summary.receipt).toEqual(r.summary.receipt);

    // The neighbour's own records are all still there (stores where the erased subject could
    // not have held records about the neighbour).
    const n = await run('access', 'access-neighbour', neighbour.subjectId);
    const exported = n.summary.counts.exported as Record<string, { records: number; files: number }>;
    for (const store of ['accounts', 'invoices', 'payment-tokens', 'devices'] as const) expect(exported[store].records).toBe(neighbour.expected[store].owner);
    expect(exported['call-recordings'].files).toBe(neighbour.expected['call-recordings'].current);
  }, 300_000);

  it('rectification: recorded with its verification, routed to a person, closed by a receipt; nothing read or changed', async () => {
    const subject = plainSubject();
    const stale = await run('rectification', 'rectify-stale', subject.subjectId, verification('2026-09-01T00:00:00.000Z'));
    expect(stale.code).toBe(4);
    expect(stale.summary.execution).toMatchObject({ error: 'RequestRefused', cause: 'verification-stale' });

    const r = await run('rectification', 'rectify-1', subject.subjectId);
    expect(r.code).toBe(0);
    expect(r.summary.status).toBe('routed-to-person');
    const history = await t.dsr('history', 'rectify-1');
    expect(history.out).toMatch(/IsRectification[\s\S]*WriteReceipt[\s\S]*RoutedToPerson/);
    expect(history.out).not.toMatch(/ResolveIdentity|DiscoverStores/);
    const receipt = JSON.parse((await t.dsr('receipt', 'rectify-1', '--json')).out);
    expect(receipt.receipt).toMatchObject({ type: 'rectification', outcome: 'routed-to-person', verificationReference: 'TICKET-1', planHash: null });

    expect((await t.dsr('plan', 'rectify-1')).err).toMatch(/is a rectification: a person handles it/);
    expect((await t.dsr('rectification', 'done', 'rectify-stale', '--by', 'agent-9', '--reference', 'FIX-1')).err).toMatch(/rectify-stale is refused, not routed to a person/);
    const done = await t.dsr('rectification', 'done', 'rectify-1', '--by', 'agent-9', '--reference', 'FIX-1', '--json');
    expect(done.code).toBe(0);
    expect(JSON.parse(done.out)).toMatchObject({ requestId: 'rectify-1', status: 'completed' });
    const closing = JSON.parse((await t.dsr('receipt', 'rectify-1--rectified', '--json')).out);
    expect(closing.receipt).toMatchObject({ requestId: 'rectify-1', outcome: 'rectified-by-person', reference: 'FIX-1' });
    expect(JSON.stringify(closing)).not.toContain('agent-9');
    expect(JSON.parse((await t.dsr('status', 'rectify-1', '--json')).out).status).toBe('completed');
    expect((await t.dsr('rectification', 'done', 'rectify-1', '--by', 'agent-9', '--reference', 'FIX-1')).err).toMatch(/is completed, not routed to a person/);
    expect((await t.dsr('receipt', 'verify')).code).toBe(0);
  });

  it('never puts a personal value into any execution history', async () => {
    const sfn = new SFNClient({});
    const arn = process.env.DSR_STATE_MACHINE_ARN!;
    const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, maxResults: 1000 }))).executions ?? [];
    expect(executions.length).toBeGreaterThanOrEqual(5);
    let text = '';
    for (const e of executions) {
      const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: e.executionArn, maxResults: 1000 }));
      text += JSON.stringify(history.events);
    }
    sfn.destroy();
    const values = report.subjects.flatMap((s) => Object.values(s.identifiers).flat());
    const hits = values.filter((v) => text.includes(v));
    expect(hits).toEqual([]);
  });
});
