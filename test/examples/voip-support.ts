/**
 * Helpers for the reference-dataset tests: materialise a (small) dataset in memory, parse its
 * logs, and count matches independently of the generator's own bookkeeping.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import type { IdentifierType } from '../../functions/core/datamap';
import type { LogObject, MediaObject, ReferenceDataset, SubjectsReport, TableItem } from '../../examples/voip-operator/generator';

export interface MaterialisedLog {
  readonly object: LogObject;
  /** Bytes as stored (gzip or plain). */
  readonly body: Buffer;
  /** Uncompressed text. */
  readonly text: string;
}

export interface Materialised {
  readonly items: TableItem[];
  readonly media: MediaObject[];
  readonly logs: MaterialisedLog[];
  readonly report: SubjectsReport;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

export async function materialise(ds: ReferenceDataset): Promise<Materialised> {
  const items = [...ds.tableItems()];
  const media = [...ds.mediaObjects()];
  const logs: MaterialisedLog[] = [];
  for (const object of ds.logObjects()) {
    const body = await readAll(object.body());
    const text = (object.compression === 'gzip' ? gunzipSync(body) : body).toString('utf8');
    logs.push({ object, body, text });
  }
  return { items, media, logs, report: ds.report() };
}

/** SHA-256 over every item, every object version and every log body, in generation order, and the report. */
export function datasetHash(m: Materialised): string {
  const h = createHash('sha256');
  for (const it of m.items) h.update(`${it.table}\u0000${JSON.stringify(it.item)}\n`);
  for (const o of m.media) {
    h.update(`${o.bucket}/${o.key}\u0000${o.contentType}\n`);
    for (const v of o.versions) {
      if (v.deleteMarker) h.update('delete-marker\n');
      else h.update(`${v.legalHold}\u0000${JSON.stringify(v.metadata)}\u0000`).update(v.body);
    }
  }
  for (const l of m.logs) h.update(`${l.object.bucket}/${l.object.key}\u0000`).update(l.body);
  h.update(JSON.stringify(m.report));
  return h.digest('hex');
}

export interface ParsedLog {
  readonly key: string;
  readonly store: string;
  /** Parsed records (JSON objects, or CSV rows keyed by column). */
  readonly records: Array<Record<string, unknown>>;
  /** 1-based numbers of the lines that did not parse (JSON Lines only). */
  readonly badLines: number[];
}

export function parseLog(l: MaterialisedLog): ParsedLog {
  if (l.object.format === 'csv') {
    const records = parseCsv(l.text, { columns: true }) as Array<Record<string, unknown>>;
    return { key: l.object.key, store: l.object.store, records, badLines: [] };
  }
  const records: Array<Record<string, unknown>> = [];
  const badLines: number[] = [];
  const lines = l.text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, k) => {
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      badLines.push(k + 1);
    }
  });
  return { key: l.object.key, store: l.object.store, records, badLines };
}

export function valueAt(record: Record<string, unknown>, dotted: string): unknown {
  let v: unknown = record;
  for (const part of dotted.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** Characters that can continue a value of a type (written here independently of functions/core/token-boundaries.ts). */
const CONTINUES: Record<IdentifierType, RegExp> = {
  phone: /[0-9+]/,
  email: /[A-Za-z0-9._%+@-]/,
  ip: /[0-9A-Fa-f:.]/,
  subjectId: /[A-Za-z0-9_.-]/,
  accountId: /[A-Za-z0-9_.-]/,
  sipUsername: /[A-Za-z0-9_.-]/,
  deviceId: /[A-Za-z0-9_.-]/,
};

/**
 * The E.164 numbers the SIP and tel URIs of `text` carry, read independently of
 * functions/core/identifiers.ts for the forms the dataset writes (`sip:+15145550101@…`,
 * `sip:5145550101@…`, `sip:15145550101@…`, `tel:+1-514-555-0101`), Canada as default country.
 */
export function phonesIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:sips?|tel):([+0-9][0-9().-]*)/g)) {
    const written = m[1].replace(/[().-]/g, '');
    const digits = written.replace(/^\+/, '');
    if (written.startsWith('+')) out.push(written);
    else if (digits.startsWith('011')) out.push(`+${digits.slice(3)}`);
    else if (/^[2-9][0-9]{9}$/.test(digits)) out.push(`+1${digits}`);
    else if (/^1[2-9][0-9]{9}$/.test(digits)) out.push(`+${digits}`);
  }
  return out;
}

/** Whether a field written as the dataset writes it holds a (canonical) identifier value. */
export function writtenMatch(text: string, id: string, type: IdentifierType, mode: 'value' | 'token'): boolean {
  if (type === 'phone') return mode === 'value' ? phonesIn(text).length === 1 && phonesIn(text)[0] === id : phonesIn(text).includes(id);
  // Addresses in any letter case are one address.
  if (type === 'email') return mode === 'value' ? text.toLowerCase() === id : containsToken(text.toLowerCase(), id, 'email');
  return mode === 'value' ? text === id : containsToken(text, id, type);
}

/** True when `value` occurs in `text` with no continuing character right before or after it. */
export function containsToken(text: string, value: string, type: IdentifierType): boolean {
  const cls = CONTINUES[type];
  for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
    const before = at > 0 ? text[at - 1] : '';
    const after = text[at + value.length] ?? '';
    // A full stop ends a value unless what follows it continues the value ("x@y.com." vs "x@y.com.au").
    const afterContinues = after !== '' && cls.test(after) && !(after === '.' && !cls.test(text[at + value.length + 1] ?? ''));
    if (!(before !== '' && cls.test(before)) && !afterContinues) return true;
  }
  return false;
}
