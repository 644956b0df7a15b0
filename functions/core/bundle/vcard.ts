/**
 * vCard 4.0 (RFC 6350) for a contact-list store: one card per entry of the subject's own address
 * book. Which fields hold phone numbers and e-mail addresses comes from the data map (the
 * identifier types of its lookups); the name is the first field whose name says "name".
 * Masked values (other people's, see redact.ts) keep the card in place but add no TEL/EMAIL.
 */
import type { Store } from '../datamap';
import { REDACTED_PREFIX } from './redact';

export interface ContactFields {
  readonly phones: readonly string[];
  readonly emails: readonly string[];
  readonly name?: string;
  readonly label?: string;
  readonly uid?: string;
}

/** The fields of a store's records that make up a card. */
export function contactFields(store: Store, sample: ReadonlyArray<Record<string, unknown>>): ContactFields {
  const byType = (type: string): string[] => {
    // A canonical copy (a lower-cased address kept for lookups) is not another address of the card.
    if (store.kind === 'dynamodb') return [...new Set(store.lookups.filter((l) => l.identifier === type && l.stored !== 'canonical').map((l) => l.attribute).concat(Object.entries(store.yields).filter(([, t]) => t === type).map(([a]) => a)))];
    if (store.kind === 's3-records') return store.fields.filter((f) => f.identifier === type).map((f) => f.path);
    return [];
  };
  const keys = [...new Set(sample.flatMap((r) => Object.keys(r)))].sort();
  const owner = store.kind === 'dynamodb' ? new Set(store.lookups.filter((l) => l.role === 'owner').map((l) => l.attribute)) : new Set<string>();
  return {
    phones: byType('phone').filter((a) => !owner.has(a)),
    emails: byType('email').filter((a) => !owner.has(a)),
    name: keys.find((k) => /name/i.test(k)),
    label: keys.find((k) => /^(label|type|kind)$/i.test(k)),
    uid: store.kind === 'dynamodb' ? store.key.sortKey : undefined,
  };
}

/** RFC 6350 §3.4 escaping of a single text value (";" is escaped only inside compound values, which are not written here). */
export function escapeText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\r\n|\r|\n/g, '\\n').replace(/,/g, '\\,');
}

/** Folds a content line at 75 octets without splitting a UTF-8 sequence (RFC 6350 §3.2). */
export function foldLine(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const size = Buffer.byteLength(ch, 'utf8');
    const limit = parts.length === 0 ? 75 : 74; // continuation lines start with a space
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
    }
    current += ch;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

const TEL_TYPES: Record<string, string> = { mobile: 'cell', cell: 'cell', home: 'home', work: 'work', fax: 'fax' };

function usable(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '' && !value.startsWith(REDACTED_PREFIX);
}

function strings(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

/** One card; FN is mandatory, so a contact with no usable name is named after its first phone or e-mail. */
export function vcard(record: Record<string, unknown>, fields: ContactFields): string {
  const phones = fields.phones.flatMap((f) => strings(record[f])).filter(usable);
  const emails = fields.emails.flatMap((f) => strings(record[f])).filter(usable);
  const rawName = fields.name ? record[fields.name] : undefined;
  const name = typeof rawName === 'string' && rawName.trim() !== '' ? rawName : (phones[0] ?? emails[0] ?? 'Contact');
  const label = fields.label && typeof record[fields.label] === 'string' ? TEL_TYPES[(record[fields.label] as string).toLowerCase()] : undefined;
  const lines = ['BEGIN:VCARD', 'VERSION:4.0', `FN:${escapeText(name)}`];
  for (const phone of phones) lines.push(`TEL;VALUE=uri${label ? `;TYPE=${label}` : ''}:tel:${phone.replace(/[^0-9+*#;=a-zA-Z-]/g, '')}`);
  for (const email of emails) lines.push(`EMAIL:${escapeText(email)}`);
  const uid = fields.uid ? record[fields.uid] : undefined;
  if (typeof uid === 'string' && uid !== '') lines.push(`UID:${escapeText(uid)}`);
  lines.push('END:VCARD');
  return lines.map(foldLine).join('\r\n') + '\r\n';
}

/** The whole address book as one .vcf text. */
export function vcards(records: ReadonlyArray<Record<string, unknown>>, fields: ContactFields): string {
  return records.map((r) => vcard(r, fields)).join('');
}
