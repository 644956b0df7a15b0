/**
 * Exact identifier matching for log records, on normalized values (see identifiers.ts).
 *
 * A record field matches an identifier value when
 * - `value`: the whole field, normalized, equals the value's canonical form (`(514) 555-0101`,
 *   `sip:+15145550101@pbx.example.net;user=phone` and `+15145550101` are one number;
 *   `Jean.Tremblay@Example.COM` is `jean.tremblay@example.com`);
 * - `token`: a written value inside the field does: phones, emails and IPs are found as
 *   written values (digit groups, addresses) and normalized one by one; ids and SIP usernames
 *   occur as a whole token: the characters just before and after cannot continue a value of
 *   that type. So `cust-1` never matches `cust-10`, `+15145550101` never matches
 *   `+151455501012`, and `bob@example.com` never matches inside `alice.bob@example.com`.
 *
 * A written value also has to contain one of its canonical value's search forms (the byte
 * strings the prefilter looks for), so a match is always a prefilter candidate. A value that
 * does not normalize (a phone number with no country code and no default country) is matched
 * literally, as it is written.
 *
 * Values are compared literally (never a RegExp built from a value), on parsed field values:
 * JSON and CSV escapes are undone by the parsers before comparison. The byte prefilter that
 * decides which records are worth parsing (see RecordMatcher.candidates) is conservative: it
 * only ever adds candidates, so escaping can never hide a record.
 *
 * One refinement of the boundary rule: a "." right after an occurrence continues the value only
 * when the character after that "." does too, so the full stop in "write to bob@example.com."
 * ends the address, while "bob@example.com.au" is another address.
 */
import type { IdentifierType } from './datamap';
import type { Identity } from '../connectors/types';
import { containsForm, foldsCase, isVerbatim, normalize, quotedValueForms, searchForms, writtenTokens, type IdentifierSettings, type WrittenToken } from './identifiers';
import { indexOfByte, unescapeJsonBytes } from './json-escapes';
import { compilePatterns, type PatternSet } from './multi-pattern';

export { unescapeJsonBytes } from './json-escapes';
export { mapAtPath, valuesAtPath } from './record-paths';

export type MatchMode = 'value' | 'token';

/** One identifier-bearing field of a log record, as the data map declares it. */
export interface RecordFieldSpec {
  /** Dotted path in a JSON record, or a CSV column name. */
  readonly path: string;
  readonly identifier: IdentifierType;
  readonly match: MatchMode;
}

const DOT = 0x2e;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** phone: [0-9+] */
const phoneClass = (c: number): boolean => isDigit(c) || c === 0x2b;
/** email: [A-Za-z0-9._%+\-@] */
const emailClass = (c: number): boolean =>
  isDigit(c) || isAlpha(c) || c === DOT || c === 0x5f || c === 0x25 || c === 0x2b || c === 0x2d || c === 0x40;
/** IPv4: [0-9.] */
const ipv4Class = (c: number): boolean => isDigit(c) || c === DOT;
/** IPv6: [0-9A-Fa-f:.] */
const ipv6Class = (c: number): boolean => isHex(c) || c === 0x3a || c === DOT;
/** ids, usernames, device ids: [A-Za-z0-9_.\-] */
const idClass = (c: number): boolean => isDigit(c) || isAlpha(c) || c === 0x5f || c === DOT || c === 0x2d;

/**
 * The characters that can continue a value of this identifier type, as a test on a UTF-16
 * code unit. For `ip` the value decides between the IPv4 and the IPv6 class.
 */
export function continuationClass(type: IdentifierType, value: string): (code: number) => boolean {
  switch (type) {
    case 'phone':
      return phoneClass;
    case 'email':
      return emailClass;
    case 'ip':
      return value.includes(':') ? ipv6Class : ipv4Class;
    case 'subjectId':
    case 'accountId':
    case 'sipUsername':
    case 'deviceId':
      return idClass;
  }
}

/**
 * True when `needle` occurs in `haystack` as a whole token: every occurrence is tried, so a
 * later whole-token occurrence is found after an earlier one that was part of a longer value.
 */
export function containsToken(haystack: string, needle: string, continues: (code: number) => boolean): boolean {
  return tokenOccurrences(haystack, needle, continues, true).length > 0;
}

