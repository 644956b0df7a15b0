/**
 * Exact identifier matching for log records.
 *
 * A record field matches an identifier value when
 * - `value`: the whole field equals it;
 * - `token`: the value occurs in the field as a whole token: the character just before and the
 *   character just after the occurrence cannot continue a value of that identifier type. So
 *   `cust-1` never matches `cust-10`, `+15145550101` never matches `+151455501012`, and
 *   `bob@example.com` never matches inside `alice.bob@example.com`; but `+15145550101` does
 *   match inside `sip:+15145550101@pbx.voip.example`.
 *
 * Values are compared literally (String.indexOf, never a RegExp built from a value), on parsed
 * field values: JSON and CSV escapes are undone by the parsers before comparison. The byte
 * prefilter that decides which records are worth parsing (see RecordMatcher.candidates) is
 * conservative: it only ever adds candidates, so escaping can never hide a record.
 *
 * One refinement of the boundary rule: a "." right after an occurrence continues the value only
 * when the character after that "." does too, so the full stop in "write to bob@example.com."
 * ends the address, while "bob@example.com.au" is another address.
 */
import type { IdentifierType } from './datamap';
import type { Identity } from '../connectors/types';
import { compilePatterns, type PatternSet } from './multi-pattern';

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

/** Does one field value match one identifier value under the given mode? */
export function fieldMatches(fieldValue: string, identifierValue: string, type: IdentifierType, mode: MatchMode): boolean {
  if (identifierValue.length === 0) return false;
  if (mode === 'value') return fieldValue === identifierValue;
  return containsToken(fieldValue, identifierValue, continuationClass(type, identifierValue));
}

/**
 * The scalar values at a dotted path of a parsed JSON record, as strings (numbers in their
 * JavaScript form; other types are not identifiers). Arrays on the way are traversed, so
 * `to` holding `["sip:a", "sip:b"]` yields both. A key that itself contains dots is found too.
 */
export function valuesAtPath(record: unknown, path: string): string[] {
  const out: string[] = [];
  collect(record, path, out);
  return out;
}

function collect(node: unknown, path: string, out: string[]): void {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, path, out);
    return;
  }
  if (path === '') {
    if (typeof node === 'string') out.push(node);
    else if (typeof node === 'number' && Number.isFinite(node)) out.push(String(node));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(obj, path)) {
    collect(obj[path], '', out);
    return;
  }
  // Try every split point, longest first key first, so "a.b.c" finds {"a.b": {"c": ...}} too.
  let dot = path.indexOf('.');
  while (dot > 0) {
    const head = path.slice(0, dot);
    if (Object.prototype.hasOwnProperty.call(obj, head)) collect(obj[head], path.slice(dot + 1), out);
    dot = path.indexOf('.', dot + 1);
  }
}

/**
 * Replaces the node(s) at a dotted path, found the way `valuesAtPath` finds them (arrays on the
 * way traversed, literal dotted keys first), with `fn(node)`. Returns how many were replaced;
 * absent paths are left absent.
 */
export function mapAtPath(record: unknown, path: string, fn: (node: unknown) => unknown): number {
  if (Array.isArray(record)) return record.reduce((n: number, item) => n + mapAtPath(item, path, fn), 0);
  if (record === null || typeof record !== 'object' || path === '') return 0;
  const obj = record as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(obj, path)) {
    const node = obj[path];
    if (Array.isArray(node)) {
      node.forEach((item, i) => (node[i] = fn(item)));
      return node.length;
    }
    obj[path] = fn(node);
    return 1;
  }
  let n = 0;
  let dot = path.indexOf('.');
  while (dot > 0) {
    const head = path.slice(0, dot);
    if (Object.prototype.hasOwnProperty.call(obj, head)) n += mapAtPath(obj[head], path.slice(dot + 1), fn);
    dot = path.indexOf('.', dot + 1);
  }
  return n;
}

/**
 * `text` with every whole-token occurrence of each value replaced by `replacement` (for a
 * `value` field: the whole field when it equals a value).
 */
export function redactMentions(text: string, values: readonly { type: IdentifierType; value: string }[], mode: MatchMode, replacement: string): string {
  if (mode === 'value') return values.some((v) => v.value === text) ? replacement : text;
  // Longest first, so a value that contains another is replaced whole.
  let out = text;
  for (const v of [...values].sort((a, b) => b.value.length - a.value.length)) {
    const at = tokenOccurrences(out, v.value, continuationClass(v.type, v.value));
    for (let k = at.length - 1; k >= 0; k--) out = out.slice(0, at[k]) + replacement + out.slice(at[k] + v.value.length);
  }
  return out;
}

