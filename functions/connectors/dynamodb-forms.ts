/**
 * Which values a DynamoDB lookup queries, and which stored values are the subject's.
 *
 * A key condition is an exact, case-sensitive comparison, so a number typed into someone's
 * contact list as `514-555-0101` is found only by querying that very text. A lookup whose
 * attribute holds values as people type them (`stored: "any-form"`, the default) is queried with
 * every common written form of each phone number and with an email's stored and lower-case
 * forms; one whose attribute the operator writes in canonical form (`stored: "canonical"`: a
 * switch's E.164 numbers, a normalized copy of a typed address) only with the canonical value.
 * Whatever a Query returns is then confirmed by normalizing the stored value and comparing it
 * with the subject's canonical values, so a near miss is never a finding.
 */
import type { DynamoDbStore, IdentifierType } from '../core/datamap';
import { isVerbatim, normalize, type IdentifierSettings } from '../core/identifiers';
import { phoneWrittenForms } from '../core/phone-numbers';
import type { Identity } from './types';

type Lookup = DynamoDbStore['lookups'][number];

/** Tests a stored string: does it write one of the subject's values? */
export interface SubjectValues {
  has(stored: string): boolean;
}

/** The identifier settings a store's values are read with. */
export function storeSettings(store: DynamoDbStore): IdentifierSettings {
  return store.identifiers ?? {};
}

/**
 * NANP forms people write that `phoneWrittenForms` leaves out: the Quebec `514 555-0101`, and a
 * country code set apart from a dashed or spaced national number.
 */
function extraNanpForms(e164: string): string[] {
  const digits = e164.slice(1);
  if (!(digits.length === 11 && digits[0] === '1')) return [];
  const [a, b, c] = [digits.slice(1, 4), digits.slice(4, 7), digits.slice(7)];
  return [`${a} ${b}-${c}`, `+1 ${a}-${b}-${c}`, `1 ${a} ${b} ${c}`, `1 ${a}-${b}-${c}`, `1.${a}.${b}.${c}`, `+1 (${a})${b}-${c}`];
}

/**
 * The strings to Query for a lookup, given the identity's values of its kind (each as a record
 * stored it and in canonical form): without duplicates, and only forms that read back to one of
 * the canonical values in this store's settings (a national form without a default country
 * could never be confirmed, so it is not queried).
 */
export function lookupQueryValues(lookup: Lookup, values: readonly string[], settings: IdentifierSettings): string[] {
  const kind = lookup.identifier;
  const own = values.filter((v) => v !== '');
  if (isVerbatim(kind)) return unique(own);
  const canonical = unique(own.map((v) => normalize(kind, v, settings)).filter((v): v is string => v !== undefined));
  // A value that does not normalize is still looked up as written (exact match, as before).
  const unreadable = own.filter((v) => normalize(kind, v, settings) === undefined);
  if (lookup.stored === 'canonical') return unique([...canonical, ...unreadable]);
  const written = kind === 'phone' ? canonical.flatMap((c) => (c.startsWith('+') ? [...phoneWrittenForms(c), ...extraNanpForms(c)] : [c])) : canonical;
  const readBack = new Set(canonical);
  return unique([...own, ...canonical, ...written.filter((f) => readBack.has(normalize(kind, f, settings) ?? ''))]);
}

/** The subject's values of one identifier kind, matched on their canonical form. */
export function subjectValuesOf(kind: IdentifierType, values: readonly string[], settings: IdentifierSettings): SubjectValues {
  const exact = new Set(values);
  if (isVerbatim(kind)) return exact;
  const canonical = new Set(values.map((v) => normalize(kind, v, settings)).filter((v): v is string => v !== undefined));
  return { has: (stored) => exact.has(stored) || canonical.has(normalize(kind, stored, settings) ?? '\u0000') };
}

/** The subject's values an attribute may hold, per every lookup on that attribute. */
export function subjectValuesFor(store: DynamoDbStore, identity: Identity, attribute: string): SubjectValues {
  const settings = storeSettings(store);
  const tests = store.lookups
    .filter((l) => l.attribute === attribute && (identity[l.identifier]?.length ?? 0) > 0)
    .map((l) => subjectValuesOf(l.identifier, identity[l.identifier] ?? [], settings));
  return { has: (stored) => tests.some((t) => t.has(stored)) };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
