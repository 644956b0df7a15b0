/**
 * One identifier value as matching needs it, and where it is written in a field's text.
 *
 * A field matches an identifier value when
 * - `value`: the whole field, normalized, equals the value's canonical form (`(514) 555-0101`,
 *   `sip:+15145550101@pbx.example.net;user=phone` and `+15145550101` are one number;
 *   `Jean.Tremblay@Example.COM` is `jean.tremblay@example.com`);
 * - `token`: a written value inside the field does: phones, emails and IPs are found as
 *   written values (digit groups, addresses) and normalized one by one; ids and SIP usernames
 *   occur as a whole token (see token-boundaries.ts).
 *
 * A written value also has to contain one of its canonical value's search forms (the byte
 * strings the prefilter looks for), so a match is always a prefilter candidate. A value that
 * does not normalize (a phone number with no country code and no default country) is matched
 * literally, as it is written.
 */
import type { IdentifierType } from './datamap';
import { containsForm, foldsCase, isVerbatim, normalize, searchForms, writtenTokens, type IdentifierSettings, type WrittenToken } from './identifiers';
import { continuationClass, tokenOccurrences } from './token-boundaries';

export type MatchMode = 'value' | 'token';

/**
 * One identifier value as matching needs it: its canonical form (or the value as written when
 * it does not normalize), the search forms the prefilter looks for, and the settings its
 * written forms are read with.
 */
export interface IdentifierTarget {
  readonly type: IdentifierType;
  readonly value: string;
  readonly normalized: boolean;
  readonly forms: readonly string[];
  /** `forms` are tested against the field's text in JSON quotes (a JSON Lines value field). */
  readonly quoted?: boolean;
  readonly fold: boolean;
  readonly settings: IdentifierSettings;
}

export function targetOf(type: IdentifierType, raw: string, settings: IdentifierSettings = {}): IdentifierTarget {
  const canonical = normalize(type, raw, settings);
  const value = canonical ?? raw;
  const normalized = canonical !== undefined;
  return { type, value, normalized, forms: normalized ? searchForms(type, value) : [raw], fold: normalized && foldsCase(type, value), settings };
}

/**
 * The spans [start, end) of `text` where the target is written (for `value`: the whole text or
 * nothing), left to right and not overlapping. `tokens`: the text's written values of the
 * target's type, when the caller has them already.
 */
export function targetSpans(target: IdentifierTarget, text: string, mode: MatchMode, tokens?: readonly WrittenToken[]): Array<[number, number]> {
  if (target.value.length === 0) return [];
  if (!target.normalized) {
    if (mode === 'value') return text === target.value ? [[0, text.length]] : [];
    return tokenOccurrences(text, target.value, continuationClass(target.type, target.value)).map((i) => [i, i + target.value.length]);
  }
  if (mode === 'value') {
    if (isVerbatim(target.type)) return text === target.value ? [[0, text.length]] : [];
    const seen = target.quoted ? `"${text}"` : text;
    return normalize(target.type, text, target.settings) === target.value && containsForm(seen, target.forms, target.fold) ? [[0, text.length]] : [];
  }
  const found = tokens ?? writtenTokens(target.type, text, target.settings);
  if (!found) return tokenOccurrences(text, target.value, continuationClass(target.type, target.value)).map((i) => [i, i + target.value.length]);
  const spans = found
    .filter((t) => t.value === target.value && containsForm(text.slice(t.start, t.end), target.forms, target.fold))
    .map((t): [number, number] => [t.start, t.end]);
  return longestDisjoint(spans);
}

/** Of overlapping spans, the one starting first (the longest of those): `1-514-555-0101` over `514-555-0101`. */
function longestDisjoint(spans: Array<[number, number]>): Array<[number, number]> {
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const out: Array<[number, number]> = [];
  for (const s of spans) if (out.length === 0 || s[0] >= out[out.length - 1][1]) out.push(s);
  return out;
}

/** Does one field value match one identifier value under the given mode? */
export function fieldMatches(fieldValue: string, identifierValue: string, type: IdentifierType, mode: MatchMode, settings: IdentifierSettings = {}): boolean {
  if (identifierValue.length === 0) return false;
  return targetSpans(targetOf(type, identifierValue, settings), fieldValue, mode).length > 0;
}

/**
 * `text` with every written occurrence of each value replaced by `replacement` (for a `value`
 * field: the whole field when it matches a value). Values are targets (a matcher's values), or
 * plain values read without settings.
 */
export function redactMentions(
  text: string,
  values: ReadonlyArray<IdentifierTarget | { readonly type: IdentifierType; readonly value: string }>,
  mode: MatchMode,
  replacement: string,
): string {
  const targets = values.map((v) => ('forms' in v ? v : targetOf(v.type, v.value)));
  const spans = targets.flatMap((t) => targetSpans(t, text, mode));
  if (spans.length === 0) return text;
  if (mode === 'value') return replacement;
  let out = text;
  const chosen = longestDisjoint(spans);
  for (let k = chosen.length - 1; k >= 0; k--) out = out.slice(0, chosen[k][0]) + replacement + out.slice(chosen[k][1]);
  return out;
}
