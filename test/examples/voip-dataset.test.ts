/**
 * The reference operator's dataset generator, without any store: determinism, the near-miss
 * identifiers, and subjects.json checked against an independent count over the generated data.
 */
import { voipDataMap } from '../../examples/voip-operator';
import {
  DatasetError,
  generateDataset,
  LOG_STORES,
  MEDIA_STORES,
  SCALES,
  SPECIAL_SUBJECT_ID,
  type SubjectEntry,
} from '../../examples/voip-operator/generator';
import { OPERATOR_BUCKETS, OPERATOR_TABLES } from '../../examples/voip-operator/infrastructure';
import { seedReferenceDataset } from '../../examples/voip-operator/seed';
import { normalize } from '../../functions/core/identifiers';
import { expandTemplate, type DynamoDbStore, type IdentifierType, type S3ObjectsStore, type S3RecordsStore } from '../../functions/core/datamap';
import { containsToken, datasetHash, materialise, parseLog, phonesIn, valueAt, writtenMatch, type Materialised, type ParsedLog } from './voip-support';

const map = voipDataMap();
const dynamoStores = map.stores.filter((s): s is DynamoDbStore => s.kind === 'dynamodb');
const objectStores = map.stores.filter((s): s is S3ObjectsStore => s.kind === 's3-objects');
const recordStores = map.stores.filter((s): s is S3RecordsStore => s.kind === 's3-records');

let data: Materialised;
let parsed: ParsedLog[];

beforeAll(async () => {
  data = await materialise(generateDataset({ scale: 'small', seed: 42 }));
  parsed = data.logs.map(parseLog);
});

const subject = (id: string): SubjectEntry => {
  const s = data.report.subjects.find((x) => x.subjectId === id);
  if (!s) throw new Error(`no subject ${id}`);
  return s;
};
const itemsOf = (table: string) => data.items.filter((i) => i.table === table).map((i) => i.item);
const recordsOf = (store: string) => parsed.filter((p) => p.store === store).flatMap((p) => p.records);

describe('determinism', () => {
  test('the same seed gives the same bytes; another seed or asOf does not', async () => {
    const again = await materialise(generateDataset({ scale: 'small', seed: 42 }));
    const other = await materialise(generateDataset({ scale: 'small', seed: 43 }));
    const later = await materialise(generateDataset({ scale: 'small', seed: 42, asOf: '2027-03-01T00:00:00Z' }));
    const h = datasetHash(data);
    expect(datasetHash(again)).toBe(h);
    expect(datasetHash(other)).not.toBe(h);
    expect(datasetHash(later)).not.toBe(h);
    // Not just the hash: the customers themselves differ with the seed.
    expect(other.report.subjects.map((s) => s.identifiers.email[0])).not.toEqual(data.report.subjects.map((s) => s.identifiers.email[0]));
  });

  test('a log object is the same whether or not the objects before it were generated', async () => {
    const objects = generateDataset({ scale: 'small', seed: 42 }).logObjects();
    const last = objects[objects.length - 1];
    const alone = [...last.lines()].join('');
    expect(alone).toBe(data.logs[data.logs.length - 1].text);
  });
});

describe('options', () => {
  test('an unknown scale is refused with the valid ones listed', () => {
    expect(() => generateDataset({ scale: 'huge', seed: 1 })).toThrow(DatasetError);
    expect(() => generateDataset({ scale: 'huge', seed: 1 })).toThrow('unknown scale "huge": expected one of small, medium, large');
    expect(SCALES).toEqual(['small', 'medium', 'large']);
  });

  test('the loader refuses an unknown scale before touching any store', async () => {
    const untouchable = new Proxy({}, { get: () => { throw new Error('store touched'); } });
    await expect(
      seedReferenceDataset({ dataDir: '/nonexistent', scale: 'xl', seed: 1, clients: { dynamodb: untouchable as never, s3: untouchable as never } }),
    ).rejects.toThrow('unknown scale "xl": expected one of small, medium, large');
  });

  test('bad seed, asOf and subject counts are refused', () => {
    expect(() => generateDataset({ scale: 'small', seed: Number.NaN })).toThrow(DatasetError);
    expect(() => generateDataset({ scale: 'small', seed: 1, asOf: 'yesterday' })).toThrow('asOf must be an ISO 8601 date-time');
    expect(() => generateDataset({ scale: 'small', seed: 1, subjects: 3 })).toThrow('subjects must be an integer from 13');
  });
});

