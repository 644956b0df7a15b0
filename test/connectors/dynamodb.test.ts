/**
 * The dynamodb connector against DynamoDB Local: discovery by key and by GSI, pagination,
 * exact matching, Scan only where allowed; batched deletes with retries; anonymize and
 * redact-mentions that keep the other person's data; missing items; restriction; export.
 */
import { GetItemCommand, PutItemCommand, DeleteItemCommand, ScanCommand, type BatchWriteItemCommandInput } from '@aws-sdk/client-dynamodb';
import { createDynamoDbConnector, dynamodbConnector, findItems, RESTRICTION_MARKER, RESTRICTION_REASON } from '../../functions/connectors/dynamodb';
import { UnprocessedItemsError } from '../../functions/aws/dynamodb-batch';
import type { ExportItem, Finding, Identity } from '../../functions/connectors/types';
import { DataMapError, InvalidInputError } from '../../functions/core/errors';
import {
  countRequests,
  createTable,
  dynamoStore,
  expectLogsFreeOf,
  FIXED_NOW,
  N,
  putItems,
  S,
  startLocalDynamo,
  testContext,
  uniqueName,
  type LocalDynamo,
  type LogEntry,
} from './dynamodb-fixtures';

let local: LocalDynamo;
const logs: LogEntry[] = [];
/** Every identifier or attribute value the tests use: none may appear in a log line. */
const personal = ['cust-1', 'cust-2', 'cust-10', 'alice@example.test', '+15550001', '+15550009', 'Alice', 'Bob', 'Carol', '1 Main St'];

beforeAll(async () => {
  local = await startLocalDynamo();
}, 120_000);
afterAll(async () => {
  try {
    expectLogsFreeOf(logs, personal);
  } finally {
    await local?.close();
  }
});

const ctx = () => testContext(local.client, logs);

