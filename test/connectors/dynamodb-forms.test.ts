/**
 * DynamoDB discovery finds every written form of the subject's number and address, against
 * DynamoDB Local: a contact card typed `(514) 555-0101` is the subject's `+15145550101`, a near
 * miss never is; a mixed-case address is found through the lower-cased copy the lookup names
 * (`stored: "canonical"`); redaction replaces the stored written form.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamodbConnector, findItems } from '../../functions/connectors/dynamodb';
import { lookupQueryValues } from '../../functions/connectors/dynamodb-forms';
import type { Finding, Identity } from '../../functions/connectors/types';
import { parseDataMap } from '../../functions/core/datamap';
import { normalize } from '../../functions/core/identifiers';
import { countRequests, createTable, dynamoStore, expectLogsFreeOf, putItems, S, startLocalDynamo, testContext, uniqueName, type LocalDynamo, type LogEntry } from './dynamodb-fixtures';

let local: LocalDynamo;
const logs: LogEntry[] = [];
const SUBJECT = '+15145550101';
const personal = ['cust-1', 'cust-2', '5145550101', '555-0101', '555 0101', '555-0102', '4385550101', 'Jean', 'jean.tremblay', 'Tremblay', 'example.com', 'EXAMPLE'];

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
const contactId = (f: Finding): string => (f.locator as { key: Record<string, { S: string }> }).key.contactId.S;

describe('written forms of a phone number and an email in contact cards', () => {
  const table = uniqueName('contacts');
  const store = dynamoStore({
    name: 'contacts',
    category: 'contacts',
    table,
    key: { partitionKey: 'ownerAccountId', sortKey: 'contactId' },
    identifiers: { phone: { defaultCountry: 'CA' } },
    lookups: [
      { identifier: 'accountId', attribute: 'ownerAccountId' },
      { identifier: 'phone', attribute: 'contactPhone', index: 'by-contact-phone', role: 'third-party' },
      // The address as typed (a declared identifier: bundles mask it) and the lower-cased copy that finds it.
      { identifier: 'email', attribute: 'contactEmail', index: 'by-contact-email', role: 'third-party' },
      { identifier: 'email', attribute: 'contactEmailNormalized', index: 'by-contact-email-normalized', role: 'third-party', stored: 'canonical' },
    ],
    thirdParty: {
      redact: {
        contactName: { strategy: 'redact', token: '[REDACTED]' },
        contactPhone: { strategy: 'redact', token: '[REDACTED]' },
        contactEmail: { strategy: 'redact', token: '[REDACTED]' },
        contactEmailNormalized: { strategy: 'null' },
      },
    },
  });
  // The subject's identity as resolution gives it: the account's stored forms and canonical forms.
  const subject: Identity = { accountId: ['cust-1'], phone: [SUBJECT], email: ['Jean.Tremblay@Example.COM', 'jean.tremblay@example.com'] };
  const card = (id: string, phone: string, extra: Record<string, string> = {}) => ({
    ownerAccountId: S('cust-2'),
    contactId: S(id),
    contactName: S(`Contact ${id}`),
    contactPhone: S(phone),
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, S(v)])),
  });

  beforeAll(async () => {
    await createTable(local.client, {
      name: table,
      partitionKey: 'ownerAccountId',
      sortKey: 'contactId',
      indexes: [
        { name: 'by-contact-phone', partitionKey: 'contactPhone', projection: 'KEYS_ONLY' },
        { name: 'by-contact-email', partitionKey: 'contactEmail', projection: 'KEYS_ONLY' },
        { name: 'by-contact-email-normalized', partitionKey: 'contactEmailNormalized', projection: 'KEYS_ONLY' },
      ],
    });
    await putItems(local.client, table, [
      card('p-paren', '(514) 555-0101'),
      card('p-dash', '514-555-0101'),
      card('p-spaced', '+1 514 555 0101'),
      card('p-quebec', '514 555-0101'),
      card('p-e164', SUBJECT),
      // Near misses: another line, another area code, one digit more.
      card('n-line', '(514) 555-0102'),
      card('n-area', '+14385550101'),
      card('n-longer', '514-555-01011'),
      // The address as typed, and the portal's lower-cased copy the index is on.
      card('e-mixed', '+14385550199', { contactEmail: 'Jean.Tremblay@Example.COM', contactEmailNormalized: 'jean.tremblay@example.com' }),
      // Typed in capitals: only the lower-cased copy finds it.
      card('e-upper', '+14385550197', { contactEmail: 'JEAN.TREMBLAY@EXAMPLE.COM', contactEmailNormalized: 'jean.tremblay@example.com' }),
      card('e-other', '+14385550198', { contactEmail: 'Jean.Tremblay@Example.COM.evil', contactEmailNormalized: 'jean.tremblay@example.com.evil' }),
    ]);
  });

  it('queries the common written forms once each, only those that read back to the number', () => {
    const forms = lookupQueryValues(store.lookups[1], [SUBJECT], store.identifiers ?? {});
    expect(forms).toEqual(expect.arrayContaining([SUBJECT, '15145550101', '5145550101', '(514) 555-0101', '514-555-0101', '514.555.0101', '1-514-555-0101', '+1 514 555 0101', '514 555-0101']));
    expect(new Set(forms).size).toBe(forms.length);
    for (const f of forms) expect(normalize('phone', f, { phone: { defaultCountry: 'CA' } })).toBe(SUBJECT);
    // Without a default country a national form could never be confirmed: it is not queried.
    expect(lookupQueryValues(store.lookups[1], [SUBJECT], {})).not.toContain('514-555-0101');
    // A lookup on canonical values: one Query per canonical value.
    expect(lookupQueryValues(store.lookups[2], subject.email ?? [], {})).toEqual(['Jean.Tremblay@Example.COM', 'jean.tremblay@example.com']);
    expect(lookupQueryValues(store.lookups[3], subject.email ?? [], {})).toEqual(['jean.tremblay@example.com']);
  });

  it('finds every written form of the number and the mixed-case address, never a near miss', async () => {
    const counter = countRequests(local.client);
    try {
      const findings = await dynamodbConnector.discover(store, subject, ctx());
      expect(findings.map(contactId).sort()).toEqual(['e-mixed', 'e-upper', 'p-dash', 'p-e164', 'p-paren', 'p-quebec', 'p-spaced']);
      expect(findings.every((f) => f.role === 'third-party')).toBe(true);
      expect(findings.find((f) => contactId(f) === 'e-mixed')?.fields).toEqual(['contactEmail', 'contactEmailNormalized']);
      // Discovery needs no Scan: Queries on the table key and the two indexes, one BatchGetItem.
      expect(counter.counts.ScanCommand).toBeUndefined();
      expect(counter.counts.BatchGetItemCommand).toBe(1);
    } finally {
      counter.stop();
    }
    const log = logs.filter((l) => l.event === 'dynamodb.discover').pop()?.fields ?? {};
    const forms = lookupQueryValues(store.lookups[1], [SUBJECT], store.identifiers ?? {}).length;
    // cust-1 on the key, each phone form on its index, the stored forms of the address on the
    // typed index (a key condition is case-sensitive: neither finds `Jean.Tremblay@Example.COM`
    // typed otherwise), the lower-cased address on the normalized index.
    expect(log).toMatchObject({ queries: 1 + forms + 2 + 1, formQueries: forms - 1, findings: 7, scans: 0 });
  });

  it('finds the same cards for a subject whose number the account stores as typed', async () => {
    const { items } = await findItems(store, { phone: ['514.555.0101', SUBJECT] }, ctx());
    expect(items.map((m) => m.key.contactId.S).sort()).toEqual(['p-dash', 'p-e164', 'p-paren', 'p-quebec', 'p-spaced']);
  });

  it('a written form of another number finds only that number’s card', async () => {
    // `(514) 555-0102` is queried and confirmed for the subject whose number it is, never for ours.
    const { items } = await findItems(store, { phone: ['+15145550102'] }, ctx());
    expect(items.map((m) => m.key.contactId.S)).toEqual(['n-line']);
  });

  it('redacts the stored written forms and the normalized copy; the subject is then found nowhere', async () => {
    const findings = await dynamodbConnector.discover(store, subject, ctx());
    const result = await dynamodbConnector.apply(store, subject, findings.map((finding) => ({ finding, action: 'redact-mentions' as const })), ctx());
    expect(result).toEqual({ applied: { 'redact-mentions': 7 }, refused: [], missing: [] });
    const get = async (id: string) => (await local.client.send(new GetItemCommand({ TableName: table, Key: { ownerAccountId: S('cust-2'), contactId: S(id) }, ConsistentRead: true }))).Item;
    for (const id of ['p-paren', 'p-dash', 'p-spaced', 'p-quebec', 'p-e164']) {
      expect(await get(id)).toEqual({ ownerAccountId: S('cust-2'), contactId: S(id), contactName: S('[REDACTED]'), contactPhone: S('[REDACTED]') });
    }
    expect(await get('e-mixed')).toEqual({ ownerAccountId: S('cust-2'), contactId: S('e-mixed'), contactName: S('[REDACTED]'), contactPhone: S('+14385550199'), contactEmail: S('[REDACTED]') });
    expect(await get('e-upper')).toEqual({ ownerAccountId: S('cust-2'), contactId: S('e-upper'), contactName: S('[REDACTED]'), contactPhone: S('+14385550197'), contactEmail: S('[REDACTED]') });
    // Near misses untouched.
    expect((await get('n-line'))?.contactPhone).toEqual(S('(514) 555-0102'));
    expect((await get('n-longer'))?.contactPhone).toEqual(S('514-555-01011'));
    expect((await get('e-other'))?.contactEmail).toEqual(S('Jean.Tremblay@Example.COM.evil'));
    expect(await dynamodbConnector.discover(store, subject, ctx())).toEqual([]);
  });
});

describe('the data map', () => {
  const map = (lookup: Record<string, unknown>) => ({
    version: 1,
    stores: [{ name: 'accounts', kind: 'dynamodb', category: 'account', table: 'accounts', key: { partitionKey: 'accountId' }, lookups: [{ identifier: 'subjectId', attribute: 'accountId' }, lookup] }],
  });

  it('refuses an unknown "stored" and "stored" on an identifier matched as written, naming the path', () => {
    expect(() => parseDataMap(map({ identifier: 'email', attribute: 'emailLower', index: 'by-email', stored: 'lowercase' }))).toThrow(
      /stores\[0\]\.lookups\[1\]\.stored: must be "any-form" .* or "canonical"/,
    );
    expect(() => parseDataMap(map({ identifier: 'accountId', attribute: 'parent', index: 'by-parent', stored: 'canonical' }))).toThrow(
      /stores\[0\]\.lookups\[1\]\.stored: accountId values are matched exactly as written/,
    );
  });

  it('gives every table the map-wide identifier settings unless it has its own', () => {
    const parsed = parseDataMap({ ...map({ identifier: 'email', attribute: 'email', index: 'by-email' }), identifiers: { phone: { defaultCountry: 'CA' } } });
    expect(parsed.stores[0]).toMatchObject({ identifiers: { phone: { defaultCountry: 'CA' } } });
    expect(parsed.stores[0].kind === 'dynamodb' && parsed.stores[0].lookups[1].stored).toBe('any-form');
  });
});