describe('layout agrees with the data map', () => {
  test('every dynamodb store has its table, key and one GSI per indexed lookup', () => {
    for (const store of dynamoStores) {
      const table = OPERATOR_TABLES.find((t) => t.TableName === store.table);
      expect(table).toBeDefined();
      const hash = table!.KeySchema!.find((k) => k.KeyType === 'HASH')?.AttributeName;
      const range = table!.KeySchema!.find((k) => k.KeyType === 'RANGE')?.AttributeName;
      expect([hash, range]).toEqual([store.key.partitionKey, store.key.sortKey]);
      for (const lookup of store.lookups.filter((l) => l.index)) {
        const index = table!.GlobalSecondaryIndexes?.find((g) => g.IndexName === lookup.index);
        expect(index?.KeySchema).toEqual([{ AttributeName: lookup.attribute, KeyType: 'HASH' }]);
      }
      // The retention date indexes (subject dates, record expiry): status or shard, then the date.
      const dateIndexes = [...Object.values(store.subjectDates), ...(store.expiry?.method === 'index' ? [store.expiry] : [])];
      for (const d of dateIndexes) {
        const index = table!.GlobalSecondaryIndexes?.find((g) => g.IndexName === d.index);
        expect(index?.KeySchema).toEqual([{ AttributeName: d.partitionKey, KeyType: 'HASH' }, { AttributeName: d.dateAttribute, KeyType: 'RANGE' }]);
        const listed = itemsOf(store.table).filter((i) => i[d.dateAttribute] !== undefined);
        expect(listed.length).toBeGreaterThan(0);
        for (const item of listed) expect(d.partitionValues).toContain(item[d.partitionKey]);
      }
      // Every item generated for that table carries its key attributes as strings.
      const items = itemsOf(store.table);
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) {
        expect(typeof item[store.key.partitionKey]).toBe('string');
        if (store.key.sortKey) expect(typeof item[store.key.sortKey]).toBe('string');
      }
    }
  });

  test('media keys fall under the key templates and logs under the prefixes, in the declared formats', () => {
    expect(OPERATOR_BUCKETS.find((b) => b.name === 'voip-media')).toMatchObject({ objectLock: true, versioning: true });
    expect(OPERATOR_BUCKETS.find((b) => b.name === 'voip-logs')).toMatchObject({ versioning: true });
    for (const o of data.media) {
      const store = objectStores.find((s) => s.name === o.store)!;
      expect(o.bucket).toBe(store.bucket);
      expect(o.key.startsWith(expandTemplate(store.keyTemplate, { accountId: o.accountId }))).toBe(true);
    }
    for (const l of data.logs) {
      const store = recordStores.find((s) => s.name === l.object.store)!;
      expect(l.object.bucket).toBe(store.bucket);
      expect(l.object.key.startsWith(store.prefix)).toBe(true);
      expect(l.object.format).toBe(store.format);
      if (store.compression !== 'auto') expect(l.object.compression).toBe(store.compression);
      expect(l.object.key.endsWith('.gz')).toBe(l.object.compression === 'gzip');
      if (l.object.compression === 'gzip') expect(l.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    }
    // "auto" compression really is mixed.
    expect(new Set(data.logs.filter((l) => l.object.store === 'app-logs').map((l) => l.object.compression))).toEqual(new Set(['gzip', 'none']));
  });
});