async function collect(it: AsyncIterable<ExportItem>): Promise<ExportItem[]> {
  const out: ExportItem[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function getItem(table: string, key: Record<string, { S: string }>) {
  return (await local.client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
}

function keysOf(findings: readonly Finding[]): string[] {
  return findings.map((f) => JSON.stringify((f.locator as { key: unknown }).key)).sort();
}

describe('discover', () => {
  // Attribute names that are DynamoDB reserved words or carry special characters.
  const table = uniqueName('accounts');
  const store = dynamoStore({
    name: 'accounts',
    table,
    key: { partitionKey: 'user' },
    lookups: [
      { identifier: 'subjectId', attribute: 'user' },
      { identifier: 'email', attribute: 'e-mail.address', index: 'by-email' },
    ],
    dateField: 'date',
  });

  beforeAll(async () => {
    await createTable(local.client, { name: table, partitionKey: 'user', indexes: [{ name: 'by-email', partitionKey: 'e-mail.address', projection: 'KEYS_ONLY' }] });
    await putItems(local.client, table, [
      { user: S('cust-1'), 'e-mail.address': S('alice@example.test'), name: S('Alice'), date: S('2025-03-01T00:00:00Z'), status: S('active') },
      { user: S('cust-10'), 'e-mail.address': S('alice@example.test.evil'), name: S('Bob') },
      { user: S('cust-11'), 'e-mail.address': S('ALICE@example.test'), name: S('Carol') },
      // A second account registered with the subject's email: found through the index.
      { user: S('cust-2'), 'e-mail.address': S('alice@example.test'), name: S('Alice'), date: N(1_700_000_000) },
    ]);
  });

  it('queries the partition key and a KEYS_ONLY GSI, matches exactly, fetches whole items, never scans', async () => {
    const counter = countRequests(local.client);
    try {
      const findings = await dynamodbConnector.discover(store, { subjectId: ['cust-1'], email: ['alice@example.test'] }, ctx());
      expect(keysOf(findings)).toEqual([JSON.stringify({ user: { S: 'cust-1' } }), JSON.stringify({ user: { S: 'cust-2' } })]);
      const byUser = new Map(findings.map((f) => [((f.locator as { key: Record<string, { S: string }> }).key.user.S), f]));
      expect(byUser.get('cust-1')).toMatchObject({ store: 'accounts', role: 'owner', date: '2025-03-01T00:00:00.000Z' });
      expect(byUser.get('cust-1')?.fields).toEqual(['user', 'e-mail.address']);
      expect(byUser.get('cust-2')?.fields).toEqual(['e-mail.address']);
      // A numeric date is epoch seconds.
      expect(byUser.get('cust-2')?.date).toBe(new Date(1_700_000_000_000).toISOString());
      expect(byUser.get('cust-1')?.restricted).toBeUndefined();
      expect(new Set(findings.map((f) => f.id)).size).toBe(2);
      expect(counter.counts).toEqual({ DescribeTableCommand: 1, QueryCommand: 2, BatchGetItemCommand: 1 });
    } finally {
      counter.stop();
    }
  });

  it('finds nothing for a prefix of an identifier or a different case', async () => {
    expect(await dynamodbConnector.discover(store, { subjectId: ['cust'], email: ['alice@example'] }, ctx())).toEqual([]);
    const found = await dynamodbConnector.discover(store, { subjectId: ['cust-1'] }, ctx());
    expect(keysOf(found)).toEqual([JSON.stringify({ user: { S: 'cust-1' } })]);
  });

  it('sends no request at all when the identity has no value for any lookup', async () => {
    const counter = countRequests(local.client);
    try {
      expect(await dynamodbConnector.discover(store, { phone: ['+15550001'] }, ctx())).toEqual([]);
      expect(counter.counts).toEqual({});
    } finally {
      counter.stop();
    }
  });

  it('ids are stable across runs and differ between stores', async () => {
    const a = await dynamodbConnector.discover(store, { subjectId: ['cust-1'] }, ctx());
    const b = await dynamodbConnector.discover(store, { subjectId: ['cust-1'] }, ctx());
    expect(a[0].id).toBe(b[0].id);
    const other = await dynamodbConnector.discover({ ...store, name: 'accounts-copy' }, { subjectId: ['cust-1'] }, ctx());
    expect(other[0].id).not.toBe(a[0].id);
  });

  it('queries a numeric key only with canonical numbers (DynamoDB equates 042 and 42)', async () => {
    const numbers = uniqueName('numbers');
    await createTable(local.client, { name: numbers, partitionKey: 'accountNo', types: { accountNo: 'N' } });
    await putItems(local.client, numbers, [{ accountNo: N(42) }, { accountNo: N(420) }]);
    const store = dynamoStore({ name: 'numbered', table: numbers, key: { partitionKey: 'accountNo' }, lookups: [{ identifier: 'accountId', attribute: 'accountNo' }] });
    const counter = countRequests(local.client);
    try {
      const findings = await dynamodbConnector.discover(store, { accountId: ['42', '042', 'x42', ''] }, ctx());
      expect(keysOf(findings)).toEqual([JSON.stringify({ accountNo: { N: '42' } })]);
      expect(counter.counts.QueryCommand).toBe(1);
    } finally {
      counter.stop();
    }
    expect(logs.filter((l) => l.event === 'dynamodb.discover').pop()?.fields).toMatchObject({ store: 'numbered', skippedValues: 3, findings: 1 });
  });

  it('refuses a data map whose key or index does not match the table', async () => {
    await expect(dynamodbConnector.discover({ ...store, key: { partitionKey: 'accountId' }, lookups: [{ identifier: 'subjectId', attribute: 'accountId', role: 'owner', stored: 'any-form' }] }, { subjectId: ['cust-1'] }, ctx())).rejects.toThrow(DataMapError);
    await expect(
      dynamodbConnector.discover({ ...store, lookups: [{ identifier: 'email', attribute: 'e-mail.address', index: 'by-mail', role: 'owner', stored: 'any-form' }] }, { email: ['alice@example.test'] }, ctx()),
    ).rejects.toThrow(/has no index by-mail/);
  });
});

describe('pagination', () => {
  const table = uniqueName('cdrs');
  const store = dynamoStore({
    name: 'call-records',
    category: 'call-metadata',
    table,
    key: { partitionKey: 'accountId', sortKey: 'callId' },
    lookups: [
      { identifier: 'accountId', attribute: 'accountId' },
      { identifier: 'phone', attribute: 'calleeNumber', index: 'by-callee', role: 'third-party' },
    ],
    thirdParty: { redact: { calleeNumber: { strategy: 'hmac' } }, exportFields: ['durationSeconds'] },
  });
  const big = 'x'.repeat(90_000);

  beforeAll(async () => {
    await createTable(local.client, { name: table, partitionKey: 'accountId', sortKey: 'callId', indexes: [{ name: 'by-callee', partitionKey: 'calleeNumber' }] });
    const items = [];
    // 14 items of ~90 KB in one partition: more than DynamoDB's 1 MB page.
    for (let i = 0; i < 14; i++) items.push({ accountId: S('cust-1'), callId: S(`c${String(i).padStart(3, '0')}`), calleeNumber: S('+15550009'), blob: S(big) });
    for (let i = 0; i < 5; i++) items.push({ accountId: S('cust-2'), callId: S(`d${i}`), calleeNumber: S('+15550001'), durationSeconds: N(60 + i) });
    items.push({ accountId: S('cust-10'), callId: S('e0'), calleeNumber: S('+155500010') });
    await putItems(local.client, table, items);
  });

  it('follows LastEvaluatedKey past 1 MB pages', async () => {
    const counter = countRequests(local.client);
    try {
      const findings = await dynamodbConnector.discover(store, { accountId: ['cust-1'] }, ctx());
      expect(findings).toHaveLength(14);
      expect(counter.counts.QueryCommand).toBeGreaterThanOrEqual(2);
      expect(counter.counts.ScanCommand).toBeUndefined();
    } finally {
      counter.stop();
    }
  });

  it('follows pages of a GSI with a small page size; a record of the subject and of someone else dedupes by key', async () => {
    const connector = createDynamoDbConnector({ pageSize: 2 });
    const counter = countRequests(local.client);
    try {
      const findings = await connector.discover(store, { accountId: ['cust-2'], phone: ['+15550001'] }, ctx());
      expect(findings).toHaveLength(5);
      // Found by accountId (owner) and by callee (third-party): owner wins, both fields named.
      expect(findings.every((f) => f.role === 'owner')).toBe(true);
      expect(findings[0].fields).toEqual(['accountId', 'calleeNumber']);
      // 5 items in pages of 2: 3 pages per Query (the last may be empty-ended), 2 queries.
      expect(counter.counts.QueryCommand).toBeGreaterThanOrEqual(6);
      const thirdParty = await connector.discover(store, { phone: ['+15550001'] }, ctx());
      expect(thirdParty.map((f) => f.role)).toEqual(Array(5).fill('third-party'));
      expect(thirdParty[0].fields).toEqual(['calleeNumber']);
    } finally {
      counter.stop();
    }
  });
});

describe('Scan', () => {
  const table = uniqueName('notes');
  const base = {
    name: 'notes',
    table,
    key: { partitionKey: 'noteId' },
    lookups: [{ identifier: 'accountId', attribute: 'owner' }],
  };

  beforeAll(async () => {
    await createTable(local.client, { name: table, partitionKey: 'noteId' });
    const items = [];
    for (let i = 0; i < 9; i++) items.push({ noteId: S(`n${i}`), owner: S(i % 3 === 0 ? 'cust-1' : i % 3 === 1 ? 'cust-10' : 'cust-2') });
    await putItems(local.client, table, items);
  });

  it('is refused without allowScan, before any request that reads items', async () => {
    const counter = countRequests(local.client);
    try {
      await expect(dynamodbConnector.discover(dynamoStore(base), { accountId: ['cust-1'] }, ctx())).rejects.toThrow(/allowScan/);
      expect(counter.counts.ScanCommand).toBeUndefined();
      expect(counter.counts.QueryCommand).toBeUndefined();
    } finally {
      counter.stop();
    }
  });

  it('with allowScan is a filtered, paginated Scan that matches exactly', async () => {
    const counter = countRequests(local.client);
    try {
      const findings = await createDynamoDbConnector({ pageSize: 4 }).discover(dynamoStore({ ...base, allowScan: true }), { accountId: ['cust-1'] }, ctx());
      expect(keysOf(findings)).toEqual(['n0', 'n3', 'n6'].map((n) => JSON.stringify({ noteId: { S: n } })));
      // 9 items in pages of 4: 3 pages.
      expect(counter.counts.ScanCommand).toBe(3);
    } finally {
      counter.stop();
    }
  });
});

describe('delete', () => {
  it('deletes more than 25 items in batches of 25 and touches nothing else', async () => {
    const table = uniqueName('invoices');
    await createTable(local.client, { name: table, partitionKey: 'accountId', sortKey: 'invoiceId' });
    const items = [];
    for (let i = 0; i < 60; i++) items.push({ accountId: S('cust-1'), invoiceId: S(`i${i}`), amount: N(i) });
    for (let i = 0; i < 3; i++) items.push({ accountId: S('cust-10'), invoiceId: S(`i${i}`) });
    await putItems(local.client, table, items);
    const store = dynamoStore({ name: 'invoices', category: 'billing', table, key: { partitionKey: 'accountId', sortKey: 'invoiceId' }, lookups: [{ identifier: 'accountId', attribute: 'accountId' }] });
    const findings = await dynamodbConnector.discover(store, { accountId: ['cust-1'] }, ctx());
    expect(findings).toHaveLength(60);
    const counter = countRequests(local.client);
    try {
      const result = await dynamodbConnector.apply(store, { accountId: ['cust-1'] }, findings.map((finding) => ({ finding, action: 'delete' as const })), ctx());
      expect(result).toEqual({ applied: { delete: 60 }, refused: [], missing: [] });
      expect(counter.counts.BatchWriteItemCommand).toBe(3);
    } finally {
      counter.stop();
    }
    expect(await dynamodbConnector.discover(store, { accountId: ['cust-1'] }, ctx())).toEqual([]);
    const rest = await local.client.send(new ScanCommand({ TableName: table }));
    expect(rest.Items?.map((i) => i.accountId.S)).toEqual(['cust-10', 'cust-10', 'cust-10']);
  });

  describe('UnprocessedItems', () => {
    const table = uniqueName('tokens');
    const store = dynamoStore({ name: 'payment-tokens', category: 'payment-method', table, key: { partitionKey: 'accountId', sortKey: 'tokenId' }, lookups: [{ identifier: 'accountId', attribute: 'accountId' }] });
    beforeAll(() => createTable(local.client, { name: table, partitionKey: 'accountId', sortKey: 'tokenId' }));

    /**
     * Fault injection on the real client: DynamoDB processes only the first `processed` write
     * requests of each BatchWriteItem and hands the rest back as UnprocessedItems, as it does
     * when throttled.
     */
    function throttle(processed: (call: number) => number): () => void {
      const name = `throttle-${Math.random()}`;
      let call = 0;
      local.client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName !== 'BatchWriteItemCommand') return next(args);
          const input = args.input as BatchWriteItemCommandInput;
          const requests = input.RequestItems?.[table] ?? [];
          const n = processed(++call);
          const sent = requests.slice(0, n);
          const left = requests.slice(n);
          if (sent.length === 0) return { output: { UnprocessedItems: { [table]: left }, $metadata: {} }, response: {} } as never;
          const result = await next({ ...args, input: { ...input, RequestItems: { [table]: sent } } });
          (result.output as { UnprocessedItems?: unknown }).UnprocessedItems = left.length ? { [table]: left } : {};
          return result;
        },
        { step: 'initialize', name },
      );
      return () => local.client.middlewareStack.remove(name);
    }

    async function seed(n: number): Promise<Finding[]> {
      const items = [];
      for (let i = 0; i < n; i++) items.push({ accountId: S('cust-1'), tokenId: S(`t${i}`) });
      await putItems(local.client, table, items);
      return dynamodbConnector.discover(store, { accountId: ['cust-1'] }, ctx());
    }

    it('retries what DynamoDB left unprocessed until everything is deleted', async () => {
      const findings = await seed(30);
      const stop = throttle(() => 10);
      const counter = countRequests(local.client);
      try {
        const connector = createDynamoDbConnector({ backoff: { baseDelayMs: 1, maxDelayMs: 5 } });
        const result = await connector.apply(store, {}, findings.map((finding) => ({ finding, action: 'delete' as const })), ctx());
        expect(result.applied).toEqual({ delete: 30 });
        // First chunk of 25: 10 + 10 + 5 in three requests; second chunk of 5: one.
        expect(counter.counts.BatchWriteItemCommand).toBe(4);
      } finally {
        counter.stop();
        stop();
      }
      expect(await dynamodbConnector.discover(store, { accountId: ['cust-1'] }, ctx())).toEqual([]);
    });

    it('gives up after bounded attempts with a typed error naming the store and the count left', async () => {
      const findings = await seed(30);
      const stop = throttle((call) => (call === 1 ? 20 : 0));
      try {
        const connector = createDynamoDbConnector({ backoff: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
        const error = await connector.apply(store, {}, findings.map((finding) => ({ finding, action: 'delete' as const })), ctx()).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnprocessedItemsError);
        expect((error as UnprocessedItemsError).name).toBe('StoreUnavailable');
        expect((error as UnprocessedItemsError).store).toBe('payment-tokens');
        // 5 of the first chunk, and the 5 of the second chunk never sent.
        expect((error as UnprocessedItemsError).left).toBe(10);
        expect((error as Error).message).toMatch(/payment-tokens.*10 item\(s\) still unprocessed after 3 attempts/);
        expect((error as Error).message).not.toMatch(/cust-1|t\d/);
      } finally {
        stop();
      }
      expect(await dynamodbConnector.discover(store, { accountId: ['cust-1'] }, ctx())).toHaveLength(10);
    });
  });
});

describe('anonymize, redact-mentions, restrict', () => {
  const cdrTable = uniqueName('cdr');
  const cdrs = dynamoStore({
    name: 'call-records',
    category: 'call-metadata',
    table: cdrTable,
    key: { partitionKey: 'accountId', sortKey: 'callId' },
    lookups: [
      { identifier: 'accountId', attribute: 'accountId' },
      { identifier: 'phone', attribute: 'calleeNumber', index: 'by-callee', role: 'third-party' },
    ],
    thirdParty: { redact: { calleeNumber: { strategy: 'hmac' } }, exportFields: ['startTime', 'durationSeconds'] },
    dateField: 'startTime',
  });
  const contactsTable = uniqueName('contacts');
  const contacts = dynamoStore({
    name: 'contacts',
    category: 'contacts',
    table: contactsTable,
    key: { partitionKey: 'ownerAccountId', sortKey: 'contactId' },
    lookups: [
      { identifier: 'accountId', attribute: 'ownerAccountId' },
      { identifier: 'phone', attribute: 'contactPhone', index: 'by-contact-phone', role: 'third-party' },
      { identifier: 'email', attribute: 'contactEmail', index: 'by-contact-email', role: 'third-party' },
    ],
    thirdParty: {
      redact: {
        contactName: { strategy: 'redact', token: '[REDACTED]' },
        contactPhone: { strategy: 'redact', token: '[REDACTED]' },
        contactEmail: { strategy: 'redact', token: '[REDACTED]' },
      },
      exportFields: [],
    },
  });
  const profilesTable = uniqueName('profiles');
  const profiles = dynamoStore({
    name: 'profiles',
    table: profilesTable,
    key: { partitionKey: 'accountId' },
    lookups: [{ identifier: 'subjectId', attribute: 'accountId' }],
    erase: {
      mode: 'anonymize',
      fields: {
        name: { strategy: 'redact', token: '[REDACTED]' },
        email: { strategy: 'hmac' },
        birthDate: { strategy: 'generalize-date', to: 'year' },
        address: { strategy: 'null' },
        phones: { strategy: 'hmac' },
      },
    },
  });
  const subject: Identity = { subjectId: ['cust-1'], accountId: ['cust-1'], phone: ['+15550001'], email: ['alice@example.test'] };

  beforeAll(async () => {
    await Promise.all([
      createTable(local.client, { name: cdrTable, partitionKey: 'accountId', sortKey: 'callId', indexes: [{ name: 'by-callee', partitionKey: 'calleeNumber', projection: { include: ['startTime'] } }] }),
      createTable(local.client, {
        name: contactsTable,
        partitionKey: 'ownerAccountId',
        sortKey: 'contactId',
        indexes: [
          { name: 'by-contact-phone', partitionKey: 'contactPhone' },
          { name: 'by-contact-email', partitionKey: 'contactEmail' },
        ],
      }),
      createTable(local.client, { name: profilesTable, partitionKey: 'accountId' }),
    ]);
    await putItems(local.client, cdrTable, [
      { accountId: S('cust-1'), callId: S('a1'), calleeNumber: S('+15550009'), startTime: S('2026-01-01T10:00:00Z'), durationSeconds: N(30) },
      { accountId: S('cust-2'), callId: S('b1'), calleeNumber: S('+15550001'), callerNumber: S('+15550009'), startTime: S('2026-02-01T10:00:00Z'), durationSeconds: N(42) },
      { accountId: S('cust-2'), callId: S('b2'), calleeNumber: S('+15550009'), startTime: S('2026-02-02T10:00:00Z') },
    ]);
    await putItems(local.client, contactsTable, [
      // cust-2's card for the subject: phone matches, the email on the card is someone else's.
      { ownerAccountId: S('cust-2'), contactId: S('k1'), contactName: S('Alice'), contactPhone: S('+15550001'), contactEmail: S('bob@example.test'), note: S('neighbour') },
      // cust-2's card for Bob: untouched.
      { ownerAccountId: S('cust-2'), contactId: S('k2'), contactName: S('Bob'), contactPhone: S('+15550009'), contactEmail: S('bob@example.test') },
      // The subject's own card for Bob: owner record.
      { ownerAccountId: S('cust-1'), contactId: S('k3'), contactName: S('Bob'), contactPhone: S('+15550009') },
    ]);
    await putItems(local.client, profilesTable, [
      {
        accountId: S('cust-1'),
        name: S('Alice'),
        email: S('alice@example.test'),
        birthDate: S('1990-05-17'),
        address: S('1 Main St'),
        phones: { L: [S('+15550001'), S('+15550002')] },
        plan: S('unlimited'),
      },
      { accountId: S('cust-10'), name: S('Carol'), email: S('carol@example.test') },
    ]);
  });

  it('anonymize replaces the named fields per strategy and keeps the item', async () => {
    const findings = await dynamodbConnector.discover(profiles, subject, ctx());
    expect(findings).toHaveLength(1);
    const result = await dynamodbConnector.apply(profiles, subject, [{ finding: findings[0], action: 'anonymize' }], ctx());
    expect(result).toEqual({ applied: { anonymize: 1 }, refused: [], missing: [] });
    const item = await getItem(profilesTable, { accountId: { S: 'cust-1' } });
    expect(item?.name).toEqual({ S: '[REDACTED]' });
    expect(item?.email.S).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect(item?.birthDate).toEqual({ S: '1990' });
    expect(item?.address).toBeUndefined();
    expect(item?.phones.L?.map((e) => e.S)).toEqual([expect.stringMatching(/^hmac:/), expect.stringMatching(/^hmac:/)]);
    expect(item?.phones.L?.[0].S).toBe(ctx().anonymizer.apply({ strategy: 'hmac' }, '+15550001'));
    expect(item?.plan).toEqual({ S: 'unlimited' });
    const other = await getItem(profilesTable, { accountId: { S: 'cust-10' } });
    expect(other).toEqual({ accountId: { S: 'cust-10' }, name: { S: 'Carol' }, email: { S: 'carol@example.test' } });
  });

  it('redact-mentions changes only the subject values and their card, never the other person data', async () => {
    const found = [...(await dynamodbConnector.discover(cdrs, subject, ctx())), ...(await dynamodbConnector.discover(contacts, subject, ctx()))];
    const mentions = found.filter((f) => f.role === 'third-party');
    // b1 (callee) and k1 (contact phone); b2, k2 are not about the subject, a1 and k3 are the subject's own.
    expect(mentions.map((f) => f.store).sort()).toEqual(['call-records', 'contacts']);
    const cdrMention = mentions.find((f) => f.store === 'call-records') as Finding;
    const contactMention = mentions.find((f) => f.store === 'contacts') as Finding;
    expect(cdrMention.date).toBe('2026-02-01T10:00:00.000Z');
    expect(contactMention.fields).toEqual(['contactPhone']);

    await expect(dynamodbConnector.apply(cdrs, subject, [{ finding: cdrMention, action: 'redact-mentions' }], ctx())).resolves.toEqual({ applied: { 'redact-mentions': 1 }, refused: [], missing: [] });
    await dynamodbConnector.apply(contacts, subject, [{ finding: contactMention, action: 'redact-mentions' }], ctx());

    const b1 = await getItem(cdrTable, { accountId: { S: 'cust-2' }, callId: { S: 'b1' } });
    expect(b1?.calleeNumber.S).toBe(ctx().anonymizer.apply({ strategy: 'hmac' }, '+15550001'));
    expect(b1?.callerNumber).toEqual({ S: '+15550009' });
    expect(b1?.durationSeconds).toEqual({ N: '42' });
    const k1 = await getItem(contactsTable, { ownerAccountId: { S: 'cust-2' }, contactId: { S: 'k1' } });
    expect(k1).toEqual({
      ownerAccountId: { S: 'cust-2' },
      contactId: { S: 'k1' },
      contactName: { S: '[REDACTED]' },
      contactPhone: { S: '[REDACTED]' },
      // Not the subject's email: the other person's value stays.
      contactEmail: { S: 'bob@example.test' },
      note: { S: 'neighbour' },
    });
    const k2 = await getItem(contactsTable, { ownerAccountId: { S: 'cust-2' }, contactId: { S: 'k2' } });
    expect(k2?.contactName).toEqual({ S: 'Bob' });
    // The subject no longer appears in anyone else's data.
    expect((await dynamodbConnector.discover(contacts, subject, ctx())).filter((f) => f.role === 'third-party')).toEqual([]);
    expect((await dynamodbConnector.discover(cdrs, subject, ctx())).filter((f) => f.role === 'third-party')).toEqual([]);
    // Applying again is a no-op.
    await dynamodbConnector.apply(contacts, subject, [{ finding: contactMention, action: 'redact-mentions' }], ctx());
    expect(await getItem(contactsTable, { ownerAccountId: { S: 'cust-2' }, contactId: { S: 'k1' } })).toEqual(k1);
  });

  it('with allowScan finds the subject in list attributes exactly and redacts only their element', async () => {
    const table = uniqueName('conf');
    await createTable(local.client, { name: table, partitionKey: 'roomId' });
    await putItems(local.client, table, [
      { roomId: S('r1'), participants: { L: [S('+15550009'), S('+15550001'), N(7)] }, host: S('cust-2') },
      { roomId: S('r2'), participants: { L: [S('+155500010')] } },
      // A string that contains the number: contains() matches it, the exact comparison does not.
      { roomId: S('r3'), participants: S('+155500012') },
      { roomId: S('r4'), participants: { SS: ['+15550001', '+15550002'] } },
    ]);
    const store = dynamoStore({
      name: 'conferences',
      category: 'call-metadata',
      table,
      key: { partitionKey: 'roomId' },
      allowScan: true,
      lookups: [{ identifier: 'phone', attribute: 'participants', role: 'third-party' }],
      thirdParty: { redact: { participants: { strategy: 'redact', token: '[REDACTED]' } } },
    });
    const findings = await dynamodbConnector.discover(store, subject, ctx());
    expect(keysOf(findings)).toEqual(['r1', 'r4'].map((r) => JSON.stringify({ roomId: { S: r } })));
    await dynamodbConnector.apply(store, subject, findings.map((finding) => ({ finding, action: 'redact-mentions' as const })), ctx());
    expect((await getItem(table, { roomId: { S: 'r1' } }))?.participants).toEqual({ L: [S('+15550009'), S('[REDACTED]'), N(7)] });
    expect((await getItem(table, { roomId: { S: 'r4' } }))?.participants.SS?.sort()).toEqual(['+15550002', '[REDACTED]']);
    expect((await getItem(table, { roomId: { S: 'r3' } }))?.participants).toEqual(S('+155500012'));
    expect(await dynamodbConnector.discover(store, subject, ctx())).toEqual([]);
  });

  it('reports an item that vanished as missing and does not recreate it', async () => {
    const table = uniqueName('gone');
    await createTable(local.client, { name: table, partitionKey: 'accountId' });
    await putItems(local.client, table, [
      { accountId: S('cust-1'), name: S('Alice') },
      { accountId: S('cust-2'), name: S('Bob') },
    ]);
    const store = dynamoStore({ ...profiles, name: 'gone', table });
    const findings = await dynamodbConnector.discover(store, { subjectId: ['cust-1', 'cust-2'] }, ctx());
    expect(findings).toHaveLength(2);
    await local.client.send(new DeleteItemCommand({ TableName: table, Key: { accountId: { S: 'cust-1' } } }));
    const gone = findings.find((f) => JSON.stringify(f.locator).includes('cust-1')) as Finding;
    const kept = findings.find((f) => f !== gone) as Finding;
    const anonymized = await dynamodbConnector.apply(store, {}, [{ finding: gone, action: 'anonymize' }, { finding: kept, action: 'anonymize' }], ctx());
    expect(anonymized).toEqual({ applied: { anonymize: 1 }, refused: [], missing: [gone.id] });
    for (const action of ['restrict', 'unrestrict'] as const) {
      const r = await dynamodbConnector.apply(store, {}, [{ finding: gone, action }], ctx());
      expect(r).toEqual({ applied: {}, refused: [], missing: [gone.id] });
    }
    expect(await getItem(table, { accountId: { S: 'cust-1' } })).toBeUndefined();
    const exported = await collect(dynamodbConnector.export(store, { subjectId: ['cust-1', 'cust-2'] }, findings, ctx()));
    expect(exported.find((e) => e.findingId === gone.id)).toEqual({ type: 'missing', findingId: gone.id, reason: 'not-found' });
  });

  it('re-reads and retries when the item changes between read and write', async () => {
    const table = uniqueName('race');
    await createTable(local.client, { name: table, partitionKey: 'accountId' });
    await putItems(local.client, table, [{ accountId: S('cust-1'), name: S('Alice'), email: S('alice@example.test') }]);
    const store = dynamoStore({ ...profiles, name: 'race', table });
    const [finding] = await dynamodbConnector.discover(store, { subjectId: ['cust-1'] }, ctx());
    // Between the connector's read and its first UpdateItem, the name changes.
    const name = `race-${Math.random()}`;
    let raced = false;
    local.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand' && !raced) {
          raced = true;
          await local.client.send(new PutItemCommand({ TableName: table, Item: { accountId: S('cust-1'), name: S('Alicia'), email: S('alice@example.test') } }));
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      const result = await dynamodbConnector.apply(store, {}, [{ finding, action: 'anonymize' }], ctx());
      expect(result.applied).toEqual({ anonymize: 1 });
    } finally {
      local.client.middlewareStack.remove(name);
    }
    expect(raced).toBe(true);
    const item = await getItem(table, { accountId: { S: 'cust-1' } });
    expect(item?.name).toEqual({ S: '[REDACTED]' });
    expect(item?.email.S).toBe(ctx().anonymizer.apply({ strategy: 'hmac' }, 'alice@example.test'));
  });

  it('restrict sets a marker without personal values, discover reports it, unrestrict lifts it', async () => {
    const [finding] = await dynamodbConnector.discover(contacts, { accountId: ['cust-1'] }, ctx());
    const restricted = await dynamodbConnector.apply(contacts, subject, [{ finding, action: 'restrict' }], ctx());
    expect(restricted).toEqual({ applied: { restrict: 1 }, refused: [], missing: [] });
    const key = { ownerAccountId: { S: 'cust-1' }, contactId: { S: 'k3' } };
    const marked = await getItem(contactsTable, key);
    expect(marked?.[RESTRICTION_MARKER]).toEqual({ M: { at: { S: FIXED_NOW.toISOString() }, reason: { S: RESTRICTION_REASON } } });
    expect(marked?.contactName).toEqual({ S: 'Bob' });
    const [again] = await dynamodbConnector.discover(contacts, { accountId: ['cust-1'] }, ctx());
    expect(again.restricted).toBe(true);
    expect(again.id).toBe(finding.id);
    // Restricting again later keeps the first time.
    await dynamodbConnector.apply(contacts, subject, [{ finding, action: 'restrict' }], { ...ctx(), now: new Date('2030-01-01T00:00:00Z') });
    expect((await getItem(contactsTable, key))?.[RESTRICTION_MARKER].M?.at).toEqual({ S: FIXED_NOW.toISOString() });
    // The marker never reaches an export.
    const [exported] = await collect(dynamodbConnector.export(contacts, subject, [again], ctx()));
    expect(exported).toEqual({ type: 'record', findingId: finding.id, role: 'owner', record: { ownerAccountId: 'cust-1', contactId: 'k3', contactName: 'Bob', contactPhone: '+15550009' } });
    await dynamodbConnector.apply(contacts, subject, [{ finding, action: 'unrestrict' }], ctx());
    expect((await getItem(contactsTable, key))?.[RESTRICTION_MARKER]).toBeUndefined();
    const [lifted] = await dynamodbConnector.discover(contacts, { accountId: ['cust-1'] }, ctx());
    expect(lifted.restricted).toBeUndefined();
  });

  it('keep touches nothing; actions on findings of another store are refused', async () => {
    const [finding] = await dynamodbConnector.discover(contacts, { accountId: ['cust-1'] }, ctx());
    const before = await getItem(contactsTable, { ownerAccountId: { S: 'cust-1' }, contactId: { S: 'k3' } });
    expect(await dynamodbConnector.apply(contacts, subject, [{ finding, action: 'keep' }], ctx())).toEqual({ applied: { keep: 1 }, refused: [], missing: [] });
    expect(await getItem(contactsTable, { ownerAccountId: { S: 'cust-1' }, contactId: { S: 'k3' } })).toEqual(before);
    await expect(dynamodbConnector.apply(cdrs, subject, [{ finding, action: 'delete' }], ctx())).rejects.toThrow(InvalidInputError);
    await expect(dynamodbConnector.apply(contacts, subject, [{ finding, action: 'delete' }, { finding, action: 'keep' }], ctx())).rejects.toThrow(/two actions/);
  });
});

