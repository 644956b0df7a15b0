/**
 * Identity resolution against DynamoDB Local: a chain account → phone → device → ip that needs
 * three query rounds, exact values, owner lookups only, and the guards.
 */
import { connectorFor } from '../../functions/connectors';
import type { ConnectorRegistry } from '../../functions/connectors/types';
import { DataMapError } from '../../functions/core/errors';
import { resolveIdentity, IdentityResolutionError } from '../../functions/core/identity';
import { parseDataMap, type DataMap } from '../../functions/core/datamap';
import {
  countRequests,
  createTable,
  expectLogsFreeOf,
  putItems,
  S,
  startLocalDynamo,
  testContext,
  uniqueName,
  type LocalDynamo,
  type LogEntry,
} from '../connectors/dynamodb-fixtures';

let local: LocalDynamo;
const logs: LogEntry[] = [];
const personal = ['cust-1', 'cust-2', 'alice@example.test', 'ALICE@', 'bob@example.test', '+1555000', 'alice.sip', 'dev-1', 'dev-2', '192.0.2.'];
const accounts = uniqueName('accounts');
const lines = uniqueName('lines');
const devices = uniqueName('devices');
let dataMap: DataMap;

beforeAll(async () => {
  local = await startLocalDynamo();
  await Promise.all([
    createTable(local.client, {
      name: accounts,
      partitionKey: 'accountId',
      indexes: [
        { name: 'by-email', partitionKey: 'email', projection: 'KEYS_ONLY' },
        { name: 'by-referrer', partitionKey: 'referrerPhone' },
      ],
    }),
    createTable(local.client, { name: lines, partitionKey: 'phone' }),
    createTable(local.client, { name: devices, partitionKey: 'deviceId' }),
  ]);
  await putItems(local.client, accounts, [
    { accountId: S('cust-1'), email: S('alice@example.test'), phoneNumbers: { SS: ['+15550001', '+15550002'] }, sipUsername: S('alice.sip') },
    // A second account with the subject's email: linked in round 2.
    { accountId: S('cust-1b'), email: S('alice@example.test'), phoneNumbers: { L: [S('+15550002')] } },
    // Same email in another case, and a longer id: different identifiers.
    { accountId: S('cust-10'), email: S('ALICE@example.test'), phoneNumbers: { SS: ['+15550010'] } },
    // Someone referred by the subject's phone: a third-party mention, never part of the identity.
    { accountId: S('cust-2'), email: S('bob@example.test'), referrerPhone: S('+15550001'), phoneNumbers: { SS: ['+15550020'] } },
  ]);
  await putItems(local.client, lines, [
    { phone: S('+15550001'), deviceId: S('dev-1') },
    { phone: S('+15550002'), deviceId: S('dev-2') },
    { phone: S('+15550010'), deviceId: S('dev-10') },
    { phone: S('+15550020'), deviceId: S('dev-20') },
  ]);
  await putItems(local.client, devices, [
    { deviceId: S('dev-1'), lastIp: S('192.0.2.1') },
    { deviceId: S('dev-2'), lastIp: S('192.0.2.1') },
    { deviceId: S('dev-10'), lastIp: S('192.0.2.10') },
  ]);
  dataMap = parseDataMap({
    version: 1,
    stores: [
      {
        name: 'accounts',
        kind: 'dynamodb',
        category: 'account',
        table: accounts,
        key: { partitionKey: 'accountId' },
        lookups: [
          { identifier: 'subjectId', attribute: 'accountId' },
          { identifier: 'email', attribute: 'email', index: 'by-email' },
          { identifier: 'phone', attribute: 'referrerPhone', index: 'by-referrer', role: 'third-party' },
        ],
        thirdParty: { redact: { referrerPhone: { strategy: 'hmac' } } },
        yields: { accountId: 'accountId', email: 'email', phoneNumbers: 'phone', sipUsername: 'sipUsername' },
      },
      {
        name: 'phone-lines',
        kind: 'dynamodb',
        category: 'account',
        table: lines,
        key: { partitionKey: 'phone' },
        lookups: [{ identifier: 'phone', attribute: 'phone' }],
        yields: { deviceId: 'deviceId' },
      },
      {
        name: 'devices',
        kind: 'dynamodb',
        category: 'devices',
        table: devices,
        key: { partitionKey: 'deviceId' },
        lookups: [{ identifier: 'deviceId', attribute: 'deviceId' }],
        yields: { lastIp: 'ip' },
      },
      // No yields: never queried by identity resolution.
      {
        name: 'invoices',
        kind: 'dynamodb',
        category: 'billing',
        table: 'no-such-table',
        key: { partitionKey: 'accountId' },
        lookups: [{ identifier: 'accountId', attribute: 'accountId' }],
      },
    ],
  });
}, 120_000);