/** Start offsets (UTF-16) of the whole-token occurrences of `needle` in `haystack`, left to right, not overlapping. */
export function tokenOccurrences(haystack: string, needle: string, continues: (code: number) => boolean, firstOnly = false): number[] {
  const found: number[] = [];
  if (needle.length === 0) return found;
  let i = haystack.indexOf(needle);
  while (i >= 0) {
    if (isWholeToken(haystack, i, needle.length, continues)) {
      found.push(i);
      if (firstOnly) return found;
      i = haystack.indexOf(needle, i + needle.length);
    } else {
      i = haystack.indexOf(needle, i + 1);
    }
  }
  return found;
}

function isWholeToken(haystack: string, start: number, length: number, continues: (code: number) => boolean): boolean {
  if (start > 0 && continues(haystack.charCodeAt(start - 1))) return false;
  const after = start + length;
  if (after >= haystack.length) return true;
  const next = haystack.charCodeAt(after);
  if (!continues(next)) return true;
  // A trailing full stop ends the token unless what follows it continues the value.
  if (next === DOT && (after + 1 >= haystack.length || !continues(haystack.charCodeAt(after + 1)))) return true;
  return false;
}

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

/** One distinct identifier value of the matcher (an identifier type and a canonical value), and who has it. */
export interface MatcherValue extends IdentifierTarget {
  readonly subjects: readonly string[];
}

/** A record's matches: per subject reference, the field paths that mention that subject. */
export type RecordMatches = Map<string, string[]>;

export type RecordFormat = 'jsonl' | 'csv';

const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/**
 * Matches records against many subjects at once. Built once per store and batch of subjects;
 * `candidates` is the cheap byte-level test, `match` the exact test on a parsed record.
 */
export class RecordMatcher {
  readonly values: readonly MatcherValue[];
  readonly prefilter: PatternSet;
  /** For each prefilter pattern, the values it stands for. */
  private readonly patternValues: number[][];
  private readonly fieldsByType: Map<IdentifierType, RecordFieldSpec[]>;
  /** Every UTF-16 code unit of every value: an escape that decodes to none of them hides nothing. */
  private readonly valueUnits: Set<number>;

