/**
 * The new bytes of a record that is kept but must lose personal data: the store's erase fields
 * anonymized per their strategy (`erase.mode: redact`), and/or the subjects' identifiers
 * redacted where they stand (a third party's record that mentions them). JSON Lines records are
 * re-serialized; in CSV only the edited fields change, every other byte stays as it was.
 */
import type { Anonymization, S3RecordsStore } from '../core/datamap';
import { mapAtPath, redactMentions, type RecordMatcher } from '../core/matching';
import { formatCsvField } from '../core/record-framing';
import type { MatchedRecord } from './s3-records-stream';
import type { ConnectorContext } from './types';

/** What to redact in one record: the store's erase fields, and the mentions of these subjects. */
export interface Redaction {
  readonly storeFields: boolean;
  readonly mentions: ReadonlySet<string>;
}

/** What replaces a subject's identifier inside another record or a malformed one. */
export function redactionToken(ctx: ConnectorContext): string {
  return ctx.anonymizer.apply({ strategy: 'redact', token: '[REDACTED]' }, undefined) as string;
}

/**
 * One subject's (or one batch's) redaction: `store-fields` anonymizes the erase fields of a
 * `redact` store; anything else redacts the mentions of `refs`.
 */
export function redactionOf(store: S3RecordsStore, how: 'store-fields' | 'mentions', refs: ReadonlySet<string>): Redaction {
  return how === 'store-fields' && store.erase.mode === 'redact' ? { storeFields: true, mentions: new Set() } : { storeFields: false, mentions: refs };
}

/** The replacement bytes for a record redacted per the store's erase fields, or its mentions of `refs`. */
export function redactRecord(store: S3RecordsStore, r: MatchedRecord, how: 'store-fields' | 'mentions', refs: ReadonlySet<string>, matcher: RecordMatcher, ctx: ConnectorContext): Buffer {
  return applyRedaction(store, r, redactionOf(store, how, refs), matcher, ctx);
}

/**
 * The record with `redaction` applied. Mentions are edited first; an erase field anonymized as
 * a whole replaces any mention edit of the same field.
 */
export function applyRedaction(store: S3RecordsStore, r: MatchedRecord, redaction: Redaction, matcher: RecordMatcher, ctx: ConnectorContext): Buffer {
  const edits = new Map<string, (node: unknown) => unknown>();
  if (redaction.mentions.size > 0) {
    const token = redactionToken(ctx);
    const refs = redaction.mentions;
    const paths = new Set<string>();
    for (const ref of refs) for (const p of r.matches.get(ref) ?? []) paths.add(p);
    for (const spec of matcher.fields) {
      if (!paths.has(spec.path)) continue;
      edits.set(spec.path, (node) => {
        if (typeof node !== 'string' && typeof node !== 'number') return node;
        const text = String(node);
        const values = matcher.valuesIn(text, spec, refs);
        if (values.length === 0) return node;
        return redactMentions(text, values, spec.match, token);
      });
    }
  }
  if (redaction.storeFields && store.erase.mode === 'redact') {
    for (const [path, strategy] of Object.entries(store.erase.fields) as Array<[string, Anonymization]>) {
      edits.set(path, (node) => ctx.anonymizer.apply(strategy, node));
    }
  }
  if (store.format === 'jsonl') {
    const record = structuredClone(r.record);
    for (const [path, fn] of edits) mapAtPath(record, path, fn);
    return Buffer.from(JSON.stringify(record), 'utf8');
  }
  // CSV: untouched fields keep their exact bytes; edited ones are written per RFC 4180.
  const csv = r.csv as NonNullable<MatchedRecord['csv']>;
  const parts = csv.fields.spans.map(([a, b]) => r.bytes.subarray(a, b));
  for (const [path, fn] of edits) {
    const i = csv.header.indexOf(path);
    if (i < 0 || i >= csv.fields.values.length) continue;
    const next = fn(csv.fields.values[i]);
    const text = next === null || next === undefined ? '' : String(next);
    if (text !== csv.fields.values[i]) parts[i] = Buffer.from(formatCsvField(text), 'utf8');
  }
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push(Buffer.from(','));
    out.push(p);
  });
  return Buffer.concat(out);
}
