/**
 * Portability bundles and access reports end to end: a real request through the local engine
 * against the seeded reference operator, the bundle downloaded with `dsr bundle --out`, then
 * checked with Debian's unzip, `dsr bundle verify`, ajv, csv-parse and ical.js, counted against
 * subjects.json, and searched for every identifier of every other subject.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import Ajv2020 from 'ajv/dist/2020';
import { parse as parseCsv } from 'csv-parse/sync';
import ICAL from 'ical.js';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SubjectEntry, SubjectsReport } from '../../examples/voip-operator/generator';
import { seedReferenceDataset } from '../../examples/voip-operator/seed';
import { parseManifest } from '../../functions/core/bundle/bagit';
import type { Overview } from '../../functions/core/bundle/overview';
import type { IdentifierType } from '../../functions/core/datamap';
import { containsToken, continuationClass } from '../../functions/core/matching';
import { flipByte, readZip, unzipTest, type ZipEntry } from '../core/bundle-support';
import { startTestEngine, type TestEngine } from '../support/engine';

/** Runs before ExportStore, so a test can make media vanish between discovery and export. */
const mockBeforeExport: { hook?: (event: { requestId: string; store: string }) => Promise<void> } = {};
jest.mock('../../functions/handlers/export-store', () => {
  const actual = jest.requireActual('../../functions/handlers/export-store');
  return {
    ...actual,
    handler: async (event: { requestId: string; store: string }, context: unknown) => {
      await mockBeforeExport.hook?.(event);
      return actual.handler(event, context);
    },
  };
});

const NOW = '2026-11-02T12:00:00.000Z';
let t: TestEngine;
let report: SubjectsReport;
let s3: S3Client;
let ddb: DynamoDBClient;
let out: string;

function verification(): string[] {
  return ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'TICKET-9', '--verified-at', NOW];
}

async function run(type: string, requestId: string, subject: string) {
  const r = await t.dsr('start', '--type', type, '--subject', subject, '--request-id', requestId, ...verification(), '--wait', '--json');
  return { ...r, summary: JSON.parse(r.out.trim().split('\n').pop()!) };
}

function plainSubjects(): SubjectEntry[] {
  return report.subjects
    .filter((x) => !x.flags.fraudInvestigation && !x.flags.legalHeldMedia && !x.flags.specialCharacters && x.expected['call-recordings'].current > 0 && x.expected.contacts.owner > 0)
    .sort((a, b) => b.expected.contacts.owner + b.expected['call-records'].owner - (a.expected.contacts.owner + a.expected['call-records'].owner));
}

async function downloadBundle(requestId: string): Promise<{ file: string; entries: ZipEntry[] }> {
  const file = path.join(out, `${requestId}.zip`);
  const r = await t.dsr('bundle', requestId, '--out', file);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out).toContain('matches the receipt');
  return { file, entries: await readZip(file) };
}

