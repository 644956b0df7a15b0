/**
 * Hold flags on a subject's own records, read from DynamoDB Local and the local S3 work bucket:
 * a flag as operators write it holds the records of its category, and flags that cannot be read
 * are never taken for "no flag" — the records are refused, or the call fails, never erased.
 */
import { CreateTableCommand, DeleteTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import fs from 'node:fs';
import path from 'node:path';
import type { Finding } from '../../functions/connectors/types';
import { parseDataMap, type Store } from '../../functions/core/datamap';
import { findHolds, flagRaised } from '../../functions/core/holds';
import { Ledger, ledgerTableDefinition } from '../../functions/core/ledger';
import { planStore } from '../../functions/core/plan';
import { createRequest } from '../../functions/core/request';
import { docKeys } from '../../functions/core/request-data';
import { DEFAULT_SCHEDULE } from '../../functions/core/retention';
import type { Runtime } from '../../functions/core/runtime';
import { Workspace } from '../../functions/core/workspace';
import { startTestEndpoints, type TestEndpoints } from '../support/endpoints';

const now = new Date('2026-11-02T00:00:00Z');
const dataMap = parseDataMap(JSON.parse(fs.readFileSync(path.join(__dirname, '../../examples/voip-operator/datamap.json'), 'utf8')));
const accounts = dataMap.stores.find((s) => s.name === 'accounts') as Store & { kind: 'dynamodb'; table: string };
const ACCOUNTS_TABLE = 'holds-accounts';

let ep: TestEndpoints;
let rt: Runtime;

/** The parts of a Runtime findHolds uses, all real; the rest is never called here. */
function runtime(workBucket: string, table = ACCOUNTS_TABLE): Runtime {
  const stores = dataMap.stores.map((s) => (s.name === 'accounts' ? { ...s, table } : s));
  return {
    config: { dataMap: { ...dataMap, stores } },
    dynamodb: ep.dynamodb,
    s3: ep.s3,
    ledger: new Ledger(ep.dynamodb, 'holds-ledger'),
    workspace: new Workspace(ep.s3, workBucket),
  } as unknown as Runtime;
}

const ownerFinding = (accountId: string, table = ACCOUNTS_TABLE): Finding => ({
  id: `f-${accountId}`,
  store: 'accounts',
  role: 'owner',
  locator: { type: 'dynamodb', table, key: { accountId: { S: accountId } } },
});

async function request(requestId: string, subjectId: string, account?: Record<string, unknown>, findings: 'write' | 'missing' = 'write'): Promise<void> {
  await rt.ledger.putRequest(createRequest({ requestId, subjectId, type: 'erasure' }, now), now, () => true);
  if (account) await ep.dynamodb.send(new PutItemCommand({ TableName: ACCOUNTS_TABLE, Item: marshall({ accountId: subjectId, ...account }) }));
  if (findings === 'write') await rt.workspace.putJson(docKeys.findings(requestId, 'accounts'), account ? [ownerFinding(subjectId)] : []);
}

/** What apply-retention decides for the subject's account record with the holds found. */
async function decisionFor(requestId: string, subjectId: string) {
  const holds = await findHolds(rt, requestId, now);
  const slice = planStore({ store: accounts, findings: [ownerFinding(subjectId)], findingsHash: 'h', type: 'erasure', now, schedule: DEFAULT_SCHEDULE, holds: holds.forStore(accounts) });
  return { decision: slice.entries[0].decision, basis: slice.entries[0].basis, action: slice.entries[0].action };
}

beforeAll(async () => {
  ep = await startTestEndpoints();
  await ep.dynamodb.send(new CreateTableCommand(ledgerTableDefinition('holds-ledger')));
  await ep.dynamodb.send(new CreateTableCommand({
    TableName: ACCOUNTS_TABLE,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'accountId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'accountId', KeyType: 'HASH' }],
  }));
  await ep.s3.send(new CreateBucketCommand({ Bucket: 'holds-work' }));
  rt = runtime('holds-work');
}, 150_000);
afterAll(() => ep?.close());

describe('hold flags on the subject\'s records', () => {
  it('a flag as operators write it (true, "TRUE", "Y", 1) refuses the record; a clear "no" lets it be erased', async () => {
    const cases: [unknown, string][] = [[true, 'refused'], ['TRUE', 'refused'], [' Y ', 'refused'], [1, 'refused'], ['yes', 'refused'], [false, 'erase'], ['false', 'erase'], ['N', 'erase'], [0, 'erase'], ['', 'erase'], [null, 'erase']];
    for (const [i, [value, expected]] of cases.entries()) {
      const subject = `flag-${i}`;
      await request(`req-flag-${i}`, subject, { fraudInvestigation: value });
      expect([value, (await decisionFor(`req-flag-${i}`, subject)).decision]).toEqual([value, expected]);
    }
    await request('req-flag-absent', 'flag-absent', { status: 'active' });
    expect(await decisionFor('req-flag-absent', 'flag-absent')).toEqual({ decision: 'erase', basis: expect.any(String), action: 'delete' });
    expect(await decisionFor('req-flag-0', 'flag-0')).toMatchObject({ decision: 'refused', basis: 'investigation', action: 'restrict' });
  });

  it('side by side, subjects are exact: cust-1 flagged holds cust-1 only, not cust-10', async () => {
    await Promise.all([request('req-c1', 'cust-1', { fraudInvestigation: true }), request('req-c10', 'cust-10', { fraudInvestigation: false })]);
    const [one, ten] = await Promise.all([decisionFor('req-c1', 'cust-1'), decisionFor('req-c10', 'cust-10')]);
    expect(one.decision).toBe('refused');
    expect(ten.decision).toBe('erase');
  });

  it('findings that cannot be read (the flag store\'s discovery left none) refuse the category: never erase', async () => {
    await request('req-nofindings', 'no-findings', { fraudInvestigation: false }, 'missing');
    const holds = await findHolds(rt, 'req-nofindings', now);
    expect(holds.all).toEqual([expect.objectContaining({ holdId: 'flags-unreadable:accounts', basis: 'hold-flags-unreadable' })]);
    expect(await decisionFor('req-nofindings', 'no-findings')).toEqual({ decision: 'refused', basis: 'hold-flags-unreadable', action: 'restrict' });
    // Stores of other categories are not held by account flags.
    const invoices = dataMap.stores.find((s) => s.name === 'invoices')!;
    expect(holds.forStore(invoices)).toEqual([]);
  });

  it('a read error fails the call (a failure, not a decision): work bucket or flag table unreadable', async () => {
    await request('req-errors', 'read-errors', { fraudInvestigation: false });
    await expect(findHolds(runtime('holds-no-such-bucket'), 'req-errors', now)).rejects.toMatchObject({ name: 'NoSuchBucket' });
    await ep.dynamodb.send(new CreateTableCommand({
      TableName: 'holds-gone',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'accountId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'accountId', KeyType: 'HASH' }],
    }));
    await rt.workspace.putJson(docKeys.findings('req-gone', 'accounts'), [ownerFinding('gone-table', 'holds-gone')]);
    await rt.ledger.putRequest(createRequest({ requestId: 'req-gone', subjectId: 'gone-table', type: 'erasure' }, now), now, () => true);
    await ep.dynamodb.send(new DeleteTableCommand({ TableName: 'holds-gone' }));
    await expect(findHolds(runtime('holds-work', 'holds-gone'), 'req-gone', now)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(findHolds(rt, 'req-not-in-ledger', now)).rejects.toMatchObject({ name: 'RequestNotFound', message: 'request req-not-in-ledger is not in the ledger' });
  });

  it('flagRaised reads only an absent value or a clear "no" as unflagged', () => {
    expect([undefined, null, false, 0, '', ' false ', 'NO', 'off', '0'].map(flagRaised)).toEqual(Array(9).fill(false));
    expect([true, 'true', 'Y', 1, 2, 'investigation', {}].map(flagRaised)).toEqual(Array(7).fill(true));
  });
});