/** One distinct identifier value of the matcher (an identifier type and a value), and who has it. */
export interface MatcherValue {
  readonly type: IdentifierType;
  readonly value: string;
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
  ) {
    const wanted = new Set(fields.map((f) => f.identifier));
    const index = new Map<string, { type: IdentifierType; value: string; subjects: string[] }>();
    for (const [ref, identity] of subjects) {
      for (const type of wanted) {
        for (const value of identity[type] ?? []) {
          if (typeof value !== 'string' || value.length === 0) continue;
          const k = `${type}\u0000${value}`;
          let entry = index.get(k);
          if (!entry) index.set(k, (entry = { type, value, subjects: [] }));
          if (!entry.subjects.includes(ref)) entry.subjects.push(ref);
        }
      }
    }
    this.values = [...index.values()];
    this.valueUnits = new Set(this.values.flatMap((v) => [...Array(v.value.length).keys()].map((i) => v.value.charCodeAt(i))));

    // Byte patterns: a value's UTF-8, and for CSV also its form with every quote doubled
    // (how it appears inside a quoted field). JSON escapes are undone before the prefilter
    // looks at a line that has any (see candidates), so they need no pattern of their own.
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
    // In JSON Lines, a type that only `value` fields use can only match a whole JSON string, so
    // its pattern includes the quotes: `"u123"` is not a candidate inside `"u1234"`. (Escapes
    // inside the string are undone before the second look, quotes included, so this stays
    // conservative.) A value that reads as a JSON number keeps its bare form too, since a
    // numeric field is compared by its decimal text.
    const valueOnly = new Set([...wanted].filter((t) => fields.every((f) => f.identifier !== t || f.match === 'value')));
    this.values.forEach((v, id) => {
      if (format === 'jsonl' && valueOnly.has(v.type)) {
        addPattern(Buffer.from(`"${v.value}"`, 'utf8'), id);
        if (JSON_NUMBER.test(v.value)) addPattern(Buffer.from(v.value, 'utf8'), id);
      } else {
        addPattern(Buffer.from(v.value, 'utf8'), id);
      }
      if (format === 'csv' && v.value.includes('"')) addPattern(Buffer.from(v.value.replaceAll('"', '""'), 'utf8'), id);
    });
    this.prefilter = compilePatterns(patterns);

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
      const plain = unescapeJsonBytes(buf, start, end);
      for (const hit of this.prefilter.occurrences(plain, 0, plain.length)) for (const v of this.patternValues[hit.pattern]) ids.add(v);
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
    for (const id of ids) {
      const v = this.values[id];
      for (const f of this.fieldsByType.get(v.type) ?? []) {
        let got = fieldValues.get(f.path);
        if (!got) fieldValues.set(f.path, (got = get(f.path)));
        if (!got.some((fv) => fieldMatches(fv, v.value, v.type, f.match))) continue;
        for (const ref of v.subjects) {
          const paths = result.get(ref) ?? [];
          if (!paths.includes(f.path)) paths.push(f.path);
          result.set(ref, paths);
        }
      }
    }
    return result;
  }

  /** The values a prefilter pattern stands for (one written form of each): to locate them in raw bytes. */
  valuesOfPattern(pattern: number): readonly MatcherValue[] {
    return this.patternValues[pattern].map((id) => this.values[id]);
  }

  /** The values (of the given subjects) that a field mentions, for redacting mentions. */
  valuesIn(fieldValue: string, spec: RecordFieldSpec, subjectRefs: ReadonlySet<string>): MatcherValue[] {
    return this.values.filter(
      (v) => v.type === spec.identifier && v.subjects.some((s) => subjectRefs.has(s)) && fieldMatches(fieldValue, v.value, v.type, spec.match),
    );
  }
}

function indexOfByte(buf: Uint8Array, byte: number, start: number, end: number): number {
  const i = buf.indexOf(byte, start);
  return i >= 0 && i < end ? i : -1;
}

/**
 * Undoes JSON string escapes in raw bytes (outside strings there are none in valid JSON):
 * `\"`, `\\`, `\/`, `\b\f\n\r\t`, and `\uXXXX` including surrogate pairs, as UTF-8. A lone
 * surrogate becomes U+FFFD, as Buffer.from does with a string holding one, so the result can
 * be searched for the UTF-8 of a parsed value. Invalid escapes are copied as they are.
 */
export function unescapeJsonBytes(buf: Uint8Array, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  let o = 0;
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b !== 0x5c || i + 1 >= end) {
      out[o++] = b;
      i++;
      continue;
    }
    const e = buf[i + 1];
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out[o++] = simple;
      i += 2;
      continue;
    }
    if (e === 0x75 /* u */) {
      const unit = hex4(buf, i + 2, end);
      if (unit < 0) {
        out[o++] = b;
        i++;
        continue;
      }
      let cp = unit;
      let consumed = 6;
      if (unit >= 0xd800 && unit <= 0xdbff) {
        const low = buf[i + 6] === 0x5c && buf[i + 7] === 0x75 ? hex4(buf, i + 8, end) : -1;
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
          consumed = 12;
        } else {
          cp = 0xfffd;
        }
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        cp = 0xfffd;
      }
      o += utf8(cp, out, o);
      i += consumed;
      continue;
    }
    out[o++] = b;
    i++;
  }
  return out.subarray(0, o);
}

const SIMPLE_ESCAPES: Record<number, number> = {
  0x22: 0x22,
  0x5c: 0x5c,
  0x2f: 0x2f,
  0x62: 0x08,
  0x66: 0x0c,
  0x6e: 0x0a,
  0x72: 0x0d,
  0x74: 0x09,
};

function hex4(buf: Uint8Array, at: number, end: number): number {
  if (at + 4 > end) return -1;
  let v = 0;
  for (let k = at; k < at + 4; k++) {
    const c = buf[k];
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Writes a code point as UTF-8 (at most 4 bytes; never longer than the 6-byte escape it replaces). */
function utf8(cp: number, out: Buffer, at: number): number {
  if (cp < 0x80) {
    out[at] = cp;
    return 1;
  }
  if (cp < 0x800) {
    out[at] = 0xc0 | (cp >> 6);
    out[at + 1] = 0x80 | (cp & 0x3f);
    return 2;
  }
  if (cp < 0x10000) {
    out[at] = 0xe0 | (cp >> 12);
    out[at + 1] = 0x80 | ((cp >> 6) & 0x3f);
    out[at + 2] = 0x80 | (cp & 0x3f);
    return 3;
  }
  out[at] = 0xf0 | (cp >> 18);
  out[at + 1] = 0x80 | ((cp >> 12) & 0x3f);
  out[at + 2] = 0x80 | ((cp >> 6) & 0x3f);
  out[at + 3] = 0x80 | (cp & 0x3f);
  return 4;
}