/** The texts an identifier could hide in: raw bytes, and each format's own unescaping. */
function searchable(entry: ZipEntry): string[] {
  const utf8 = entry.data.toString('utf8');
  const texts = [entry.name, utf8, entry.data.toString('latin1')];
  if (entry.name.endsWith('.html')) texts.push(utf8.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
  if (entry.name.endsWith('.vcf')) texts.push(utf8.replace(/\r\n /g, '').replace(/\\n/g, '\n').replace(/\\,/g, ',').replace(/\\\\/g, '\\'));
  if (entry.name.endsWith('.csv')) texts.push((parseCsv(utf8) as string[][]).flat().join('\n'));
  if (entry.name.endsWith('.json')) {
    const strings: string[] = [];
    JSON.stringify(JSON.parse(utf8), (k, v) => {
      strings.push(k);
      if (typeof v === 'string') strings.push(v);
      return v;
    });
    texts.push(strings.join('\n'));
  }
  return texts;
}

function othersValuesIn(entries: ZipEntry[], subject: SubjectEntry): string[] {
  const own = new Set(Object.values(subject.identifiers).flat());
  const others: Array<{ type: IdentifierType; value: string }> = [];
  for (const s of report.subjects) {
    if (s.subjectId === subject.subjectId) continue;
    for (const [type, values] of Object.entries(s.identifiers) as Array<[IdentifierType, string[]]>) for (const value of values) if (!own.has(value)) others.push({ type, value });
  }
  // The subject's own values go first, longest first: "cust-1" inside the subject's own id
  // "cust-1+.*?[x](y|z)^$" is not someone else's id.
  const ownLongestFirst = [...own].sort((a, b) => b.length - a.length);
  const hits = new Set<string>();
  for (const entry of entries) {
    const texts = searchable(entry).map((text) => ownLongestFirst.reduce((acc, v) => acc.split(v).join('\u0000'), text));
    for (const o of others) if (texts.some((text) => containsToken(text, o.value, continuationClass(o.type, o.value)))) hits.add(`${o.type} ${o.value} in ${entry.name}`);
  }
  return [...hits];
}

beforeAll(async () => {
  t = await startTestEngine();
  t.setClock(NOW);
  ddb = new DynamoDBClient({});
  s3 = new S3Client({ forcePathStyle: true });
  await seedReferenceDataset({ dataDir: t.dataDir, scale: 'small', seed: 7, clients: { dynamodb: ddb, s3 } });
  report = JSON.parse(fs.readFileSync(path.join(t.dataDir, 'reference/subjects.json'), 'utf8')) as SubjectsReport;
  out = path.join(t.dataDir, 'downloads');
  fs.mkdirSync(out);
}, 240_000);

afterAll(async () => {
  ddb?.destroy();
  s3?.destroy();
  await t?.stop();
});

describe('portability bundle end to end', () => {
  let subject: SubjectEntry;
  let bundle: { file: string; entries: ZipEntry[] };

  beforeAll(async () => {
    subject = plainSubjects()[0];
    const r = await run('portability', 'port-1', subject.subjectId);
    expect(r.code).toBe(0);
    expect(r.summary.bundle).toEqual({ key: 'bundles/port-1/bundle.zip', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: expect.any(Number) });
    bundle = await downloadBundle('port-1');
  }, 300_000);

  it('passes unzip -t and dsr bundle verify; every manifest line matches and every payload file is listed', async () => {
    expect(unzipTest(bundle.file).status).toBe(0);
    const verified = await t.dsr('bundle', 'verify', bundle.file);
    expect(verified.code).toBe(0);
    expect(verified.out).toMatch(/^bundle intact: \d+ files/);

    const base = 'port-1/';
    expect(bundle.entries.every((e) => e.name.startsWith(base))).toBe(true);
    const byPath = new Map(bundle.entries.map((e) => [e.name.slice(base.length), e]));
    const manifest = parseManifest(byPath.get('manifest-sha256.txt')!.data.toString('utf8'), 'manifest');
    expect(manifest.problems).toEqual([]);
    for (const line of manifest.entries) expect(createHash('sha256').update(byPath.get(line.path)?.data ?? 'absent').digest('hex')).toBe(line.sha256);
    const payload = [...byPath.keys()].filter((p) => p.startsWith('data/'));
    expect(manifest.entries.map((e) => e.path).sort()).toEqual(payload.sort());
    const tags = parseManifest(byPath.get('tagmanifest-sha256.txt')!.data.toString('utf8'), 'tagmanifest');
    expect(tags.entries.map((e) => e.path).sort()).toEqual(['bag-info.txt', 'bagit.txt', 'manifest-sha256.txt']);
    const info = byPath.get('bag-info.txt')!.data.toString('utf8');
    const octets = payload.reduce((n, p) => n + byPath.get(p)!.data.length, 0);
    expect(info).toContain(`Payload-Oxum: ${octets}.${payload.length}\n`);
    expect(info).toContain('DSR-Request-Id: port-1\n');
  });

  it('has JSON valid against its schemas, CSV that parses, a vCard that parses, and the counts discovery found', () => {
    const ajv = () => new Ajv2020({ allErrors: true, strict: false });
    const text = (p: string) => bundle.entries.find((e) => e.name === `port-1/${p}`)!.data.toString('utf8');
    const jsons = bundle.entries.filter((e) => e.name.endsWith('.json') && !e.name.endsWith('.schema.json'));
    // One per store of the reference data map (12), and index.json.
    expect(jsons).toHaveLength(13);
    for (const e of jsons) {
      const validate = ajv().compile(JSON.parse(text(e.name.slice('port-1/'.length).replace(/\.json$/, '.schema.json'))));
      expect({ file: e.name, ok: validate(JSON.parse(e.data.toString('utf8'))), errors: validate.errors ?? null }).toEqual({ file: e.name, ok: true, errors: null });
    }
    const overview = JSON.parse(text('data/index.json')) as Overview;
    expect(overview.empty).toBe(false);
    const records = (store: string) => (JSON.parse(text(`data/${store}/${store}.json`)) as { records: unknown[]; files: unknown[] });
    for (const store of ['accounts', 'invoices', 'payment-tokens', 'call-records', 'contacts', 'devices'] as const) {
      const expected = subject.expected[store].owner + subject.expected[store].thirdParty;
      expect({ store, records: records(store).records.length }).toEqual({ store, records: expected });
      expect({ store, rows: parseCsv(text(`data/${store}/${store}.csv`), { columns: true }).length }).toEqual({ store, rows: expected });
    }
    for (const store of ['sip-logs', 'app-logs'] as const) {
      expect({ store, records: records(store).records.length }).toEqual({ store, records: subject.expected[store].records });
      expect(parseCsv(text(`data/${store}/${store}.csv`), { columns: true })).toHaveLength(subject.expected[store].records);
    }
    for (const store of ['call-recordings', 'voicemail', 'fax'] as const) {
      expect({ store, files: records(store).files.length }).toEqual({ store, files: subject.expected[store].current });
      expect(bundle.entries.filter((e) => e.name.startsWith(`port-1/data/${store}/files/`))).toHaveLength(subject.expected[store].current);
    }
    const parsed = ICAL.parse(text('data/contacts/contacts.vcf')) as unknown[];
    const cards = (Array.isArray(parsed[0]) ? parsed : [parsed]) as unknown[][];
    expect(cards).toHaveLength(subject.expected.contacts.owner);
    for (const card of cards) expect(new ICAL.Component(card).getFirstPropertyValue('version')).toBe('4.0');
    const html = text('data/index.html');
    expect(html).not.toMatch(/<script|(src|href)="(https?:)?\/\//i);
    expect(html).toContain(`${subject.expected['call-recordings'].current}`);
  });

  it('holds no identifier of any other subject, anywhere', async () => {
    expect(othersValuesIn(bundle.entries, subject)).toEqual([]);
    // The subject's own values are there (the masking did not empty the bundle).
    const all = bundle.entries.map((e) => e.data.toString('utf8')).join('\n');
    expect(all).toContain(subject.identifiers.email[0]);
    expect(all).toContain(subject.identifiers.phone[0]);
  });

  it('dsr bundle verify names the file after one byte of it changed', async () => {
    const media = bundle.entries.find((e) => e.name.includes('/files/') && e.method === 0)!;
    const altered = path.join(out, 'altered.zip');
    flipByte(bundle.file, media, altered, 200);
    const r = await t.dsr('bundle', 'verify', altered);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${media.name.slice('port-1/'.length)}: SHA-256 does not match manifest-sha256.txt`);
  });

  it('hands out a presigned URL with the configured expiry, or the one asked for', async () => {
    const r = await t.dsr('bundle', 'port-1', '--json');
    expect(r.code).toBe(0);
    const link = JSON.parse(r.out) as { url: string; expiresIn: number; sha256: string };
    expect(link.expiresIn).toBe(900);
    expect(new URL(link.url).searchParams.get('X-Amz-Expires')).toBe('900');
    const res = await fetch(link.url);
    expect(res.status).toBe(200);
    expect(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')).toBe(link.sha256);
    const short = await t.dsr('bundle', 'port-1', '--expires-in', '60');
    expect(new URL(short.out.split('\n')[0]).searchParams.get('X-Amz-Expires')).toBe('60');
    expect((await t.dsr('bundle', 'port-1', '--expires-in', '0')).code).toBe(2);
    expect((await t.dsr('bundle', 'no-such-request')).code).toBe(2);
  });
});

describe('bundles of other requests', () => {
  it('the subject with special characters gets a bundle that verifies and holds nobody else\'s values', async () => {
    const special = report.subjects.find((s) => s.flags.specialCharacters)!;
    const r = await run('portability', 'port-special', special.subjectId);
    expect(r.code).toBe(0);
    const { file, entries } = await downloadBundle('port-special');
    expect((await t.dsr('bundle', 'verify', file)).code).toBe(0);
    expect(othersValuesIn(entries, special)).toEqual([]);
  }, 300_000);

  it('access: the report (JSON + HTML) in reports/, counts and retention per category, no personal value', async () => {
    const subject = plainSubjects()[1];
    const r = await run('access', 'acc-1', subject.subjectId);
    expect(r.code).toBe(0);
    expect(r.summary.bundle.key).toBe('reports/acc-1/access-report.json');
    const file = path.join(out, 'acc-1.json');
    expect((await t.dsr('bundle', 'acc-1', '--out', file)).code).toBe(0);
    const accessReport = JSON.parse(fs.readFileSync(file, 'utf8')) as Overview;
    expect(accessReport.type).toBe('access');
    expect(accessReport.stores.find((s) => s.store === 'invoices')).toMatchObject({ records: subject.expected.invoices.owner, retention: { keep: '7 years', basis: 'tax' } });
    expect(accessReport.categories.find((c) => c.category === 'call-metadata')).toMatchObject({ keep: '12 months', basis: 'telecom-regulator' });
    const html = await s3.send(new GetObjectCommand({ Bucket: 'dsr-bundles', Key: 'reports/acc-1/access-report.html' }));
    const page = await html.Body!.transformToString();
    expect(page).toContain('How long we keep each kind of data');
    const text = `${fs.readFileSync(file, 'utf8')}\n${page}`;
    expect(Object.values(subject.identifiers).flat().filter((v) => text.includes(v))).toEqual([]);
  }, 300_000);

  it('a recording deleted between discovery and export is reported in the receipt and the bundle\'s index', async () => {
    const subject = plainSubjects()[2];
    let deleted = '';
    mockBeforeExport.hook = async ({ requestId, store }) => {
      if (requestId !== 'port-vanish' || store !== 'call-recordings' || deleted) return;
      const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: 'voip-media', Prefix: `recordings/${subject.subjectId}/` }));
      const latest = (listed.Versions ?? []).find((v) => v.IsLatest)!;
      await s3.send(new DeleteObjectCommand({ Bucket: 'voip-media', Key: latest.Key, VersionId: latest.VersionId }));
      deleted = latest.Key!;
    };
    const r = await run('portability', 'port-vanish', subject.subjectId);
    mockBeforeExport.hook = undefined;
    expect(deleted).not.toBe('');
    expect(r.code).toBe(0);
    expect(r.summary.counts.exported['call-recordings']).toMatchObject({ files: subject.expected['call-recordings'].current - 1, missing: 1 });
    const receipt = JSON.parse((await t.dsr('receipt', 'port-vanish', '--json')).out) as { receipt: { exported: Record<string, { missing: number }> } };
    expect(receipt.receipt.exported['call-recordings'].missing).toBe(1);
    const { file, entries } = await downloadBundle('port-vanish');
    expect((await t.dsr('bundle', 'verify', file)).code).toBe(0);
    const index = JSON.parse(entries.find((e) => e.name === 'port-vanish/data/index.json')!.data.toString('utf8')) as Overview;
    expect(index.stores.find((s) => s.store === 'call-recordings')!.missing).toEqual([{ ref: expect.stringMatching(/^[0-9a-f]{12}$/), reason: 'version-gone' }]);
    expect(entries.find((e) => e.name === 'port-vanish/data/index.html')!.data.toString('utf8')).toContain('deleted after it was found, before it could be copied');
    expect(entries.some((e) => e.name.endsWith(`/${path.basename(deleted)}`))).toBe(false);
  }, 300_000);
});
