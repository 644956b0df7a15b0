/**
 * DynamoDB batch delete under faults: crash after every SDK call of a 60-item delete (BatchWriteItem
 * in batches of 25), then apply the same plan again; and the same delete while DynamoDB answers
 * ProvisionedThroughputExceededException at random. Either way every item of the subject is
 * gone and every other item is unchanged, attribute for attribute.
 */
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamodbConnector } from '../../functions/connectors/dynamodb';
import type { ConnectorContext, Finding, Identity } from '../../functions/connectors/types';
import { createTable, dynamoStore, putItems, startLocalDynamo, uniqueName, S, N, type LocalDynamo } from '../connectors/dynamodb-fixtures';
import { context, dynamoClient, faultPlan, injectFaults, injectThrottling } from './support';

let local: LocalDynamo;
let endpoint: string;

beforeAll(async () => {
  local = await startLocalDynamo();
  endpoint = String(await local.client.config.endpoint?.().then((e) => `${e.protocol}//${e.hostname}:${e.port}`));
}, 150_000);
afterAll(async () => {
  await local?.close();
});

const subject: Identity = { accountId: ['cust-1'] };

function others(): Array<Record<string, AttributeValue>> {
  const items: Array<Record<string, AttributeValue>> = [];
  for (let i = 0; i < 3; i++) items.push({ accountId: S('cust-10'), invoiceId: S(`i${i}`), amount: N(i), note: S(`other ${i} "quoted" ,comma`) });
  items.push({ accountId: S('cust-1 '), invoiceId: S('i0'), amount: N(7) });
  items.push({ accountId: S('CUST-1'), invoiceId: S('i0'), amount: N(8) });
  return items;
}

async function seedTable(): Promise<{ table: string; store: ReturnType<typeof dynamoStore> }> {
  const table = uniqueName('rel-invoices');
  await createTable(local.client, { name: table, partitionKey: 'accountId', sortKey: 'invoiceId' });
  const mine = Array.from({ length: 60 }, (_, i) => ({ accountId: S('cust-1'), invoiceId: S(`i${i}`), amount: N(i) }));
  await putItems(local.client, table, [...mine, ...others()]);
  const store = dynamoStore({ name: 'invoices', category: 'billing', table, key: { partitionKey: 'accountId', sortKey: 'invoiceId' }, lookups: [{ identifier: 'accountId', attribute: 'accountId' }] });
  return { table, store };
}

async function expectErased(client: DynamoDBClient, table: string): Promise<void> {
  const items = (await client.send(new ScanCommand({ TableName: table }))).Items ?? [];
  const sortKey = (i: Record<string, AttributeValue>) => `${i.accountId.S}|${i.invoiceId.S}`;
  expect(items.filter((i) => i.accountId.S === 'cust-1')).toEqual([]);
  expect([...items].sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual([...others()].sort((a, b) => sortKey(a).localeCompare(sortKey(b))));
}

async function erase(store: ReturnType<typeof dynamoStore>, findings: Finding[], ctx: ConnectorContext): Promise<void> {
  await dynamodbConnector.apply(store, subject, findings.map((finding) => ({ finding, action: 'delete' as const })), ctx);
}

describe('DynamoDB batch delete: crash after every SDK call, then the same plan again', () => {
  it('converges: none of the subject items remain, the others are unchanged', async () => {
    const counting = faultPlan();
    const countingClient = injectFaults(dynamoClient(endpoint), counting);
    try {
      const { table, store } = await seedTable();
      const findings = await dynamodbConnector.discover(store, subject, context({ dynamodb: local.client }));
      expect(findings).toHaveLength(60);
      await erase(store, findings, context({ dynamodb: countingClient }));
      await expectErased(local.client, table);
    } finally {
      countingClient.destroy();
    }
    expect(counting.calls).toBeGreaterThanOrEqual(3);
    for (let n = 1; n <= counting.calls; n++) {
      const { table, store } = await seedTable();
      const findings = await dynamodbConnector.discover(store, subject, context({ dynamodb: local.client }));
      const faulty = injectFaults(dynamoClient(endpoint), faultPlan(n));
      try {
        await erase(store, findings, context({ dynamodb: faulty })).catch(() => undefined);
      } finally {
        faulty.destroy();
      }
      await erase(store, findings, context({ dynamodb: local.client }));
      await expectErased(local.client, table);
      expect(await dynamodbConnector.discover(store, subject, context({ dynamodb: local.client }))).toEqual([]);
    }
  }, 120_000);
});

describe('DynamoDB throttling: ProvisionedThroughputExceededException at random', () => {
  it.each([1, 2])('discovery and the batch delete still complete correctly (seed %i)', async (seed) => {
    const { table, store } = await seedTable();
    const throttled = dynamoClient(endpoint, 10);
    const stats = injectThrottling(throttled, 'dynamodb', 0.3, seed);
    try {
      const findings = await dynamodbConnector.discover(store, subject, context({ dynamodb: throttled }));
      expect(findings).toHaveLength(60);
      await erase(store, findings, context({ dynamodb: throttled }));
    } finally {
      throttled.destroy();
    }
    await expectErased(local.client, table);
    expect(stats.throttled).toBeGreaterThan(0);
  }, 60_000);
});