  constructor(
    readonly fields: readonly RecordFieldSpec[],
    subjects: ReadonlyMap<string, Identity>,
    readonly format: RecordFormat,
    /** How the store writes identifiers (its default phone country). */
    readonly settings: IdentifierSettings = {},
  ) {
    const wanted = new Set(fields.map((f) => f.identifier));
    // In JSON Lines, a type that only `value` fields use can only match a whole JSON string, so
    // its search forms include the quotes (or the URI punctuation around it): `"u123"` is not a
    // candidate inside `"u1234"` (see quotedValueForms). Escapes inside the string are undone
    // before the second look, quotes included, so this stays conservative. A value that reads
    // as a JSON number keeps its bare form too, since a numeric field is compared by its text.
    const valueOnly = new Set([...wanted].filter((t) => format === 'jsonl' && fields.every((f) => f.identifier !== t || f.match === 'value')));
    const asField = (target: IdentifierTarget): IdentifierTarget => {
      if (!valueOnly.has(target.type)) return target;
      const quoted = target.normalized ? quotedValueForms(target.type, target.value) : [`"${target.value}"`];
      if (!quoted) return target;
      return { ...target, forms: JSON_NUMBER.test(target.value) ? [...quoted, target.value] : quoted, quoted: true };
    };
    // One entry per canonical value: `(514) 555-0101` and `+15145550101` of one identity, or of
    // two, are one value.
    const index = new Map<string, MatcherValue & { subjects: string[] }>();
    for (const [ref, identity] of subjects) {
      for (const type of wanted) {
        for (const raw of identity[type] ?? []) {
          if (typeof raw !== 'string' || raw.length === 0) continue;
          const target = asField(targetOf(type, raw, settings));
          const k = `${type}\u0000${target.normalized ? 'n' : 'r'}${target.value}`;
          let entry = index.get(k);
          if (!entry) index.set(k, (entry = { ...target, subjects: [] }));
          if (!entry.subjects.includes(ref)) entry.subjects.push(ref);
        }
      }
    }
    this.values = [...index.values()];
    const fold = this.values.some((v) => v.fold);
    this.valueUnits = new Set();
    for (const v of this.values) {
      for (const form of v.forms) {
        const variants = fold ? [form, form.toLowerCase(), form.toUpperCase()] : [form];
        for (const f of variants) for (let i = 0; i < f.length; i++) this.valueUnits.add(f.charCodeAt(i));
      }
    }
    // The quotes of a quoted form are the JSON string's own delimiters, never escaped: a text
    // that matches holds no quote (an id or a SIP username as written, a SIP URI, whose `:u@`
    // form needs none, an IP address), so when no value holds one, an escaped quote (`\"` in a
    // SIP display name, on a quarter of the lines) cannot hide a value and needs no second look.
    if (this.values.every((v) => !v.value.includes('"') && (v.quoted || v.forms.every((f) => !f.includes('"'))))) this.valueUnits.delete(0x22);

    // Byte patterns: each search form's UTF-8, and for CSV also its form with every quote
    // doubled (how it appears inside a quoted field). JSON escapes are undone before the
    // prefilter looks at a line that has any (see candidates), so they need no pattern of their
    // own. With an email value, the whole set is searched ignoring ASCII case.
    const patternIndex = new Map<string, number>();
    const patterns: Uint8Array[] = [];
    this.patternValues = [];
    const addPattern = (bytes: Buffer, valueId: number): void => {
      const k = bytes.toString('latin1');
      let id = patternIndex.get(k);
      if (id === undefined) {
        id = patterns.length;
        patternIndex.set(k, id);
        patterns.push(new Uint8Array(bytes));
        this.patternValues.push([]);
      }
      if (!this.patternValues[id].includes(valueId)) this.patternValues[id].push(valueId);
    };
    this.values.forEach((v, id) => {
      for (const form of v.forms) {
        addPattern(Buffer.from(form, 'utf8'), id);
        if (format === 'csv' && form.includes('"')) addPattern(Buffer.from(form.replaceAll('"', '""'), 'utf8'), id);
      }
    });
    this.prefilter = compilePatterns(patterns, { foldCase: fold });

    this.fieldsByType = new Map();
    for (const f of fields) {
      const list = this.fieldsByType.get(f.identifier) ?? [];
      list.push(f);
      this.fieldsByType.set(f.identifier, list);
    }
  }

  get empty(): boolean {
    return this.values.length === 0;
  }

  /**
   * The values whose bytes occur in the raw record [start, end): a superset of the values the
   * record can match. For JSON Lines, a record with a backslash is also searched with its
   * escapes undone, so `\u0040` or `\"` inside a value never hides it.
   *
   * `hint` lets a caller that already ran the prefilter over the record (the patterns it found
   * there) and asked `escapeMayHideValue` skip repeating either.
   */
  candidates(buf: Uint8Array, start: number, end: number, hint?: { readonly patterns: readonly number[]; readonly escapeMayHide: boolean }): Set<number> {
    const ids = new Set<number>();
    if (hint) {
      for (const p of hint.patterns) for (const v of this.patternValues[p]) ids.add(v);
    } else {
      for (const hit of this.prefilter.occurrences(buf, start, end)) for (const v of this.patternValues[hit.pattern]) ids.add(v);
    }
    const hidden = hint ? hint.escapeMayHide : this.format === 'jsonl' && this.escapeMayHideValue(buf, start, end);
    if (hidden) {
      // An occurrence in the unescaped line that holds no byte of an undone escape is a run of
      // the raw line, which the raw search has seen: only the bytes around each undone escape
      // (a pattern's length either side) need searching again.
      const decoded: number[] = [];
      const plain = unescapeJsonBytes(buf, start, end, decoded);
      const reach = this.prefilter.maxLength - 1;
      for (let d = 0; d < decoded.length; ) {
        const from = Math.max(0, decoded[d] - reach);
        let to = Math.min(plain.length, decoded[d + 1] + reach);
        // Windows that overlap are searched as one, so an occurrence is never cut in two.
        for (d += 2; d < decoded.length && decoded[d] - reach < to; d += 2) to = Math.min(plain.length, decoded[d + 1] + reach);
        for (const hit of this.prefilter.occurrences(plain, from, to)) for (const v of this.patternValues[hit.pattern]) ids.add(v);
      }
    }
    return ids;
  }

