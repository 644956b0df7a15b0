import fc from 'fast-check';
import type { IdentifierType } from '../../functions/core/datamap';
import {
  containsToken,
  continuationClass,
  fieldMatches,
  mapAtPath,
  RecordMatcher,
  redactMentions,
  targetOf,
  unescapeJsonBytes,
  valuesAtPath,
  type RecordFieldSpec,
} from '../../functions/core/matching';
import { compilePatterns, PatternHits, type PatternSet } from '../../functions/core/multi-pattern';
import { isVerbatim } from '../../functions/core/identifiers';
import type { Identity } from '../../functions/connectors/types';

describe('fieldMatches: whole tokens only', () => {
  const cases: Array<[IdentifierType, string, string, boolean]> = [
    // ids never match a longer id
    ['accountId', 'cust-1', 'cust-10', false],
    ['accountId', 'cust-1', 'cust-1', true],
    ['accountId', 'cust-1', 'xcust-1', false],
    ['accountId', 'cust-1', 'cust-1_x', false],
    ['accountId', 'cust-1', 'account cust-1 closed', true],
    ['accountId', 'cust-1', 'id=cust-1,', true],
    ['accountId', 'cust-1', 'cust-1.5', false],
    ['accountId', 'cust-1', 'closed cust-1.', true],
    // phones
    ['phone', '+15145550101', '+151455501012', false],
    ['phone', '+15145550101', '1+15145550101', false],
    ['phone', '+15145550101', '++15145550101', false],
    ['phone', '+15145550101', 'sip:+15145550101@pbx.voip.example', true],
    ['phone', '+15145550101', '<sip:+15145550101;user=phone>', true],
    ['phone', '15145550101', '+15145550101', false],
    ['phone', '+15145550101', 'tel:+15145550101', true],
    // emails
    ['email', 'bob@example.com', 'alice.bob@example.com', false],
    ['email', 'bob@example.com', 'bob@example.com.au', false],
    ['email', 'bob@example.com', 'xbob@example.com', false],
    ['email', 'bob@example.com', 'bob@example.community', false],
    ['email', 'bob@example.com', 'login failed for bob@example.com.', true],
    ['email', 'bob@example.com', 'to: <bob@example.com>', true],
    ['email', 'bob@example.com', 'mailto:bob@example.com?subject=x', true],
    ['email', 'bob@example.com', 'a%bob@example.com', false],
    // IPv4 and IPv6
    ['ip', '10.0.0.1', '10.0.0.12', false],
    ['ip', '10.0.0.1', '110.0.0.1', false],
    ['ip', '10.0.0.1', '10.0.0.1:5060', true],
    ['ip', '10.0.0.1', 'from 10.0.0.1.', true],
    ['ip', '10.0.0.1', '10.0.0.1.5', false],
    ['ip', 'fe80::1', 'fe80::1a', false],
    ['ip', 'fe80::1', '[fe80::1]:5060', true],
    ['ip', '::1', 'fe80::1', false],
    ['ip', '2001:db8::1', '2001:db8::1f', false],
    // usernames, devices
    ['sipUsername', 'alice', 'sip:alice@pbx', true],
    ['sipUsername', 'alice', 'sip:alice2@pbx', false],
    ['sipUsername', 'alice', 'sip:malice@pbx', false],
    ['deviceId', 'dev-9', 'dev-99', false],
    ['deviceId', 'dev-9', 'dev-9/line1', true],
  ];
  test.each(cases)('%s %j in %j → %s', (type, value, field, expected) => {
    expect(fieldMatches(field, value, type, 'token')).toBe(expected);
  });

  test('a later whole occurrence is found after an earlier partial one', () => {
    expect(fieldMatches('+151455501012 then +15145550101', '+15145550101', 'phone', 'token')).toBe(true);
    expect(fieldMatches('cust-10 cust-100', 'cust-1', 'accountId', 'token')).toBe(false);
  });

  test('value mode needs the whole field', () => {
    expect(fieldMatches('cust-1', 'cust-1', 'accountId', 'value')).toBe(true);
    expect(fieldMatches('cust-1 ', 'cust-1', 'accountId', 'value')).toBe(false);
    // A SIP URI in a value field is unwrapped to its number (identifiers.ts), so it is the number.
    expect(fieldMatches('sip:+15145550101@pbx', '+15145550101', 'phone', 'value')).toBe(true);
    expect(fieldMatches('sip:+151455501012@pbx', '+15145550101', 'phone', 'value')).toBe(false);
  });

  test('special characters are literal (no RegExp from values)', () => {
    expect(fieldMatches('id a.b*c here', 'a.b*c', 'deviceId', 'token')).toBe(true);
    expect(fieldMatches('id aXb*c here', 'a.b*c', 'deviceId', 'token')).toBe(false);
    expect(fieldMatches('id abbbc here', 'a.b*c', 'deviceId', 'token')).toBe(false);
    expect(fieldMatches('user x"y said', 'x"y', 'sipUsername', 'token')).toBe(true);
    expect(fieldMatches('anything', '(?:)', 'sipUsername', 'token')).toBe(false);
    expect(fieldMatches('a (?:) b', '(?:)', 'sipUsername', 'token')).toBe(true);
    expect(fieldMatches('x', '.*', 'sipUsername', 'value')).toBe(false);
    expect(fieldMatches('user josé ok', 'josé', 'sipUsername', 'token')).toBe(true);
    expect(fieldMatches('user josé2 ok', 'josé', 'sipUsername', 'token')).toBe(false);
    expect(fieldMatches('😀x', '😀', 'sipUsername', 'token')).toBe(false);
    expect(fieldMatches('😀 x', '😀', 'sipUsername', 'token')).toBe(true);
  });

  test('an empty value never matches', () => {
    expect(fieldMatches('', '', 'accountId', 'value')).toBe(false);
    expect(fieldMatches('abc', '', 'accountId', 'token')).toBe(false);
  });
});