describe('near-miss identifiers', () => {
  const accountIds = () => itemsOf('voip-accounts').map((a) => a.accountId);

  test('cust-1 beside cust-10, and an id full of regex and glob characters', () => {
    expect(accountIds()).toEqual(expect.arrayContaining(['cust-1', 'cust-10', SPECIAL_SUBJECT_ID]));
    expect(SPECIAL_SUBJECT_ID).not.toContain('/');
    expect(SPECIAL_SUBJECT_ID).toMatch(/[.*+?[\]()|^$]/);
    // Both have recordings; a prefix without the trailing "/" would mix them up, the template's does not.
    const keys = data.media.map((o) => o.key);
    expect(keys.some((k) => k.startsWith(`recordings/${SPECIAL_SUBJECT_ID}/`))).toBe(true);
    expect(keys.some((k) => k.startsWith('recordings/cust-1/'))).toBe(true);
    expect(keys.some((k) => k.startsWith('recordings/cust-1') && !k.startsWith('recordings/cust-1/'))).toBe(true);
    expect(recordsOf('app-logs').some((r) => r.accountId === 'cust-10')).toBe(true);
    expect(recordsOf('app-logs').some((r) => r.accountId === 'cust-1')).toBe(true);
    expect(recordsOf('app-logs').some((r) => r.accountId === SPECIAL_SUBJECT_ID)).toBe(true);
  });

  test('+15145550101 is a customer number; +151455501012 a misdial in CDRs, contacts and SIP logs', () => {
    expect(subject('cust-1').identifiers.phone).toContain('+15145550101');
    expect(itemsOf('voip-cdrs').some((c) => c.calleeNumber === '+151455501012' && c.accountId === 'cust-10')).toBe(true);
    expect(itemsOf('voip-contacts').some((c) => c.contactPhone === '+151455501012')).toBe(true);
    expect(recordsOf('sip-logs').some((r) => r.to === 'sip:+151455501012@pbx.voip.example')).toBe(true);
    // The misdial is not a token match for the customer number; the real number is.
    expect(containsToken('sip:+151455501012@pbx.voip.example', '+15145550101', 'phone')).toBe(false);
    expect(containsToken('"A B" <sip:+15145550101@pbx.voip.example>;tag=1', '+15145550101', 'phone')).toBe(true);
  });

  test('contact cards hold numbers and addresses as customers typed them, with a lower-cased copy of the address', () => {
    const contacts = itemsOf('voip-contacts');
    const typed = contacts.filter((c) => typeof c.contactPhone === 'string' && !c.contactPhone.startsWith('+'));
    const forms = new Set(typed.map((c) => String(c.contactPhone).replace(/\d/g, '9')));
    expect([...forms]).toEqual(expect.arrayContaining(['(999) 999-9999', '999-999-9999', '999 999-9999', '999.999.9999', '9-999-999-9999']));
    expect(typed.length).toBeGreaterThan(contacts.length / 5);
    for (const c of typed) expect(normalize('phone', String(c.contactPhone), map.identifiers)).toMatch(/^\+1\d{10}$/);
    const withEmail = contacts.filter((c) => typeof c.contactEmail === 'string');
    expect(withEmail.every((c) => c.contactEmailNormalized === String(c.contactEmail).toLowerCase())).toBe(true);
    expect(withEmail.some((c) => c.contactEmail !== c.contactEmailNormalized)).toBe(true);
  });

  test('bob@example.com inside alice.bob@example.com, in profiles, contacts and portal messages', () => {
    expect(subject('cust-2').identifiers.email).toEqual(['bob@example.com']);
    expect(subject('cust-3').identifiers.email).toEqual(['alice.bob@example.com']);
    const contactEmails = itemsOf('voip-contacts').map((c) => c.contactEmail);
    expect(contactEmails).toEqual(expect.arrayContaining(['bob@example.com', 'alice.bob@example.com']));
    const messages = recordsOf('app-logs').map((r) => String(r.message));
    const longer = messages.filter((m) => m.includes('alice.bob@example.com'));
    expect(longer.length).toBeGreaterThan(0);
    // A substring search for bob@example.com would hit these; a token match must not.
    expect(longer.every((m) => m.includes('bob@example.com') && !containsToken(m, 'bob@example.com', 'email'))).toBe(true);
  });

  test('logs write numbers and addresses as real systems do: several forms of one number, addresses in mixed case', () => {
    // Every customer number the SIP logs carry, by the form it is written in.
    const forms = new Map<string, Set<string>>();
    const shape = (uri: string): string =>
      uri
        .replace(/@[^;>]*/, '@host')
        .replace(/[0-9]/g, '9')
        .replace(/^.*</, '')
        .replace(/>.*$/, '');
    const customerNumbers = new Set(data.report.subjects.flatMap((s) => s.identifiers.phone));
    for (const r of recordsOf('sip-logs')) {
      for (const uri of [String(r.from), String(r.to)]) {
        for (const p of phonesIn(uri)) if (customerNumbers.has(p)) (forms.get(p) ?? forms.set(p, new Set()).get(p)!).add(shape(uri));
      }
    }
    const allShapes = new Set([...forms.values()].flatMap((f) => [...f]));
    // E.164, national digits and more (a tel URI, `;user=phone`, a leading 1): a small dataset has few calls.
    expect(allShapes).toContain('sip:+99999999999@host');
    expect(allShapes).toContain('sip:9999999999@host');
    expect(allShapes.size).toBeGreaterThanOrEqual(4);
    // The same person's number is written more than one way.
    expect([...forms.values()].some((f) => f.size >= 2)).toBe(true);
    // The portal logs addresses as customers typed them: in capitals too.
    const emails = new Set(data.report.subjects.flatMap((s) => s.identifiers.email));
    const typed = recordsOf('app-logs').map((r) => String(r.email)).filter((e) => e !== e.toLowerCase() && emails.has(e.toLowerCase()));
    expect(typed.length).toBeGreaterThan(0);
    expect(recordsOf('app-logs').some((r) => String(r.message) !== String(r.message).toLowerCase() && [...emails].some((e) => String(r.message).toLowerCase().includes(e)))).toBe(true);
  });

  test('every near-miss listed in subjects.json is in the data where it says', () => {
    const storeValues = (store: string): string[] => {
      const dyn = dynamoStores.find((s) => s.name === store);
      if (dyn) return itemsOf(dyn.table).flatMap((i) => Object.values(i).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))));
      return data.logs.filter((l) => l.object.store === store).map((l) => l.text);
    };
    expect(data.report.nearMisses.length).toBeGreaterThanOrEqual(4);
    for (const nm of data.report.nearMisses) {
      expect(nm.near.startsWith(nm.value) || nm.near.endsWith(nm.value)).toBe(true);
      expect(nm.near).not.toBe(nm.value);
      for (const id of nm.subjects) {
        const ids = Object.values(subject(id).identifiers).flat();
        expect(ids.includes(nm.value) || ids.includes(nm.near)).toBe(true);
      }
      for (const store of nm.nearIn) {
        expect({ near: nm.near, store, found: storeValues(store).some((v) => v.includes(nm.near)) }).toEqual({ near: nm.near, store, found: true });
      }
    }
  });
});