  /**
   * Whether undoing the JSON escapes of [start, end) could reveal a value the raw bytes do not
   * show. A value can only be hidden by an escape that stands for one of its own characters
   * (the quotes around a JSON string are never escaped), so lines whose escapes all decode to
   * other characters — the usual `\"` and `\/` of log lines — need no second look. Anything
   * unusual (a malformed escape, a surrogate) answers yes.
   */
  escapeMayHideValue(buf: Uint8Array, start: number, end: number): boolean {
    if (this.format !== 'jsonl') return false;
    let i = indexOfByte(buf, 0x5c, start, end);
    while (i >= 0) {
      if (i + 1 >= end) return true;
      const c = buf[i + 1];
      let unit: number;
      let length = 2;
      switch (c) {
        case 0x22: // \"
        case 0x5c: // \\
        case 0x2f: // \/
          unit = c;
          break;
        case 0x62:
          unit = 0x08;
          break;
        case 0x66:
          unit = 0x0c;
          break;
        case 0x6e:
          unit = 0x0a;
          break;
        case 0x72:
          unit = 0x0d;
          break;
        case 0x74:
          unit = 0x09;
          break;
        case 0x75: {
          if (i + 6 > end) return true;
          const hex = String.fromCharCode(buf[i + 2], buf[i + 3], buf[i + 4], buf[i + 5]);
          if (!/^[0-9A-Fa-f]{4}$/.test(hex)) return true;
          unit = parseInt(hex, 16);
          if (unit >= 0xd800 && unit <= 0xdfff) return true;
          length = 6;
          break;
        }
        default:
          return true;
      }
      if (this.valueUnits.has(unit)) return true;
      i = indexOfByte(buf, 0x5c, i + length, end);
    }
    return false;
  }

  /**
   * The exact test. `get(path)` returns the field's values (parsed JSON: `valuesAtPath`; CSV:
   * the column). Only `candidateIds` are tried; pass `undefined` to try every value (slow, for
   * verification and tests).
   */
  match(get: (path: string) => readonly string[], candidateIds?: Iterable<number>): RecordMatches {
    const result: RecordMatches = new Map();
    const ids = candidateIds ?? this.values.map((_v, i) => i);
    const fieldValues = new Map<string, readonly string[]>();
    // A free-text field is read for written values once per type, however many values are tried.
    const tokens = new Map<string, Array<readonly WrittenToken[] | undefined>>();
    for (const id of ids) {
      const v = this.values[id];
      for (const f of this.fieldsByType.get(v.type) ?? []) {
        let got = fieldValues.get(f.path);
        if (!got) fieldValues.set(f.path, (got = get(f.path)));
        let read: Array<readonly WrittenToken[] | undefined> | undefined;
        if (f.match === 'token' && v.normalized) {
          const k = `${v.type}\u0000${f.path}`;
          read = tokens.get(k);
          if (!read) tokens.set(k, (read = got.map((fv) => writtenTokens(v.type, fv, this.settings))));
        }
        if (!got.some((fv, i) => targetSpans(v, fv, f.match, read?.[i]).length > 0)) continue;
        for (const ref of v.subjects) {
          const paths = result.get(ref) ?? [];
          if (!paths.includes(f.path)) paths.push(f.path);
          result.set(ref, paths);
        }
      }
    }
    return result;
  }

  /** The ids (in `values`) of the values a prefilter pattern stands for: a hit is one of their search forms. */
  valueIdsOfPattern(pattern: number): readonly number[] {
    return this.patternValues[pattern];
  }

  /** The values (of the given subjects) that a field mentions, for redacting mentions. */
  valuesIn(fieldValue: string, spec: RecordFieldSpec, subjectRefs: ReadonlySet<string>): MatcherValue[] {
    return this.values.filter((v) => v.type === spec.identifier && v.subjects.some((s) => subjectRefs.has(s)) && targetSpans(v, fieldValue, spec.match).length > 0);
  }
}