describe('paths', () => {
  test('valuesAtPath follows dotted paths, arrays and literal dotted keys', () => {
    const r = { userAgent: { deviceId: 'dev-1' }, to: ['sip:a', 'sip:b'], 'a.b': { c: 'x' }, n: 15145550101, list: [{ id: 'p' }, { id: 'q' }] };
    expect(valuesAtPath(r, 'userAgent.deviceId')).toEqual(['dev-1']);
    expect(valuesAtPath(r, 'to')).toEqual(['sip:a', 'sip:b']);
    expect(valuesAtPath(r, 'a.b.c')).toEqual(['x']);
    expect(valuesAtPath(r, 'n')).toEqual(['15145550101']);
    expect(valuesAtPath(r, 'list.id')).toEqual(['p', 'q']);
    expect(valuesAtPath(r, 'missing.path')).toEqual([]);
    expect(valuesAtPath(r, 'userAgent')).toEqual([]);
  });

  test('mapAtPath replaces what valuesAtPath finds, and nothing else', () => {
    const r = { userAgent: { deviceId: 'dev-1', name: 'x' }, to: ['a', 'b'], keep: 'k' };
    expect(mapAtPath(r, 'userAgent.deviceId', () => null)).toBe(1);
    expect(mapAtPath(r, 'to', (v) => `${String(v)}!`)).toBe(2);
    expect(mapAtPath(r, 'absent', () => 'x')).toBe(0);
    expect(r).toEqual({ userAgent: { deviceId: null, name: 'x' }, to: ['a!', 'b!'], keep: 'k' });
  });

  test('redactMentions replaces only whole-token occurrences', () => {
    const values = [{ type: 'phone' as const, value: '+15145550101' }];
    expect(redactMentions('sip:+15145550101@pbx +151455501012', values, 'token', '[X]')).toBe('sip:[X]@pbx +151455501012');
    expect(redactMentions('+15145550101', values, 'value', '[X]')).toBe('[X]');
    expect(redactMentions('a +15145550101', values, 'value', '[X]')).toBe('a +15145550101');
  });
});

