/**
 * A pending access request holds its subject's data from erasure until it is answered
 * (PIPEDA s.8(8)): an erasure of that subject keeps everything with basis
 * `pending-access-request`, another subject's erasure beside it is untouched, and once the
 * access request is answered the sweep erases what was kept.
 *
 * The access request is recorded through the ledger (what `dsr start` does before it starts
 * the execution) and started later with the identical `dsr start`: that is the one way to
 * hold a request "received, not yet answered" for as long as the test needs, without racing
 * its execution.
 */
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SubjectsReport } from '../../examples/voip-operator/generator';
import { Ledger } from '../../functions/core/ledger';
import { pendingAccessRequests } from '../../functions/core/pending-requests';
import { createRequest } from '../../functions/core/request';
import { startSeededEngine, type SeededEngine, type TestEngine } from '../support/engine';
import { lastJson, NOW, plainSubject, verification } from '../cli/support';

let env: SeededEngine;
let t: TestEngine;
let report: SubjectsReport;
let ddb: DynamoDBClient;
const taken: string[] = [];

beforeAll(async () => {
  env = await startSeededEngine({ seed: 73, now: NOW });
  ({ t, report, ddb } = env);
}, 300_000);

afterAll(() => env?.close());

async function items(table: string, keyName: string, value: string): Promise<Record<string, unknown>[]> {
  const out = await ddb.send(new QueryCommand({ TableName: table, KeyConditionExpression: '#k = :v', ExpressionAttributeNames: { '#k': keyName }, ExpressionAttributeValues: { ':v': { S: value } } }));
  return (out.Items ?? []).map((i) => unmarshall(i));
}

type Summary = { status: string; counts: { totals: Record<string, number>; decisions: Record<string, Record<string, number>> } };

describe('a pending access request holds its subject from erasure', () => {
  it('keeps the subject with basis pending-access-request, erases the other subject beside it, and the sweep erases once the access is answered', async () => {
    const held = plainSubject(report, taken, (s) => s.expected.contacts.owner > 0);
    const other = plainSubject(report, taken, (s) => s.expected.contacts.owner > 0);
    const rt = { dynamodb: ddb, ledger: new Ledger(ddb, 'dsr-ledger') };
    const access = createRequest(
      { requestId: 'pa-access', subjectId: held.subjectId, type: 'access', verification: { method: 'id-document', verifiedBy: 'agent-7', reference: 'TICKET-5', verifiedAt: NOW } },
      new Date(NOW),
    );
    await rt.ledger.putRequest(access, new Date(NOW), () => false);
    expect((await pendingAccessRequests(rt, held.subjectId)).map((p) => p.requestId)).toEqual(['pa-access']);
    expect(await pendingAccessRequests(rt, other.subjectId)).toEqual([]);
    // No ledger key names the subject in clear.
    const keys = await ddb.send(new QueryCommand({ TableName: 'dsr-ledger', IndexName: 'by-due', KeyConditionExpression: 'dueState = :o', ExpressionAttributeValues: { ':o': { S: 'open' } } }));
    expect(JSON.stringify(keys.Items)).not.toContain(held.subjectId);

    const erase = (id: string, subject: string) => t.dsr('start', '--type', 'erasure', '--subject', subject, '--request-id', id, ...verification, '--wait', '--json');
    const [blocked, beside] = await Promise.all([erase('pa-erase', held.subjectId), erase('pa-beside', other.subjectId)]);
    expect(blocked.code).toBe(0);
    expect(beside.code).toBe(0);
    const b = lastJson<Summary>(blocked.out);
    expect(b.status).toBe('completed');
    expect(b.counts.totals.erase + b.counts.totals.anonymize).toBe(0);
    expect(b.counts.totals.refused).toBeGreaterThan(0);
    expect(await items('voip-contacts', 'ownerAccountId', held.subjectId)).toHaveLength(held.expected.contacts.owner);
    const plan = lastJson<{ plan: { stores: Array<{ store: string; rows: Array<{ basis: string; decision: string }> }> } }>((await t.dsr('plan', 'pa-erase', '--json')).out);
    const bases = new Set(plan.plan.stores.flatMap((s) => s.rows.map((r) => `${r.decision}:${r.basis}`)));
    expect(bases).toContain('refused:pending-access-request');
    const receipt = JSON.parse((await t.dsr('receipt', 'pa-erase', '--json')).out) as { receipt: { refusals: unknown[] } };
    expect(JSON.stringify(receipt.receipt.refusals)).toContain('pending-access-request');

    const o = lastJson<Summary>(beside.out);
    expect(o.status).toBe('completed');
    expect(o.counts.totals.refused ?? 0).toBe(0);
    expect(await items('voip-contacts', 'ownerAccountId', other.subjectId)).toHaveLength(0);

    // Still pending: a sweep keeps it.
    const early = await t.dsr('sweep', '--now', NOW, '--json');
    expect(early.code).toBe(0);
    expect(await items('voip-contacts', 'ownerAccountId', held.subjectId)).toHaveLength(held.expected.contacts.owner);

    // The access request is answered: the identical start runs it.
    const answered = await t.dsr('start', '--type', 'access', '--subject', held.subjectId, '--request-id', 'pa-access', ...verification, '--wait', '--json');
    expect(answered.code).toBe(0);
    expect(lastJson<Summary>(answered.out).status).toBe('completed');
    expect(await pendingAccessRequests(rt, held.subjectId)).toEqual([]);
    const swept = await t.dsr('sweep', '--now', NOW, '--json');
    expect(swept.code).toBe(0);
    expect(await items('voip-contacts', 'ownerAccountId', held.subjectId)).toHaveLength(0);
    expect(await items('voip-accounts', 'accountId', held.subjectId)).toHaveLength(0);
  }, 600_000);
});
