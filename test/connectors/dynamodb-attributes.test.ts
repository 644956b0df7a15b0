/**
 * The dynamodb connector's `setAttribute` (consent withdrawal) against DynamoDB Local: exactly
 * the one attribute changes (a top-level one, or one inside a map), only the subject's own items
 * and only those the `where` filter names; a value already withdrawn or absent is not written;
 * a value changed between the read and the write is read again rather than overwritten.
 */
import { DynamoDBClient, GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { setAttribute } from '../../functions/connectors/dynamodb-attributes';
import { countRequests, createTable, dynamoStore, expectLogsFreeOf, putItems, S, startLocalDynamo, testContext, uniqueName, type LocalDynamo, type LogEntry } from './dynamodb-fixtures';

let local: LocalDynamo;
const logs: LogEntry[] = [];
const BOOL = (b: boolean): AttributeValue => ({ BOOL: b });

beforeAll(async () => {
  local = await startLocalDynamo();
}, 120_000);
afterAll(async () => {
  try {
    expectLogsFreeOf(logs, ['cust-1', 'cust-2', 'Alice']);
  } finally {
    await local?.close();
  }
});

async function item(table: string, key: Record<string, AttributeValue>) {
  return (await local.client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
}

describe('setAttribute', () => {
  it('sets a map member of the subject\'s own item and nothing else; again, it writes nothing', async () => {
    const table = uniqueName('consent-accounts');
    await createTable(local.client, { name: table, partitionKey: 'accountId' });
    const alice = { accountId: S('cust-1'), name: S('Alice'), marketingConsent: BOOL(true), consent: { M: { analytics: BOOL(true), targetedAdvertising: BOOL(true) } } };
    const other = { accountId: S('cust-2'), marketingConsent: BOOL(true), consent: { M: { analytics: BOOL(true) } } };
    await putItems(local.client, table, [alice, other]);
    const store = dynamoStore({ name: 'accounts', table, key: { partitionKey: 'accountId' }, lookups: [{ identifier: 'subjectId', attribute: 'accountId' }] });
    const ctx = testContext(local.client, logs);

    const changes = await setAttribute(store, { subjectId: ['cust-1'] }, { attribute: 'consent.analytics', value: false }, ctx);
    expect(changes).toEqual([{ itemRef: expect.stringMatching(/^[0-9a-f]{64}$/), status: 'changed', before: true, after: false }]);
    expect(await item(table, { accountId: S('cust-1') })).toEqual({ ...alice, consent: { M: { analytics: BOOL(false), targetedAdvertising: BOOL(true) } } });
    expect(await item(table, { accountId: S('cust-2') })).toEqual(other);

    const counter = countRequests(local.client);
    try {
      const again = await setAttribute(store, { subjectId: ['cust-1'] }, { attribute: 'consent.analytics', value: false }, ctx);
      expect(again.map((c) => c.status)).toEqual(['unchanged']);
      expect(counter.counts.UpdateItem ?? 0).toBe(0);
    } finally {
      counter.stop();
    }
    // No such attribute (or no such map): nothing to withdraw, nothing written.
    expect((await setAttribute(store, { subjectId: ['cust-2'] }, { attribute: 'consent.targetedAdvertising', value: false }, ctx)).map((c) => c.status)).toEqual(['absent']);
    expect((await setAttribute(store, { subjectId: ['cust-2'] }, { attribute: 'prefs.sms', value: false }, ctx)).map((c) => c.status)).toEqual(['absent']);
    expect(await item(table, { accountId: S('cust-2') })).toEqual(other);
  });

  it('in a consent table, only the purpose\'s item (where), by the sort key itself', async () => {
    const table = uniqueName('consent-records');
    await createTable(local.client, { name: table, partitionKey: 'accountId', sortKey: 'purpose' });
    const rows = ['marketing', 'analytics'].map((purpose) => ({ accountId: S('cust-1'), purpose: S(purpose), status: S('granted'), channel: S('signup') }));
    await putItems(local.client, table, rows);
    const store = dynamoStore({ name: 'consents', table, key: { partitionKey: 'accountId', sortKey: 'purpose' }, lookups: [{ identifier: 'accountId', attribute: 'accountId' }] });
    const changes = await setAttribute(store, { accountId: ['cust-1'] }, { attribute: 'status', value: 'withdrawn', where: { attribute: 'purpose', equals: 'marketing' } }, testContext(local.client, logs));
    expect(changes.map((c) => [c.status, c.before, c.after])).toEqual([['changed', 'granted', 'withdrawn']]);
    expect(await item(table, { accountId: S('cust-1'), purpose: S('marketing') })).toEqual({ ...rows[0], status: S('withdrawn') });
    expect(await item(table, { accountId: S('cust-1'), purpose: S('analytics') })).toEqual(rows[1]);
  });

  it('a value changed between the read and the write is read again, not overwritten blindly', async () => {
    const table = uniqueName('consent-race');
    await createTable(local.client, { name: table, partitionKey: 'accountId' });
    await putItems(local.client, table, [{ accountId: S('cust-1'), optIn: S('granted') }]);
    const store = dynamoStore({ name: 'accounts', table, key: { partitionKey: 'accountId' }, lookups: [{ identifier: 'subjectId', attribute: 'accountId' }] });
    // Another writer (the portal) changes the value once, just before the connector's first UpdateItem.
    const portal = new DynamoDBClient({ endpoint: await local.client.config.endpoint!().then((e) => `${e.protocol}//${e.hostname}:${e.port}`), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local-secret' } });
    let raced = false;
    local.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand' && !raced) {
          raced = true;
          await portal.send(new UpdateItemCommand({ TableName: table, Key: { accountId: S('cust-1') }, UpdateExpression: 'SET optIn = :v', ExpressionAttributeValues: { ':v': S('granted-again') } }));
        }
        return next(args);
      },
      { step: 'initialize', name: 'race-once' },
    );
    try {
      const changes = await setAttribute(store, { subjectId: ['cust-1'] }, { attribute: 'optIn', value: 'withdrawn' }, testContext(local.client, logs));
      expect(raced).toBe(true);
      expect(changes.map((c) => [c.status, c.before, c.after])).toEqual([['changed', 'granted-again', 'withdrawn']]);
      expect((await item(table, { accountId: S('cust-1') }))?.optIn).toEqual(S('withdrawn'));
    } finally {
      local.client.middlewareStack.remove('race-once');
      portal.destroy();
    }
  });
});