describe('subjects.json', () => {
  test('lists every customer with every identifier type, and each identifier is in the data', () => {
    const subjects = data.report.subjects;
    expect(subjects).toHaveLength(20);
    expect(new Set(subjects.map((s) => s.subjectId)).size).toBe(20);
    const allValues = new Set<string>();
    const walk = (v: unknown): void => {
      if (typeof v === 'string') allValues.add(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    data.items.forEach((i) => walk(i.item));
    parsed.forEach((p) => p.records.forEach(walk));
    for (const s of subjects) {
      for (const type of ['subjectId', 'accountId', 'email', 'phone', 'sipUsername', 'deviceId', 'ip'] as const) {
        expect(s.identifiers[type].length).toBeGreaterThan(0);
        for (const v of s.identifiers[type]) expect(allValues.has(v)).toBe(true);
      }
      for (const p of s.identifiers.phone) expect(p).toMatch(/^\+1[2-9]\d{2}[2-9]\d{6}$/);
    }
    expect(data.report).toMatchObject({ seed: 42, scale: 'small', asOf: '2026-11-01T00:00:00.000Z' });
  });

  test('dynamodb expectations equal an independent count driven by the data map lookups', () => {
    for (const store of dynamoStores) {
      const items = itemsOf(store.table);
      for (const s of data.report.subjects) {
        const hits = (role: 'owner' | 'third-party') =>
          new Set(
            // Compared in canonical form, as discovery confirms its hits: contact cards hold numbers as typed.
            items.filter((item) =>
              store.lookups.some((l) => {
                const stored = item[l.attribute] as string | undefined;
                return l.role === role && stored !== undefined && s.identifiers[l.identifier].includes(normalize(l.identifier, stored, map.identifiers) ?? stored);
              }),
            ),
          );
        const owner = hits('owner');
        const third = [...hits('third-party')].filter((i) => !owner.has(i));
        expect({ store: store.name, subject: s.subjectId, owner: owner.size, thirdParty: third.length }).toEqual({
          store: store.name,
          subject: s.subjectId,
          ...s.expected[store.name as 'accounts'],
        });
      }
      expect(data.report.totals[store.name as 'accounts'].items).toBe(items.length);
    }
    // The scenarios the counts are about exist at all.
    const cdr = (id: string) => subject(id).expected['call-records'];
    expect(data.report.subjects.some((s) => s.expected['call-records'].thirdParty > 0)).toBe(true);
    expect(data.report.subjects.some((s) => s.expected.contacts.thirdParty > 0)).toBe(true);
    expect(cdr('cust-1').thirdParty).toBeGreaterThan(0);
  });

  test('media expectations equal a count under each key-template prefix', () => {
    for (const store of objectStores) {
      for (const s of data.report.subjects) {
        const prefix = expandTemplate(store.keyTemplate, { accountId: s.subjectId });
        const objects = data.media.filter((o) => o.bucket === store.bucket && o.key.startsWith(prefix));
        const versions = objects.flatMap((o) => o.versions);
        expect({
          objects: objects.length,
          versions: versions.filter((v) => !v.deleteMarker).length,
          deleteMarkers: versions.filter((v) => v.deleteMarker).length,
          legalHolds: versions.filter((v) => !v.deleteMarker && v.legalHold).length,
          current: objects.filter((o) => !o.versions[o.versions.length - 1].deleteMarker).length,
        }).toEqual(s.expected[store.name as (typeof MEDIA_STORES)[number]]);
      }
    }
    const media = data.media.flatMap((o) => o.versions.map((v) => ({ o, v })));
    expect(data.media.some((o) => o.versions.filter((v) => !v.deleteMarker).length > 1)).toBe(true);
    expect(media.some(({ v }) => v.deleteMarker)).toBe(true);
    expect(media.some(({ v }) => !v.deleteMarker && v.legalHold)).toBe(true);
    // A held version that is no longer current (a delete marker above it).
    expect(data.media.some((o) => o.versions.some((v) => !v.deleteMarker && v.legalHold) && o.versions[o.versions.length - 1].deleteMarker)).toBe(true);
    // Bodies are real files.
    for (const { o, v } of media) {
      if (v.deleteMarker) continue;
      if (o.contentType === 'audio/wav') expect(v.body.subarray(0, 4).toString('latin1') + v.body.subarray(8, 12).toString('latin1')).toBe('RIFFWAVE');
      else expect(v.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    }
  });

  test('log expectations equal an independent match of the data map fields over the parsed records', () => {
    const idsOf = (s: SubjectEntry, type: IdentifierType) => s.identifiers[type];
    for (const store of recordStores) {
      const logs = parsed.filter((p) => p.store === store.name);
      for (const s of data.report.subjects) {
        let records = 0;
        let objects = 0;
        for (const log of logs) {
          const n = log.records.filter((r) =>
            store.fields.some((f) => {
              const v = valueAt(r, f.path);
              if (typeof v !== 'string' || v === '') return false;
              return idsOf(s, f.identifier).some((id) => writtenMatch(v, id, f.identifier, f.match));
            }),
          ).length;
          records += n;
          if (n > 0) objects++;
        }
        expect({ store: store.name, subject: s.subjectId, records, objects }).toEqual({ store: store.name, subject: s.subjectId, ...s.expected[store.name as (typeof LOG_STORES)[number]] });
      }
      expect(data.report.totals[store.name as 'sip-logs'].records).toBe(logs.reduce((a, l) => a + l.records.length, 0));
      expect(data.report.totals[store.name as 'sip-logs'].objects).toBe(logs.length);
    }
    // Active customers show up in the logs; records of nobody (scanners, system jobs) are there too.
    expect(subject('cust-1').expected['sip-logs'].records).toBeGreaterThan(0);
    const sip = recordsOf('sip-logs');
    expect(sip.some((r) => r.sipUser === null && (r.userAgent as { deviceId?: string }).deviceId === undefined)).toBe(true);
    expect(sip.some((r) => typeof r.sourceIp === 'string' && r.sourceIp.includes(':'))).toBe(true);
    expect(recordsOf('app-logs').some((r) => r.accountId === '' && r.email === '')).toBe(true);
    expect(recordsOf('app-logs').some((r) => String(r.message).includes('\n'))).toBe(true);
  });

  test('every well-formed SIP line is exactly the JSON.stringify of its record', () => {
    for (const l of data.logs.filter((x) => x.object.format === 'jsonl')) {
      for (const line of l.text.split('\n').slice(0, -1)) {
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch {
          continue;
        }
        expect(JSON.stringify(rec)).toBe(line);
      }
    }
    // Display names with quotes are escaped, accents kept as UTF-8.
    expect(data.logs.some((l) => l.text.includes('"from":"\\"'))).toBe(true);
  });

  test('the truncated SIP lines are where subjects.json says, and one still shows customer numbers', () => {
    expect(data.report.malformed).toHaveLength(1);
    const [m] = data.report.malformed;
    const log = parsed.find((p) => p.key === m.key)!;
    expect(log.store).toBe('sip-logs');
    expect(log.badLines).toEqual(m.lines);
    expect(parsed.filter((p) => p.key !== m.key).every((p) => p.badLines.length === 0)).toBe(true);
    expect(m.mentions.length).toBeGreaterThan(0);
    const lines = data.logs.find((l) => l.object.key === m.key)!.text.split('\n');
    for (const id of m.mentions) {
      expect(m.lines.some((n) => subject(id).identifiers.phone.some((p) => phonesIn(lines[n - 1]).includes(p)))).toBe(true);
    }
  });

  test('flags cover the retention scenarios of the seed policies', () => {
    const asOf = Date.parse(data.report.asOf);
    const twoYears = 2 * 365 * 86_400_000;
    const flags = data.report.subjects.map((s) => s.flags);
    expect(flags.some((f) => f.deactivatedOverTwoYearsAgo && !f.fraudInvestigation)).toBe(true);
    expect(flags.some((f) => f.deactivatedOverTwoYearsAgo && f.fraudInvestigation)).toBe(true);
    expect(flags.some((f) => f.deactivated && !f.deactivatedOverTwoYearsAgo)).toBe(true);
    expect(flags.some((f) => f.legalHeldMedia)).toBe(true);
    for (const s of data.report.subjects) {
      expect(s.flags.deactivatedOverTwoYearsAgo).toBe(s.flags.deactivatedAt !== null && Date.parse(s.flags.deactivatedAt) < asOf - twoYears);
    }
    // Accounts agree with the flags.
    for (const a of itemsOf('voip-accounts')) {
      const s = subject(a.accountId as string);
      expect(a.status).toBe(s.flags.status);
      expect(a.fraudInvestigation).toBe(s.flags.fraudInvestigation);
      expect(a.deactivatedAt ?? null).toBe(s.flags.deactivatedAt);
    }
    // CDRs on both sides of 12 months; invoices on both sides of 7 years.
    const starts = itemsOf('voip-cdrs').map((c) => Date.parse(c.startTime as string));
    expect(starts.some((t) => t < asOf - 365 * 86_400_000)).toBe(true);
    expect(starts.some((t) => t > asOf - 365 * 86_400_000)).toBe(true);
    expect(Math.max(...starts)).toBeLessThan(asOf);
    const invoices = itemsOf('voip-billing').map((i) => Date.parse(i.invoiceDate as string));
    expect(invoices.some((t) => t < asOf - 7 * 365 * 86_400_000)).toBe(true);
    expect(invoices.some((t) => t > asOf - 40 * 86_400_000)).toBe(true);
    // Some devices report IPv6 addresses.
    expect(itemsOf('voip-devices').some((d) => String(d.lastIp).includes(':'))).toBe(true);
  });
});
