/**
 * Log records that do not parse (a truncated JSON line, a CSV row that does not frame) can still
 * hold a subject's identifier. Field matching cannot see them, so their bytes are read for
 * written values, the way a free-text (`token`) field is: the prefilter's hits say which values
 * may be there (a hit is a search form, such as `555-0101`, inside a written value), and a hit is
 * a token where a written value around it (`(514) 555-0101`, `+1 514 555 0101`,
 * `sip:5145550101@…`, `Bob@Example.COM`) normalizes to that value, under the token boundaries of
 * its type: `cust-1` inside `cust-10`, or a number inside a longer number, is no hit. The whole
 * written value is the token. Such a record is then redacted in place: each token is replaced
 * and every other byte kept, or, where the store says `malformed: report`, left as it is and
 * reported.
 */
import { searchForms } from '../core/identifiers';
import { targetSpans, type MatcherValue, type RecordMatcher } from '../core/matching';

/** Where an identifier stands in a record's bytes (offsets relative to the record), and whose it is. */
export interface TokenSpan {
  readonly start: number;
  readonly end: number;
  readonly subjects: readonly string[];
}

/**
 * A value as a malformed record is searched for it: by its bare search forms (a value of a type
 * only `value` fields read has quoted ones, which a written token never contains), in the
 * record's text as latin1, so that offsets are byte offsets. The identifier readers only look
 * at ASCII; a value with other characters is searched as its UTF-8 bytes.
 */
function asBytesTarget(v: MatcherValue): MatcherValue {
  const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
  const forms = v.quoted ? (v.normalized ? searchForms(v.type, v.value) : [v.value]) : v.forms;
  return { ...v, value: bytes(v.value), forms: forms.map(bytes), quoted: false };
}

/** The subjects' identifiers in the raw record buf[s, ce), as whole written tokens, merged where they overlap. */
export function identifierTokens(matcher: RecordMatcher, buf: Uint8Array, s: number, ce: number): TokenSpan[] {
  // Per value, where its patterns occur (relative to the record).
  const hitsOf = new Map<number, Array<[number, number]>>();
  for (const hit of matcher.prefilter.occurrences(buf, s, ce)) {
    for (const id of matcher.valueIdsOfPattern(hit.pattern)) {
      let list = hitsOf.get(id);
      if (!list) hitsOf.set(id, (list = []));
      list.push([hit.start - s, hit.end - s]);
    }
  }
  if (hitsOf.size === 0) return [];
  const text = Buffer.from(buf.buffer, buf.byteOffset + s, ce - s).toString('latin1');
  const found: Array<{ start: number; end: number; subjects: Set<string> }> = [];
  for (const [id, hits] of hitsOf) {
    const v = matcher.values[id];
    // Only a written value a hit lies in: a value of a `value`-only type counts where the
    // prefilter saw it quoted, as field matching would.
    for (const [a, b] of targetSpans(asBytesTarget(v), text, 'token')) {
      if (hits.some(([hs, he]) => hs < b && he > a)) found.push({ start: a, end: b, subjects: new Set(v.subjects) });
    }
  }
  found.sort((x, y) => x.start - y.start || y.end - x.end);
  const merged: Array<{ start: number; end: number; subjects: Set<string> }> = [];
  for (const f of found) {
    const last = merged.at(-1);
    if (last && f.start < last.end) {
      last.end = Math.max(last.end, f.end);
      for (const ref of f.subjects) last.subjects.add(ref);
    } else {
      merged.push(f);
    }
  }
  return merged.map((m) => ({ start: m.start, end: m.end, subjects: [...m.subjects] }));
}

/** The record with the tokens of `refs` replaced by `replacement`, every other byte as it was. */
export function redactTokens(bytes: Buffer, tokens: readonly TokenSpan[], refs: ReadonlySet<string>, replacement: string): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const t of tokens) {
    if (!t.subjects.some((ref) => refs.has(ref))) continue;
    parts.push(bytes.subarray(at, t.start), Buffer.from(replacement, 'utf8'));
    at = t.end;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts);
}

/** What a rewrite does with a malformed record of `refs`: redact their tokens, or keep it to be reported. */
export function malformedDecision(
  mode: 'redact' | 'report',
  record: { readonly bytes: Buffer; readonly malformed?: { readonly tokens: readonly TokenSpan[] } },
  refs: ReadonlySet<string>,
  replacement: string,
): { readonly kind: 'keep' } | { readonly kind: 'replace'; readonly bytes: Buffer } {
  if (mode === 'report' || !record.malformed) return { kind: 'keep' };
  const bytes = redactTokens(record.bytes, record.malformed.tokens, refs, replacement);
  return bytes.equals(record.bytes) ? { kind: 'keep' } : { kind: 'replace', bytes };
}