describe('export', () => {
  const table = uniqueName('export-cdr');
  const store = dynamoStore({
    name: 'call-records',
    category: 'call-metadata',
    table,
    key: { partitionKey: 'accountId', sortKey: 'callId' },
    lookups: [
      { identifier: 'accountId', attribute: 'accountId' },
      { identifier: 'phone', attribute: 'calleeNumber', index: 'by-callee', role: 'third-party' },
    ],
    // accountId is listed by mistake: a key attribute (the other person's account) is never exported.
    thirdParty: { redact: { calleeNumber: { strategy: 'hmac' } }, exportFields: ['startTime', 'durationSeconds', 'accountId'] },
  });

  beforeAll(async () => {
    await createTable(local.client, { name: table, partitionKey: 'accountId', sortKey: 'callId', indexes: [{ name: 'by-callee', partitionKey: 'calleeNumber', projection: 'KEYS_ONLY' }] });
    await putItems(local.client, table, [
      {
        accountId: S('cust-1'),
        callId: S('a1'),
        calleeNumber: S('+15550009'),
        startTime: S('2026-01-01T10:00:00Z'),
        durationSeconds: N(30),
        tags: { SS: ['work', 'intl'] },
        big: { N: '12345678901234567890' },
        meta: { M: { codec: S('opus'), ok: { BOOL: true }, none: { NULL: true } } },
      },
      { accountId: S('cust-2'), callId: S('b1'), calleeNumber: S('+15550001'), callerNumber: S('+15550009'), startTime: S('2026-02-01T10:00:00Z'), durationSeconds: N(42), notes: S('Bob called Alice') },
    ]);
  });

  it('exports owner items whole as plain JSON and third-party items reduced to the subject', async () => {
    const identity: Identity = { accountId: ['cust-1'], phone: ['+15550001'] };
    const findings = await dynamodbConnector.discover(store, identity, ctx());
    expect(findings.map((f) => f.role).sort()).toEqual(['owner', 'third-party']);
    const exported = await collect(dynamodbConnector.export(store, identity, findings, ctx()));
    const owner = exported.find((e) => e.type === 'record' && e.role === 'owner');
    expect(owner).toMatchObject({
      record: {
        accountId: 'cust-1',
        callId: 'a1',
        calleeNumber: '+15550009',
        startTime: '2026-01-01T10:00:00Z',
        durationSeconds: 30,
        tags: ['intl', 'work'],
        big: '12345678901234567890',
        meta: { codec: 'opus', ok: true, none: null },
      },
    });
    const third = exported.find((e) => e.type === 'record' && e.role === 'third-party');
    // exportFields (minus the key attribute) and the subject's own number in the matched field:
    // never the other person's account, number or notes.
    expect(third).toEqual({
      type: 'record',
      findingId: findings.find((f) => f.role === 'third-party')?.id,
      role: 'third-party',
      record: { startTime: '2026-02-01T10:00:00Z', durationSeconds: 42, calleeNumber: '+15550001' },
    });
    expect(JSON.stringify(third)).not.toMatch(/cust-2|Bob called|\+15550009/);
  });

  it('exports an owner finding whose item no longer belongs to the subject only as far as it mentions them', async () => {
    const accountsTable = uniqueName('export-accounts');
    await createTable(local.client, {
      name: accountsTable,
      partitionKey: 'accountId',
      indexes: [
        { name: 'by-email', partitionKey: 'email' },
        { name: 'by-referrer', partitionKey: 'referrerEmail' },
      ],
    });
    await putItems(local.client, accountsTable, [{ accountId: S('cust-2'), email: S('alice@example.test'), referrerEmail: S('alice@example.test'), name: S('Bob') }]);
    const accounts = dynamoStore({
      name: 'accounts',
      table: accountsTable,
      key: { partitionKey: 'accountId' },
      lookups: [
        { identifier: 'email', attribute: 'email', index: 'by-email' },
        { identifier: 'email', attribute: 'referrerEmail', index: 'by-referrer', role: 'third-party' },
      ],
      thirdParty: { redact: { referrerEmail: { strategy: 'hmac' } }, exportFields: [] },
    });
    const identity: Identity = { email: ['alice@example.test'] };
    const [finding] = await dynamodbConnector.discover(accounts, identity, ctx());
    expect(finding).toMatchObject({ role: 'owner', fields: ['email', 'referrerEmail'] });
    // The account's e-mail changes after discovery: it is Bob's account that names the subject as referrer.
    await local.client.send(new PutItemCommand({ TableName: accountsTable, Item: { accountId: S('cust-2'), email: S('bob@example.test'), referrerEmail: S('alice@example.test'), name: S('Bob') } }));
    const [out] = await collect(dynamodbConnector.export(accounts, identity, [finding], ctx()));
    expect(out).toEqual({ type: 'record', findingId: finding.id, role: 'third-party', record: { referrerEmail: 'alice@example.test' } });
    const [nothing] = await collect(dynamodbConnector.export(accounts, { email: ['carol@example.test'] }, [finding], ctx()));
    expect(nothing).toEqual({ type: 'missing', findingId: finding.id, reason: 'no-longer-matches' });
  });

  it('refuses a finding whose id does not match its locator', async () => {
    const [finding] = await dynamodbConnector.discover(store, { accountId: ['cust-1'] }, ctx());
    const forged: Finding = { ...finding, locator: { type: 'dynamodb', table, key: { accountId: { S: 'cust-2' }, callId: { S: 'b1' } } } };
    await expect(collect(dynamodbConnector.export(store, { accountId: ['cust-1'] }, [forged], ctx()))).rejects.toThrow(/does not match its locator/);
    await expect(dynamodbConnector.apply(store, { accountId: ['cust-1'] }, [{ finding: forged, action: 'delete' }], ctx())).rejects.toThrow(InvalidInputError);
    expect(await getItem(table, { accountId: { S: 'cust-2' }, callId: { S: 'b1' } })).toBeDefined();
  });
});

