/**
 * Exact identifier matching for log records, on normalized values (see identifiers.ts): what a
 * match is lives in identifier-targets.ts (token boundaries in token-boundaries.ts); this module
 * matches records against many subjects' values at once.
 *
 * Values are compared literally (never a RegExp built from a value), on parsed field values:
 * JSON and CSV escapes are undone by the parsers before comparison. The byte prefilter that
 * decides which records are worth parsing (see RecordMatcher.candidates) is conservative: it
 * only ever adds candidates, so escaping can never hide a record.
 */
import type { IdentifierType } from './datamap';
import type { Identity } from '../connectors/types';
import { targetOf, targetSpans, type IdentifierTarget, type MatchMode } from './identifier-targets';
import { quotedValueForms, writtenTokens, type IdentifierSettings, type WrittenToken } from './identifiers';
import { indexOfByte, unescapeJsonBytes } from './json-escapes';
import { compilePatterns, type PatternSet } from './multi-pattern';

export { fieldMatches, redactMentions, targetOf, targetSpans, type IdentifierTarget, type MatchMode } from './identifier-targets';
export { unescapeJsonBytes } from './json-escapes';
export { mapAtPath, valuesAtPath } from './record-paths';
export { containsToken, continuationClass, tokenOccurrences } from './token-boundaries';

/** One identifier-bearing field of a log record, as the data map declares it. */
export interface RecordFieldSpec {
  /** Dotted path in a JSON record, or a CSV column name. */
  readonly path: string;
  readonly identifier: IdentifierType;
  readonly match: MatchMode;
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
