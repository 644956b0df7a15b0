/**
 * Log records that do not parse (a truncated JSON line, a CSV row that does not frame) can still
 * hold a subject's identifier. Field matching cannot see them, so they are searched as bytes:
 * every place the prefilter finds one of its patterns (whatever written forms of a value it was
 * given) that stands as a whole token, under the continuation rules of the value's type, so
 * `cust-1` inside `cust-10` is not a hit. Such a record is then redacted in place: each token is
 * replaced and every other byte kept, or, where the store says `malformed: report`, left as it is
 * and reported.
 */
import { continuationClass, type RecordMatcher } from '../core/matching';

/** Where an identifier stands in a record's bytes (offsets relative to the record), and whose it is. */
export interface TokenSpan {
  readonly start: number;
  readonly end: number;
  readonly subjects: readonly string[];
}

const DOT = 0x2e;

function isWholeToken(buf: Uint8Array, s: number, ce: number, a: number, b: number, continues: (code: number) => boolean): boolean {
  if (a > s && continues(buf[a - 1])) return false;
  if (b >= ce) return true;
  const next = buf[b];
  if (!continues(next)) return true;
  // A trailing full stop ends the token unless what follows it continues the value (as matching does).
  return next === DOT && (b + 1 >= ce || !continues(buf[b + 1]));
}

/** The subjects' identifiers in the raw record buf[s, ce), as whole tokens, merged where they overlap. */
export function identifierTokens(matcher: RecordMatcher, buf: Uint8Array, s: number, ce: number): TokenSpan[] {
  const found: Array<{ start: number; end: number; subjects: Set<string> }> = [];
  for (const hit of matcher.prefilter.occurrences(buf, s, ce)) {
    const pattern = Buffer.from(buf.buffer, buf.byteOffset + hit.start, hit.end - hit.start);
    for (const v of matcher.valuesOfPattern(hit.pattern)) {
      // A pattern may wrap its value (the quotes of a JSON string): only the value is replaced.
      // A pattern that is another written form of the value is replaced whole.
      const at = pattern.indexOf(Buffer.from(v.value, 'utf8'));
      const a = at >= 0 ? hit.start + at : hit.start;
      const b = at >= 0 ? a + Buffer.byteLength(v.value, 'utf8') : hit.end;
      if (!isWholeToken(buf, s, ce, a, b, continuationClass(v.type, v.value))) continue;
      found.push({ start: a - s, end: b - s, subjects: new Set(v.subjects) });
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
      merged.push({ ...f, subjects: new Set(f.subjects) });
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