describe('findItems', () => {
  it('restricts discovery to the requested roles', async () => {
    const table = uniqueName('roles');
    await createTable(local.client, { name: table, partitionKey: 'accountId', indexes: [{ name: 'by-phone', partitionKey: 'phone' }] });
    await putItems(local.client, table, [
      { accountId: S('cust-1'), phone: S('+15550009') },
      { accountId: S('cust-2'), phone: S('+15550001') },
    ]);
    const store = dynamoStore({
      name: 'roles',
      table,
      key: { partitionKey: 'accountId' },
      lookups: [
        { identifier: 'accountId', attribute: 'accountId' },
        { identifier: 'phone', attribute: 'phone', index: 'by-phone', role: 'third-party' },
      ],
      thirdParty: { redact: { phone: { strategy: 'hmac' } } },
    });
    const counter = countRequests(local.client);
    try {
      const { items, stats } = await findItems(store, { accountId: ['cust-1'], phone: ['+15550001'] }, { dynamodb: local.client }, { roles: ['owner'] });
      expect(items.map((i) => i.item.accountId.S)).toEqual(['cust-1']);
      expect(stats).toMatchObject({ queries: 1, scans: 0 });
      expect(counter.counts.QueryCommand).toBe(1);
    } finally {
      counter.stop();
    }
  });
});