describe('unescapeJsonBytes', () => {
  test('undoes every JSON escape, surrogate pairs included', () => {
    const raw = Buffer.from(String.raw`a\"b\\c\/d\n\u0040\u00e9\ud83d\ude00\ud800x\q`);
    expect(unescapeJsonBytes(raw, 0, raw.length).toString('utf8')).toBe('a"b\\c/d\n@é😀\ufffdx\\q');
  });
  test('agrees with JSON.parse on random strings escaped every which way', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.boolean(), (s, asciiOnly) => {
        const json = asciiOnly ? JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : JSON.stringify(s);
        const bytes = Buffer.from(json.slice(1, -1), 'utf8');
        expect(unescapeJsonBytes(bytes, 0, bytes.length).equals(Buffer.from(JSON.parse(json) as string, 'utf8'))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

/** What a naive search finds: every (end offset, pattern) within [start, end), in end order. */
function naiveHits(patterns: readonly string[], text: string, start: number, end: number): Array<[number, number]> {
  const hits: Array<[number, number]> = [];
  patterns.forEach((p, id) => {
    for (let i = start; i + p.length <= end; i++) if (p.length > 0 && text.startsWith(p, i)) hits.push([i + p.length - 1, id]);
  });
  return hits.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

function scannedHits(set: PatternSet, buf: Buffer, start: number, end: number): Array<[number, number]> {
  const out = new PatternHits();
  set.scanHits(buf, start, end, out);
  return Array.from({ length: out.n }, (_v, i) => [out.ends[i], out.patterns[i]] as [number, number]);
}

describe('multi-pattern automaton', () => {
  test('finds exactly the occurrences a naive search finds', () => {
    const alphabet = fc.constantFrom(...'ab+1@.'.split(''));
    fc.assert(
      fc.property(fc.array(fc.string({ unit: alphabet, minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }), fc.string({ unit: alphabet, maxLength: 80 }), (patterns, text) => {
        const set = compilePatterns(patterns.map((p) => Buffer.from(p)));
        const buf = Buffer.from(text);
        const got = set
          .occurrences(buf, 0, buf.length)
          .map((h) => `${h.pattern}@${h.start}`)
          .sort();
        const want: string[] = [];
        patterns.forEach((p, id) => {
          for (let i = 0; i + p.length <= text.length; i++) if (text.startsWith(p, i)) want.push(`${id}@${i}`);
        });
        expect(got).toEqual(want.sort());
        const ends: number[] = [];
        set.scanEnds(buf, 0, buf.length, (i) => ends.push(i));
        expect(ends).toEqual([...new Set(want.map((w) => Number(w.split('@')[1]) + patterns[Number(w.split('@')[0])].length - 1))].sort((a, b) => a - b));
        expect(set.occursIn(buf, 0, buf.length)).toBe(want.length > 0);
        expect(scannedHits(set, buf, 0, buf.length)).toEqual(naiveHits(patterns, text, 0, buf.length));
      }),
      { numRuns: 400 },
    );
  });

  test('scanEnds agrees with a naive search on long texts: two lanes, native indexOf and single lane', () => {
    const alphabet = fc.constantFrom(...'ab+1@.'.split(''));
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: alphabet, minLength: 1, maxLength: 7 }), { minLength: 1, maxLength: 20 }),
        fc.string({ unit: alphabet, minLength: 4200, maxLength: 9000 }),
        fc.nat(50),
        fc.nat(50),
        (patterns, randomText, cutStart, cutEnd) => {
          const start = Math.min(cutStart, randomText.length);
          const end = Math.max(start, randomText.length - cutEnd);
          // Plant occurrences across the lane boundary (the middle of [start, end)), at every
          // offset, where a wrong warm-up or tail would miss them; also at the range's edges.
          const chars = randomText.split('');
          const mid = start + ((end - start) >> 1);
          const spots = [mid, mid + 1, start, mid - 1, end, end - 1];
          patterns.forEach((p, n) => {
            const b = spots[n % spots.length];
            const at = b - (n % p.length) - (n >= spots.length ? 0 : p.length - 1 - (n % p.length));
            for (let k = 0; k < p.length; k++) if (at + k >= 0 && at + k < chars.length) chars[at + k] = p[k];
          });
          const text = chars.join('');
          const buf = Buffer.from(text);
          const want = new Set<number>();
          for (const p of patterns) for (let i = start; i + p.length <= end; i++) if (text.startsWith(p, i)) want.add(i + p.length - 1);
          const got: number[] = [];
          const set = compilePatterns(patterns.map((p) => Buffer.from(p)));
          set.scanEnds(buf, start, end, (i) => got.push(i));
          expect(got).toEqual([...want].sort((a, b) => a - b));
          expect(scannedHits(set, buf, start, end)).toEqual(naiveHits(patterns, text, start, end));
        },
      ),
      { numRuns: 300, endOnFailure: true }, // shrinking 9 KB texts would take minutes
    );
  });

  test('the skip search (patterns of 6 bytes or more) agrees with a naive search, planted and overlapping occurrences included', () => {
    // A small alphabet makes shift-0 windows, partial matches and overlaps common.
    const alphabet = fc.constantFrom(...'ab+1@."'.split(''));
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: alphabet, minLength: 6, maxLength: 14 }), { minLength: 3, maxLength: 60 }),
        fc.string({ unit: alphabet, minLength: 4200, maxLength: 9000 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.nat(50),
        fc.nat(50),
        (given, randomText, spots, cutStart, cutEnd) => {
          // A pattern inside a longer one starts later and ends earlier: ends come out of order.
          const outer = given.find((p) => p.length >= 8);
          const patterns = outer ? [...given, outer.slice(1, -1)] : given;
          const chars = randomText.split('');
          const plant = (p: string, at: number) => {
            for (let k = 0; k < p.length && at + k >= 0 && at + k < chars.length; k++) chars[at + k] = p[k];
          };
          spots.forEach((spot, n) => plant(patterns[n % patterns.length], spot % chars.length));
          const start = Math.min(cutStart, chars.length);
          const end = Math.max(start, chars.length - cutEnd);
          // Occurrences that end on the range's last byte and start on its first.
          plant(outer ?? patterns[0], end - (outer ?? patterns[0]).length);
          plant(patterns[patterns.length - 1], start);
          const text = chars.join('');
          const buf = Buffer.from(text);
          const want = new Set<number>();
          for (const p of patterns) for (let i = start; i + p.length <= end; i++) if (text.startsWith(p, i)) want.add(i + p.length - 1);
          const set = compilePatterns(patterns.map((p) => Buffer.from(p)));
          expect(set.strategy).toBe('skip');
          const got: number[] = [];
          set.scanEnds(buf, start, end, (i) => got.push(i));
          expect(got).toEqual([...want].sort((a, b) => a - b));
          expect(scannedHits(set, buf, start, end)).toEqual(naiveHits(patterns, text, start, end));
        },
      ),
      { numRuns: 300, endOnFailure: true },
    );
  });

  test('the skip search in four lanes finds each occurrence across a quarter boundary exactly once, in either case', () => {
    // Lane q finds what starts in quarter q: plant occurrences starting at every offset around
    // each boundary (ending before it, straddling it, starting on it, and after it).
    const alphabet = fc.constantFrom(...'ab1.Z'.split(''));
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: alphabet, minLength: 6, maxLength: 11 }), { minLength: 3, maxLength: 8 }),
        fc.string({ unit: fc.constantFrom(...'xyz-'.split('')), minLength: 4096, maxLength: 5000 }),
        fc.nat(20),
        fc.integer({ min: -12, max: 12 }),
        fc.boolean(),
        (patterns, filler, cutStart, shiftAt, foldCase) => {
          const chars = filler.split('');
          const start = cutStart;
          const end = chars.length;
          const m = Math.min(...patterns.map((p) => p.length));
          const quarter = Math.floor((end - start) / 4);
          patterns.forEach((p, n) => {
            for (let q = 1; q < 4; q++) {
              const at = start + q * quarter + shiftAt + n * 13 - (n % 2) * (m + 3);
              for (let k = 0; k < p.length && at + k >= start && at + k < end; k++) chars[at + k] = foldCase && (at + k) % 2 ? p[k].toUpperCase() : p[k];
            }
          });
          const text = chars.join('');
          const buf = Buffer.from(text);
          const set = compilePatterns(patterns.map((p) => Buffer.from(p)), { foldCase });
          expect(set.strategy).toBe('skip');
          const want = foldCase ? naiveHits(patterns.map((p) => p.toLowerCase()), text.toLowerCase(), start, end) : naiveHits(patterns, text, start, end);
          expect(scannedHits(set, buf, start, end)).toEqual(want);
        },
      ),
      { numRuns: 300, endOnFailure: true },
    );
  });

  test('folding case, every search (skip, automaton in one and two lanes, occurrences) agrees with a naive case-insensitive search', () => {
    const alphabet = fc.constantFrom(...'aAbB@.1'.split(''));
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: alphabet, minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 20 }),
        fc.string({ unit: alphabet, minLength: 4200, maxLength: 6000 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (given, randomText, spots) => {
          const chars = randomText.split('');
          spots.forEach((spot, n) => {
            const p = given[n % given.length];
            // Planted in a random case.
            for (let k = 0; k < p.length && chars.length > 0; k++) chars[(spot + k) % chars.length] = spot % 2 ? p[k].toUpperCase() : p[k].toLowerCase();
          });
          const text = chars.join('');
          const buf = Buffer.from(text);
          for (const patterns of [given, given.filter((p) => p.length >= 6)]) {
            if (patterns.length === 0) continue;
            const set = compilePatterns(patterns.map((p) => Buffer.from(p)), { foldCase: true });
            expect(set.strategy).not.toBe('native');
            // The whole text (skip search or two lanes) and a short range (one lane).
            for (const end of [buf.length, 300]) {
              const want = naiveHits(patterns.map((p) => p.toLowerCase()), text.toLowerCase(), 0, end);
              expect(scannedHits(set, buf, 0, end)).toEqual(want);
              expect(set.occurrences(buf, 0, end).map((h) => [h.end - 1, h.pattern]).sort((a, b) => a[0] - b[0] || a[1] - b[1])).toEqual(want);
            }
          }
        },
      ),
      { numRuns: 100, endOnFailure: true }, // shrinking 6 KB texts would take minutes
    );
  });

  test('chooses its search by the patterns: native for one or two, skip for long ones, the automaton otherwise', () => {
    const long = (n: number) => Array.from({ length: n }, (_v, i) => Buffer.from(`+1514555${String(i).padStart(4, '0')}`));
    expect(compilePatterns(long(2)).strategy).toBe('native');
    expect(compilePatterns(long(74)).strategy).toBe('skip');
    expect(compilePatterns([...long(74), Buffer.from('ab12')]).strategy).toBe('automaton');
    expect(compilePatterns(long(1025)).strategy).toBe('automaton');
  });

  test('handles thousands of patterns', () => {
    const patterns = Array.from({ length: 5000 }, (_v, i) => Buffer.from(`+1514555${String(i).padStart(4, '0')}`));
    const set = compilePatterns(patterns);
    const text = Buffer.from('x sip:+15145554999@pbx +15145550001x +151455512345');
    const found = set.occurrences(text, 0, text.length).map((h) => h.pattern);
    expect(found).toEqual(expect.arrayContaining([4999, 1]));
    expect(found).toContain(1234);
  });
});

