/**
 * Plan, approve, apply; a store that is down; third-party records; and the logs, searched for
 * personal values — on an engine that requires approval for erasure.
 */
import { DeleteTableCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { phoneWrittenForms } from '../../functions/core/phone-numbers';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';

const NOW = '2026-11-02T12:00:00.000Z';
let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
let ddb: DynamoDBClient;
const logged: string[] = [];
const realWrite = process.stdout.write.bind(process.stdout);

const verification = ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'TICKET-5', '--verified-at', NOW];
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop() ?? '{}');

function subjectWith(pred: (s: SubjectEntry) => boolean, exclude: string[] = []): SubjectEntry {
  const s = report.subjects.find((x) => pred(x) && !x.flags.fraudInvestigation && !x.flags.legalHeldMedia && !x.flags.specialCharacters && !exclude.includes(x.subjectId));
  if (!s) throw new Error('no subject fits');
  return s;
}

async function countByIndex(table: string, index: string, attribute: string, value: string): Promise<number> {
  const out = await ddb.send(
    new QueryCommand({ TableName: table, IndexName: index, KeyConditionExpression: '#a = :v', ExpressionAttributeNames: { '#a': attribute }, ExpressionAttributeValues: { ':v': { S: value } } }),
  );
  return out.Count ?? 0;
}

/** Contact cards holding a number in any of its usual written forms (`(514) 555-0101`, `514-555-0101`…). */
async function countContactsWithNumber(phone: string): Promise<number> {
  let n = 0;
  for (const form of [...new Set([...phoneWrittenForms(phone), phone])]) n += await countByIndex('voip-contacts', 'by-contact-phone', 'contactPhone', form);
  return n;
}

beforeAll(async () => {
  // Every log line the handlers write is captured and searched at the end.
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logged.push(String(chunk));
    return (realWrite as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  env = await startSeededEngine({ seed: 23, now: NOW, approvalRequired: true });
  ({ t, report, ddb } = env);
}, 300_000);

afterAll(async () => {
  process.stdout.write = realWrite;
  await env?.close();
});

describe('approval, third parties, failures, logs', () => {
  let subject: SubjectEntry;

  it('an erasure waits for approval with its plan stored; nothing changes before', async () => {
    subject = subjectWith((s) => s.expected.contacts.thirdParty > 0);
    const r = await t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'appr-1', ...verification, '--wait', '--json');
    expect(r.code).toBe(0);
    const summary = lastJson(r.out);
    expect(summary.status).toBe('awaiting-approval');
    expect(summary.planHash).toMatch(/^[0-9a-f]{64}$/);
    const history = await t.dsr('history', 'appr-1');
    expect(history.out).toMatch(/AwaitingApproval/);
    const phone = subject.identifiers.phone[0];
    expect(await countContactsWithNumber(phone)).toBeGreaterThan(0);

    const dry = await t.dsr('plan', 'appr-1', '--json');
    expect(dry.code).toBe(0);
    expect(lastJson(dry.out).plan.planHash).toBe(summary.planHash);
  }, 300_000);

  it('approving another plan hash is refused; approving the stored plan applies exactly it', async () => {
    const wrong = await t.dsr('approve', 'appr-1', '--approved-by', 'dpo', '--plan-hash', 'f'.repeat(64));
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/no plan ffffffffffff… awaiting approval/);

    const ok = await t.dsr('approve', 'appr-1', '--approved-by', 'dpo', '--wait', '--json');
    expect(ok.code).toBe(0);
    const summary = lastJson(ok.out);
    expect(summary.status).toBe('completed');
    expect(summary.counts.verification.unexpected).toBe(0);
    // The subject's number is gone from other people's contact lists; their entries stay.
    const phone = subject.identifiers.phone[0];
    // Typed as `(514) 555-0101` or `514-555-0101` too: every written form is redacted.
    expect(await countContactsWithNumber(phone)).toBe(0);
    expect(await countByIndex('voip-contacts', 'by-contact-phone', 'contactPhone', '[REDACTED]')).toBeGreaterThanOrEqual(subject.expected.contacts.thirdParty);

    const history = await t.dsr('history', 'appr-1');
    expect(history.out).toMatch(/execution appr-1\n/);
    expect(history.out).toMatch(/execution appr-1--apply\n/);
    expect(history.out).toMatch(/LoadApprovedPlan/);
  }, 300_000);

  it('a store that is down fails its branch; the others finish and the receipt says what was done', async () => {
    // payment-tokens is not used to resolve identities, so only its own branch can fail.
    const other = subjectWith((s) => s.expected['payment-tokens'].owner > 0, [subject.subjectId]);
    await ddb.send(new DeleteTableCommand({ TableName: 'voip-payment-tokens' }));
    const r = await t.dsr('start', '--type', 'access', '--subject', other.subjectId, '--request-id', 'down-1', ...verification, '--wait', '--json');
    expect(r.code).toBe(1);
    const summary = lastJson(r.out);
    expect(summary.execution).toMatchObject({ status: 'FAILED', error: 'RequestFailed' });
    expect(summary.status).toBe('failed');
    const receipt = JSON.parse((await t.dsr('receipt', 'down-1', '--json')).out).receipt;
    expect(receipt.failedStores).toEqual([{ store: 'payment-tokens', error: 'StoreUnavailable' }]);
    expect(receipt.decisions.accounts).toBeDefined();
  }, 300_000);

  it('logs carry no personal value of any subject', () => {
    const text = logged.join('');
    expect(text.length).toBeGreaterThan(1000);
    const values = report.subjects.flatMap((s) => Object.values(s.identifiers).flat());
    expect(values.filter((v) => text.includes(v))).toEqual([]);
  });
});