afterAll(async () => {
  try {
    expectLogsFreeOf(logs, personal);
  } finally {
    await local?.close();
  }
});

describe('resolveIdentity', () => {
  it('follows account → phone → device → ip to a fixpoint in three rounds, querying each value once', async () => {
    const counter = countRequests(local.client);
    try {
      const result = await resolveIdentity(dataMap, 'cust-1', connectorFor, testContext(local.client, logs));
      expect(result.found).toBe(true);
      expect(result.rounds).toBe(3);
      const sorted = Object.fromEntries(Object.entries(result.identity).map(([t, v]) => [t, [...(v ?? [])].sort()]));
      expect(sorted).toEqual({
        subjectId: ['cust-1'],
        accountId: ['cust-1', 'cust-1b'],
        email: ['alice@example.test'],
        phone: ['+15550001', '+15550002'],
        sipUsername: ['alice.sip'],
        deviceId: ['dev-1', 'dev-2'],
        ip: ['192.0.2.1'],
      });
      expect(result.counts).toEqual({ subjectId: 1, accountId: 2, email: 1, phone: 2, sipUsername: 1, deviceId: 2, ip: 1 });
      // Round 1: subjectId on accounts. Round 2: email on accounts' index, two phones on lines.
      // Round 3: two devices. The referrer index (third-party) is never queried; no Scan.
      expect(counter.counts.QueryCommand).toBe(6);
      expect(counter.counts.ScanCommand).toBeUndefined();
      // The KEYS_ONLY email index is followed by one BatchGetItem for the whole items.
      expect(counter.counts.BatchGetItemCommand).toBe(1);
    } finally {
      counter.stop();
    }
  });

  it('keeps values exactly as stored: no case folding, no prefix matches', async () => {
    const result = await resolveIdentity(dataMap, 'cust-1', connectorFor, testContext(local.client, logs));
    const all = Object.values(result.identity).flat();
    expect(all).not.toContain('ALICE@example.test');
    expect(all).not.toContain('cust-10');
    expect(all).not.toContain('cust-2');
    expect(all).not.toContain('+15550020');
  });

  it('an unknown subject is not found, after one round', async () => {
    const result = await resolveIdentity(dataMap, 'cust-404', connectorFor, testContext(local.client, logs));
    expect(result).toEqual({ identity: { subjectId: ['cust-404'] }, rounds: 1, found: false, counts: { subjectId: 1 } });
  });

  it('a subject found only through another identifier is not "found"', async () => {
    // Any account id is a subject id of the accounts store.
    expect((await resolveIdentity(dataMap, 'cust-1b', connectorFor, testContext(local.client, logs))).found).toBe(true);
    // The phone-lines table is keyed by phone; a phone number given as subject id matches no subjectId lookup.
    expect((await resolveIdentity(dataMap, '+15550001', connectorFor, testContext(local.client, logs))).found).toBe(false);
  });

  it('stops with a clear error when the chain is longer than maxRounds', async () => {
    const error = await resolveIdentity(dataMap, 'cust-1', connectorFor, testContext(local.client, logs), { maxRounds: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityResolutionError);
    expect((error as Error).message).toBe('identity resolution did not reach a fixpoint within 2 rounds');
    expect((error as Error).name).toBe('IdentityResolutionError');
  });

  it('stops with a clear error when too many identifiers chain together', async () => {
    const error = await resolveIdentity(dataMap, 'cust-1', connectorFor, testContext(local.client, logs), { maxIdentifiers: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityResolutionError);
    expect((error as Error).message).toMatch(/more than 5 identifiers/);
    expect(JSON.stringify((error as IdentityResolutionError).details)).not.toMatch(/cust-1|alice/);
  });

  it('reads only through the registry it is given: each source store is asked by its connector, owner lookups only', async () => {
    const asked: string[] = [];
    const counting: ConnectorRegistry = (store) => {
      const connector = connectorFor(store);
      return {
        ...connector,
        findOwnerRecords: async (s, identity, ctx) => {
          asked.push(s.name);
          return connector.findOwnerRecords!(s, identity, ctx);
        },
      };
    };
    const result = await resolveIdentity(dataMap, 'cust-1', counting, testContext(local.client, logs));
    expect(result.found).toBe(true);
    expect(result.identity.ip).toEqual(['192.0.2.1']);
    // Rounds: accounts; accounts (email) and phone-lines; devices. Invoices yield nothing: never asked.
    expect([...new Set(asked)].sort()).toEqual(['accounts', 'devices', 'phone-lines']);
  });

  it('refuses a store that declares yields when its connector cannot look up owner records', async () => {
    const without: ConnectorRegistry = (store) => ({ ...connectorFor(store), findOwnerRecords: undefined });
    const error = await resolveIdentity(dataMap, 'cust-1', without, testContext(local.client, logs)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataMapError);
    expect((error as DataMapError).message).toBe('store accounts declares yields, but its connector (dynamodb) cannot look up owner records');
  });
});

describe('resolveIdentity: stored forms and canonical forms', () => {
  const nAccounts = uniqueName('n-accounts');
  const nLines = uniqueName('n-lines');
  let map: DataMap;

  beforeAll(async () => {
    await Promise.all([
      createTable(local.client, { name: nAccounts, partitionKey: 'accountId', indexes: [{ name: 'by-email', partitionKey: 'email' }] }),
      createTable(local.client, { name: nLines, partitionKey: 'phone' }),
    ]);
    await putItems(local.client, nAccounts, [
      // A portal that stored the number as the customer typed it, and the address in capitals.
      { accountId: S('cust-7'), email: S('Jean.Tremblay@Example.COM'), phoneNumbers: { L: [S('(514) 555-0101')] } },
    ]);
    await putItems(local.client, nLines, [
      // The switch writes E.164.
      { phone: S('+15145550101'), deviceId: S('dev-7') },
      // Another person's number sharing the subject's last seven digits.
      { phone: S('+14385550101'), deviceId: S('dev-8') },
    ]);
    map = parseDataMap({
      version: 1,
      identifiers: { phone: { defaultCountry: 'CA' } },
      stores: [
        {
          name: 'accounts',
          kind: 'dynamodb',
          category: 'account',
          table: nAccounts,
          key: { partitionKey: 'accountId' },
          lookups: [{ identifier: 'subjectId', attribute: 'accountId' }],
          yields: { email: 'email', phoneNumbers: 'phone' },
        },
        {
          name: 'phone-lines',
          kind: 'dynamodb',
          category: 'account',
          table: nLines,
          key: { partitionKey: 'phone' },
          lookups: [{ identifier: 'phone', attribute: 'phone' }],
          yields: { deviceId: 'deviceId' },
        },
      ],
    });
  });

  it('an account storing "(514) 555-0101" finds the records written "+15145550101", and no other number', async () => {
    const result = await resolveIdentity(map, 'cust-7', connectorFor, testContext(local.client, logs));
    expect([...(result.identity.phone ?? [])].sort()).toEqual(['(514) 555-0101', '+15145550101']);
    expect(result.identity.deviceId).toEqual(['dev-7']);
    expect([...(result.identity.email ?? [])].sort()).toEqual(['Jean.Tremblay@Example.COM', 'jean.tremblay@example.com']);
    // One number and one address, each counted once.
    expect(result.counts).toEqual({ subjectId: 1, email: 1, phone: 1, deviceId: 1 });
  });

  it('without a default country, a national number is kept as stored only', async () => {
    // The parsed map copies the identifier settings into each store: take them out there too.
    const raw = JSON.parse(JSON.stringify(map)) as { stores: Array<Record<string, unknown>> };
    const bare = parseDataMap({ ...raw, identifiers: {}, stores: raw.stores.map(({ identifiers: _drop, ...store }) => store) });
    const result = await resolveIdentity(bare, 'cust-7', connectorFor, testContext(local.client, logs));
    expect(result.identity.phone).toEqual(['(514) 555-0101']);
    expect(result.identity.deviceId).toBeUndefined();
  });
});