// ---------------------------------------------------------------------------------------------
// The property: RecordMatcher (prefilter + exact test) agrees with a slow, obviously correct
// reference on records that contain identifier values, near misses and escapes.

const CLASS_CHARS: Record<string, string> = {
  phone: '0123456789+',
  email: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-@',
  ipv4: '0123456789.',
  ipv6: '0123456789abcdefABCDEF:.',
  id: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-',
};

/** Reference: the definition, position by position. */
function refContinues(type: IdentifierType, value: string, ch: string): boolean {
  const set = type === 'phone' ? CLASS_CHARS.phone : type === 'email' ? CLASS_CHARS.email : type === 'ip' ? (value.includes(':') ? CLASS_CHARS.ipv6 : CLASS_CHARS.ipv4) : CLASS_CHARS.id;
  return ch.length === 1 && set.includes(ch);
}
function refTokenMatch(field: string, value: string, type: IdentifierType): boolean {
  if (value === '') return false;
  for (let i = 0; i + value.length <= field.length; i++) {
    if (field.slice(i, i + value.length) !== value) continue;
    const before = i > 0 ? field[i - 1] : '';
    const after = field[i + value.length] ?? '';
    const afterAfter = field[i + value.length + 1] ?? '';
    const beforeOk = before === '' || !refContinues(type, value, before);
    const afterOk = after === '' || !refContinues(type, value, after) || (after === '.' && (afterAfter === '' || !refContinues(type, value, afterAfter)));
    if (beforeOk && afterOk) return true;
  }
  return false;
}

describe('RecordMatcher agrees with the reference (fast-check)', () => {
  const types: IdentifierType[] = ['phone', 'email', 'ip', 'accountId', 'deviceId'];
  const valueArb = fc.oneof(
    fc.stringMatching(/^\+?[0-9]{2,6}$/),
    fc.stringMatching(/^[a-z]{1,4}(\.[a-z]{1,3})?@[a-z]{1,4}\.[a-z]{2}$/),
    fc.stringMatching(/^[0-9]{1,3}\.[0-9]{1,3}$/),
    fc.stringMatching(/^[a-f0-9]{1,3}::[a-f0-9]{1,2}$/),
    fc.stringMatching(/^cust-[0-9]{1,3}$/),
    fc.constantFrom('a.b*c', 'x"y', '(?:)', 'x\\y', 'josé', '😀', 'a,b', 'new\nline', 'ü@ü.de'),
  );
  const sep = fc.constantFrom('', ' ', 'sip:', '@', '.', ':', '"', '\\', ',', '\n', '\t', '<', '>', ';', 'é', '😀', '0', '9', '+', '-', '_', 'a', 'Z');

  function fieldArb(values: string[]): fc.Arbitrary<string> {
    const piece = fc.oneof(
      fc.constantFrom(...values),
      fc.constantFrom(...values).chain((v) => fc.constantFrom(`${v}1`, `1${v}`, `${v}.x`, `x.${v}`, v.slice(1), v.slice(0, -1), `${v}${v}`)),
      sep,
      fc.string({ maxLength: 4 }),
    );
    return fc.array(piece, { maxLength: 6 }).map((parts) => parts.join(''));
  }

  const scenario = fc
    .array(fc.tuple(fc.constantFrom(...types), valueArb), { minLength: 1, maxLength: 5 })
    .chain((ids) => {
      const values = ids.map(([, v]) => v);
      return fc.record({
        ids: fc.constant(ids),
        fields: fc.record({ a: fieldArb(values), b: fieldArb(values), c: fieldArb(values), d: fieldArb(values), e: fieldArb(values) }),
        // e is sometimes a JSON number (when a value reads as one): compared by its decimal text
        eAsNumber: fc.boolean(),
        escapeAll: fc.boolean(),
      });
    });

  const specs: RecordFieldSpec[] = [
    { path: 'a', identifier: 'phone', match: 'token' },
    { path: 'b', identifier: 'email', match: 'token' },
    { path: 'c.x', identifier: 'ip', match: 'token' },
    { path: 'd', identifier: 'accountId', match: 'value' },
    { path: 'a', identifier: 'accountId', match: 'token' },
    // deviceId is only ever a value field: the prefilter looks for it with its JSON quotes
    { path: 'e', identifier: 'deviceId', match: 'value' },
  ];
  const fieldOf = (rec: Record<string, string>, path: string) => (path === 'c.x' ? rec.c : rec[path]);

  /** Which subjects the reference says the record matches, with which fields. */
  function reference(ids: Array<[IdentifierType, string]>, rec: Record<string, string>): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    ids.forEach(([type, value], i) => {
      for (const s of specs) {
        if (s.identifier !== type) continue;
        const f = fieldOf(rec, s.path);
        const hit = s.match === 'value' ? value !== '' && f === value : refTokenMatch(f, value, type);
        if (!hit) continue;
        const list = (out[`s${i}`] ??= []);
        if (!list.includes(s.path)) list.push(s.path);
      }
    });
    return out;
  }

  function subjects(ids: Array<[IdentifierType, string]>): Map<string, Identity> {
    return new Map(ids.map(([type, value], i) => [`s${i}`, { [type]: [value] } as Identity]));
  }

  function sorted(m: Map<string, string[]> | Record<string, string[]>): Record<string, string[]> {
    const entries = m instanceof Map ? [...m.entries()] : Object.entries(m);
    return Object.fromEntries(entries.map(([k, v]) => [k, [...v].sort()]).sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  test('JSON Lines: raw prefilter + parse + exact match', () => {
    fc.assert(
      fc.property(scenario, ({ ids, fields: generated, escapeAll, eAsNumber }) => {
        const matcher = new RecordMatcher(specs, subjects(ids), 'jsonl');
        const numeric = ids.map(([, v]) => v).find((v) => /^[0-9]{1,15}$/.test(v) && !v.startsWith('0'));
        const eValue: string | number = eAsNumber && numeric ? Number(numeric) : generated.e;
        const fields = { ...generated, e: String(eValue) };
        const obj = { a: fields.a, b: fields.b, c: { x: fields.c }, d: fields.d, e: eValue };
        let line = JSON.stringify(obj);
        // Some serializers escape every non-ASCII character, "/" or "@": the prefilter must not care.
        if (escapeAll) line = line.replace(/[\u007f-\uffff@/+]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
        const raw = Buffer.from(line, 'utf8');
        const parsed = JSON.parse(line) as Record<string, unknown>;
        const got = matcher.match((p) => valuesAtPath(parsed, p), matcher.candidates(raw, 0, raw.length));
        // The prefilter is exact: trying only its candidates finds what trying every value finds.
        const all = matcher.match((p) => valuesAtPath(parsed, p));
        expect(sorted(got)).toEqual(sorted(all));
        // Values matched as written (ids, and values that do not normalize: a 4-digit "phone")
        // agree with the literal whole-token reference; normalized ones have their own properties
        // (test/core/identifiers.test.ts).
        const literal = new Set(ids.flatMap(([type, value], i) => (isVerbatim(type) || !targetOf(type, value).normalized ? [`s${i}`] : [])));
        const only = (m: Record<string, string[]>) => Object.fromEntries(Object.entries(m).filter(([k]) => literal.has(k)));
        expect(only(sorted(got))).toEqual(only(sorted(reference(ids, fields))));
      }),
      { numRuns: 1500 },
    );
  });

  test('a value written with an escape far from the line\'s other escapes is still a candidate (the rescan looks around each escape)', () => {
    const matcher = new RecordMatcher([{ path: 'd', identifier: 'deviceId', match: 'value' }], new Map([['s0', { deviceId: ['dev-77'] } as Identity]]), 'jsonl');
    const pad = 'x'.repeat(400);
    for (const written of [String.raw`dev-\u0037\u0037`, String.raw`\u0064ev-77`, 'dev-77']) {
      const line = String.raw`{"n":"\"Bob\" ${pad}","d":"` + written + String.raw`","m":"${pad}\"q\""}`;
      const raw = Buffer.from(line, 'utf8');
      expect([...matcher.candidates(raw, 0, raw.length)]).toEqual([0]);
    }
    const miss = Buffer.from(String.raw`{"n":"\"Bob\" ${pad}","d":"dev-\u0037\u00378","m":"\"q\""}`, 'utf8');
    expect([...matcher.candidates(miss, 0, miss.length)]).toEqual([]);
  });

  test('an escaped quote needs a second look only when some value holds a quote (quoted forms\' quotes are delimiters)', () => {
    const fields: RecordFieldSpec[] = [{ path: 'd', identifier: 'deviceId', match: 'value' }, { path: 'u', identifier: 'sipUsername', match: 'value' }];
    const line = Buffer.from(String.raw`{"n":"\"Bob\" <sip:u1@h>","d":"dev-1","u":"u1"}`, 'utf8');
    const plain = new RecordMatcher(fields, new Map([['s0', { deviceId: ['dev-1'], sipUsername: ['u1'] } as Identity]]), 'jsonl');
    expect(plain.escapeMayHideValue(line, 0, line.length)).toBe(false);
    expect([...plain.candidates(line, 0, line.length)].sort()).toEqual([0, 1]);
    const quoted = new RecordMatcher(fields, new Map([['s0', { deviceId: ['dev"1'] } as Identity]]), 'jsonl');
    expect(quoted.escapeMayHideValue(line, 0, line.length)).toBe(true);
    const hidden = Buffer.from(String.raw`{"d":"dev\"1"}`, 'utf8');
    expect([...quoted.candidates(hidden, 0, hidden.length)]).toEqual([0]);
  });

  test('the continuation classes are the documented ones', () => {
    const all = Array.from({ length: 128 }, (_v, i) => String.fromCharCode(i));
    for (const [type, value] of [['phone', '1'], ['email', 'a'], ['ip', '1.2'], ['ip', '::1'], ['accountId', 'a'], ['sipUsername', 'a'], ['deviceId', 'a'], ['subjectId', 'a']] as Array<[IdentifierType, string]>) {
      const c = continuationClass(type, value);
      for (const ch of all) expect([type, value, ch, c(ch.charCodeAt(0))]).toEqual([type, value, ch, refContinues(type, value, ch)]);
    }
    expect(containsToken('a', 'a', () => true)).toBe(true);
  });
});
